"""Who is asking: API tokens (``Authorization: Bearer``) and the browser session that a token is
exchanged for at the login form, plus the CSRF check of the HTML forms.

Tokens are random secrets stored as SHA-256 hashes (``store.portal``), with a role (guarantor, bank,
regulator, admin), a guarantor for guarantor tokens, a lender code for bank tokens, an expiry and a
revocation time. Every request
looks its token up again, so revoking a token ends its browser sessions too.

The session cookie holds only the token's id and a random session id, signed (itsdangerous) and timed;
it is HttpOnly and SameSite=Strict. The session is also kept in the store (``portal_sessions``, the
session id hashed): logging out ends it there, so a copy of the cookie taken before no longer works. HTML forms carry a CSRF token: an HMAC, under the server's secret, of a random value
held in a second HttpOnly cookie (the signed double-submit pattern), so a page on another site can
neither read nor forge it. JSON writes need a Bearer header, which a browser never adds on its own, so
they need no CSRF token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.responses import Response

from store import portal as store_portal
from store.models import ApiToken, TokenRole
from web.audit import set_principal
from web.context import portal_of
from web.refusals import Refused

SESSION_COOKIE = "danbao_session"
CSRF_COOKIE = "danbao_csrf"
CSRF_FIELD = "csrf_token"
_SESSION_SALT = "danbao.session"
_PROBLEMS = {
    "unknown": "unknown token",
    "revoked": "this token has been revoked",
    "expired": "this token has expired",
}

bearer_scheme = HTTPBearer(auto_error=False, description="A portal API token: `Authorization: Bearer dbt_…`")


@dataclass(frozen=True)
class Principal:
    """The authenticated token behind a request."""

    token_id: int
    role: TokenRole
    institution_id: str | None
    label: str
    via: str  # "bearer" or "cookie"
    lender_code: str | None = None  # a bank token's lending institution (guarantees.lender_code)

    @property
    def is_guarantor(self) -> bool:
        return self.role == TokenRole.GUARANTOR

    @property
    def is_bank(self) -> bool:
        """A lending bank: it reads its own lending (``web.banks``) and every guarantor's grade and
        rating, and none of the guarantors' filings, findings or datasets."""
        return self.role == TokenRole.BANK

    @property
    def reads_everything(self) -> bool:
        return self.role in (TokenRole.REGULATOR, TokenRole.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == TokenRole.ADMIN

    def may_see(self, institution_id: str) -> bool:
        return self.reads_everything or institution_id == self.institution_id


def principal_of(token: ApiToken, via: str) -> Principal:
    return Principal(token.id, TokenRole(token.role), token.institution_id, token.label, via, token.lender_code)


def _refuse(problem: str) -> Refused:
    return Refused(401, f"{problem}_token", _PROBLEMS[problem],
                   headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def token_from_secret(request: Request, secret: str) -> ApiToken:
    """The usable token with this secret, or a 401 saying why not (unknown, revoked, expired)."""
    with portal_of(request).session() as session:
        token = store_portal.find_token(session, secret.strip())
        problem = store_portal.token_problem(token)
    if problem:
        raise _refuse(problem)
    assert token is not None
    return token


def authenticate(request: Request, *, allow_cookie: bool = True) -> Principal:
    header = request.headers.get("authorization")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Refused(401, "bad_authorization", "use `Authorization: Bearer <token>`",
                          headers={"WWW-Authenticate": "Bearer"})
        principal = principal_of(token_from_secret(request, secret), "bearer")
    elif allow_cookie and request.cookies.get(SESSION_COOKIE):
        principal = _from_session(request, request.cookies[SESSION_COOKIE])
    else:
        needs = "a Bearer token" if not allow_cookie else "a Bearer token or a login session"
        raise Refused(401, "unauthenticated", f"this needs {needs}", headers={"WWW-Authenticate": "Bearer"})
    set_principal(request, principal)
    return principal


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(portal_of(request).settings.secret, salt=_SESSION_SALT)


def _from_session(request: Request, cookie: str) -> Principal:
    max_age = portal_of(request).settings.session_max_age_s
    try:
        data = _serializer(request).loads(cookie, max_age=max_age)
        token_id, session_id = int(data["t"]), data["s"]
        if not isinstance(session_id, str):
            raise TypeError("session id")
    except SignatureExpired:
        raise Refused(401, "session_expired", "the session has expired: log in again") from None
    except (BadSignature, KeyError, TypeError, ValueError):
        raise Refused(401, "bad_session", "the session cookie is not valid: log in again") from None
    with portal_of(request).session() as session:
        ended = store_portal.session_problem(store_portal.find_session(session, session_id), token_id)
        token = store_portal.get_token(session, token_id)
        problem = store_portal.token_problem(token)
    if ended == "expired":
        raise Refused(401, "session_expired", "the session has expired: log in again")
    if ended:
        raise Refused(401, "session_ended", "this session has ended: log in again")
    if problem:
        raise _refuse(problem)
    assert token is not None
    return principal_of(token, "cookie")


def start_session(request: Request, response: Response, token: ApiToken) -> None:
    """Exchange a token for a session cookie (the browser never keeps the token itself): the session is
    recorded in the store, and the cookie names it."""
    portal = portal_of(request)
    max_age = portal.settings.session_max_age_s
    with portal.session() as session:
        _, session_id = store_portal.open_session(session, token.id, dt.timedelta(seconds=max_age))
    value = _serializer(request).dumps({"t": token.id, "s": session_id})
    response.set_cookie(SESSION_COOKIE, value, max_age=max_age,
                        httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/")


def end_session(request: Request, response: Response) -> int | None:
    """Log out: end the request's session in the store (so that the cookie is dead wherever a copy of
    it is) and drop the cookie. Returns the token id of the session ended, None when there was none."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        data = _serializer(request).loads(cookie)  # an expired session is ended all the same
        token_id, session_id = int(data["t"]), str(data["s"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    with portal_of(request).session() as session:
        ended = store_portal.close_session(session, session_id)
    return token_id if ended is not None and ended.token_id == token_id else None


# -- dependencies ---------------------------------------------------------------------------------


BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def any_principal(request: Request, _: BearerCredentials) -> Principal:
    """A Bearer token, or the browser's session (read-only routes and the pages)."""
    return authenticate(request)


def bearer_principal(request: Request, _: BearerCredentials) -> Principal:
    """A Bearer token only: the JSON routes that change something."""
    return authenticate(request, allow_cookie=False)


def require_role(principal: Principal, *roles: TokenRole) -> Principal:
    if principal.role not in roles:
        raise Refused(403, "forbidden", f"this needs a {' or '.join(str(r) for r in roles)} token")
    return principal


AnyPrincipal = Annotated[Principal, Depends(any_principal)]
BearerPrincipal = Annotated[Principal, Depends(bearer_principal)]


def regulator_principal(principal: AnyPrincipal) -> Principal:
    return require_role(principal, TokenRole.REGULATOR, TokenRole.ADMIN)


def admin_principal(principal: BearerPrincipal) -> Principal:
    return require_role(principal, TokenRole.ADMIN)


def bank_principal(principal: AnyPrincipal) -> Principal:
    return require_role(principal, TokenRole.BANK)


def filer_principal(principal: AnyPrincipal) -> Principal:
    """Anyone but a bank: the filings, findings and datasets are the guarantors' (each its own) and the
    regulators'; a bank reads its lending through its own routes."""
    return require_role(principal, TokenRole.GUARANTOR, TokenRole.REGULATOR, TokenRole.ADMIN)


RegulatorPrincipal = Annotated[Principal, Depends(regulator_principal)]
BankPrincipal = Annotated[Principal, Depends(bank_principal)]
FilerPrincipal = Annotated[Principal, Depends(filer_principal)]
AdminPrincipal = Annotated[Principal, Depends(admin_principal)]


# -- CSRF -----------------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """The token a form on this page must send back (a new cookie value is made when there is none;
    :func:`set_csrf_cookie` puts it on the response)."""
    value = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not value:
        value = request.state.new_csrf = secrets.token_urlsafe(32)
    return _mac(request, value)


def set_csrf_cookie(request: Request, response: Response) -> None:
    value = getattr(request.state, "new_csrf", None)
    if value:
        response.set_cookie(CSRF_COOKIE, value, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")


def check_csrf(request: Request, submitted: object) -> None:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not isinstance(submitted, str) or not hmac.compare_digest(_mac(request, cookie), submitted):
        raise Refused(403, "csrf", "the form's CSRF token is missing or wrong: reload the page and try again")


def _mac(request: Request, value: str) -> str:
    key = portal_of(request).settings.secret
    return hmac.new(key, f"csrf|{value}".encode(), hashlib.sha256).hexdigest()
