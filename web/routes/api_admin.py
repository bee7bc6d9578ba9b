"""JSON API for people running the portal: who am I, tokens and the registry (admins), the registry and
the audit trail (regulators and admins)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from filings import intake
from store import portal as store_portal
from store import repository as repo
from store.models import ApiToken, TokenRole, utcnow
from web.audit import note
from web.auth import AdminPrincipal, AnyPrincipal, RegulatorPrincipal
from web.bounds import Offset, TokenId, TokenIdQuery
from web.context import portal_of
from web.refusals import Refused, not_found
from web.schemas import (
    AuditTrail,
    Health,
    Me,
    NewToken,
    Registry,
    RegistryLoad,
    TokenInfo,
    TokenList,
    refusals,
)
from web.views import iso

router = APIRouter(prefix="/api", tags=["administration"], responses=refusals(401, 403, 422))


class TokenRequest(BaseModel):
    role: TokenRole
    institution_id: str | None = Field(default=None, pattern=r"^[0-9A-Z]{18}$")
    lender_code: str | None = Field(default=None, min_length=1, max_length=20,
                                    description="a bank token's lending institution, as filed in guarantees.lender_code")
    label: str = Field(default="", max_length=255)
    expires_in_days: float | None = Field(default=None, gt=0, le=3660)


def token_json(token: ApiToken) -> dict[str, Any]:
    return {"id": token.id, "prefix": token.prefix, "role": str(token.role), "institution_id": token.institution_id,
            "lender_code": token.lender_code, "label": token.label, "created_at": iso(token.created_at), "expires_at": iso(token.expires_at),
            "revoked_at": iso(token.revoked_at), "status": store_portal.token_problem(token) or "active"}


@router.get("/health", tags=["meta"], response_model=Health)
def health() -> dict[str, str]:
    """Liveness, without authentication."""
    return {"status": "ok"}


@router.get("/me", tags=["meta"], response_model=Me)
def me(principal: AnyPrincipal) -> dict[str, Any]:
    """The token behind this request."""
    return {"token_id": principal.token_id, "role": str(principal.role), "institution_id": principal.institution_id,
            "lender_code": principal.lender_code, "label": principal.label}


@router.post("/admin/tokens", status_code=201, response_model=NewToken)
def create_token(request: Request, body: TokenRequest, principal: AdminPrincipal) -> dict[str, Any]:
    """Make a token. Its secret is in this answer and nowhere else: it is stored hashed."""
    expires = utcnow() + dt.timedelta(days=body.expires_in_days) if body.expires_in_days else None
    try:
        with portal_of(request).session() as session:
            token, secret = store_portal.create_token(session, body.role, institution_id=body.institution_id,
                                                      lender_code=body.lender_code, label=body.label, expires_at=expires, created_by=principal.token_id)
            answer = token_json(token)
    except store_portal.TokenError as exc:
        raise Refused(422, "invalid_token_request", str(exc)) from None
    note(request, "token_created", new_token_id=answer["id"], new_role=answer["role"],
         new_institution_id=answer["institution_id"], new_lender_code=answer["lender_code"])
    return {**answer, "secret": secret}


@router.get("/admin/tokens", response_model=TokenList)
def list_tokens(request: Request, _: AdminPrincipal) -> dict[str, Any]:
    with portal_of(request).session() as session:
        return {"items": [token_json(t) for t in store_portal.list_tokens(session)]}


@router.post("/admin/tokens/{token_id}/revoke", response_model=TokenInfo, responses=refusals(404))
def revoke_token(request: Request, token_id: TokenId, _: AdminPrincipal) -> dict[str, Any]:
    """Revoke a token: its API calls and browser sessions stop at once."""
    with portal_of(request).session() as session:
        token = store_portal.revoke_token(session, token_id)
        if token is None:
            raise not_found("no such token")
        answer = token_json(token)
    note(request, "token_revoked", revoked_token_id=token_id)
    return answer


@router.put("/admin/registry", response_model=RegistryLoad, openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {
    "schema": {"type": "string"}}}, "description": "the regulator's registry CSV (filing-template.md §5)"}})
async def load_registry(request: Request, _: AdminPrincipal) -> dict[str, int]:
    """Load the registry CSV: new guarantors inserted, changed ones updated."""
    data = await request.body()
    with tempfile.TemporaryDirectory(prefix="danbao-registry-") as tmp:
        path = Path(tmp) / "registry.csv"
        path.write_bytes(data)
        try:
            with portal_of(request).session() as session:
                result = intake.load_registry(session, path)
        except ValueError as exc:
            raise Refused(422, "invalid_registry", str(exc).replace(str(path), "registry.csv")) from None
    note(request, "registry_loaded", inserted=result.inserted, updated=result.updated)
    return {"inserted": result.inserted, "updated": result.updated, "unchanged": result.unchanged}


@router.get("/registry", response_model=Registry)
def registry(request: Request, _: RegulatorPrincipal) -> dict[str, Any]:
    """The regulator's registry as the store holds it."""
    with portal_of(request).session() as session:
        rows = repo.list_institutions(session)
        return {"items": [{"institution_id": i.institution_id, "name": i.name, "kind": str(i.kind),
                           "focus_small_micro_agri": i.focus_small_micro_agri, "district_code": i.district_code,
                           "status": str(i.status)} for i in rows]}


@router.get("/audit", response_model=AuditTrail)
def audit(request: Request, _: RegulatorPrincipal, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
          offset: Offset = 0, token_id: TokenIdQuery = None) -> dict[str, Any]:
    """The audit trail, newest first."""
    with portal_of(request).session() as session:
        events = store_portal.list_audit(session, limit=limit, offset=offset, token_id=token_id)
        return {"items": [{"id": e.id, "at": iso(e.at), "token_id": e.token_id, "role": e.role,
                           "institution_id": e.institution_id, "method": e.method, "route": e.route,
                           "status": e.status, "outcome": e.outcome, "detail": e.detail} for e in events]}
