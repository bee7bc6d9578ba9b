"""What the web portal asks of the store: API tokens, warning confirmations, the audit trail, and
findings with their ids (the portal links confirmations to single findings).

Like ``store.repository`` these functions flush but never commit: the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store import repository
from store.models import (
    ApiToken,
    AuditEvent,
    Finding,
    Institution,
    PortalSession,
    TokenRole,
    WarningConfirmation,
    utcnow,
)

TOKEN_PREFIX = "dbt_"
#: A justification shorter than this says nothing ("ok", "fine"); regulators read them.
MIN_JUSTIFICATION_CHARS = 10
MAX_JUSTIFICATION_CHARS = 4000
LENDER_CODE_MAX = 20  # guarantees.lender_code: string ≤ 20 (filing template 1.0)
WARNING = "warning"


class TokenError(ValueError):
    """A token that cannot be made as asked (role and guarantor do not fit, unknown guarantor)."""


class ConfirmationError(ValueError):
    """A confirmation that cannot be recorded (no such warning, justification too short)."""


# -- tokens ---------------------------------------------------------------------------------------


def hash_secret(secret: str) -> str:
    """The stored form of a token secret. A plain SHA-256 suffices: secrets are 256 random bits, so
    there is nothing to brute-force that a slow hash would protect."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(
    session: Session,
    role: TokenRole | str,
    *,
    institution_id: str | None = None,
    lender_code: str | None = None,
    label: str = "",
    expires_at: dt.datetime | None = None,
    created_by: int | None = None,
) -> tuple[ApiToken, str]:
    """Make a token; returns it and its secret, which is not stored and cannot be shown again. A bank
    token names its lending institution by the code guarantors file in the ledger's ``lender_code``."""
    role = TokenRole(role)
    lender_code = (lender_code or "").strip() or None
    if role == TokenRole.BANK:
        if lender_code is None:
            raise TokenError("a bank token needs the bank's lender_code (as guarantors file it in lender_code)")
        if len(lender_code) > LENDER_CODE_MAX:
            raise TokenError(f"a lender_code has at most {LENDER_CODE_MAX} characters (filing template 1.0)")
    elif lender_code is not None:
        raise TokenError(f"a {role} token is not bound to a lender")
    if role == TokenRole.GUARANTOR:
        if not institution_id:
            raise TokenError("a guarantor token needs the guarantor's institution_id")
        if session.get(Institution, institution_id) is None:
            raise TokenError(f"{institution_id} is not in the registry")
    elif institution_id:
        raise TokenError(f"a {role} token is not bound to a guarantor")
    if expires_at is not None and (expires_at.tzinfo is None or expires_at.utcoffset() is None):
        raise TokenError("expires_at must be timezone-aware")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        token_hash=hash_secret(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        role=role,
        institution_id=institution_id or None,
        lender_code=lender_code,
        label=label[:255],
        created_at=utcnow(),
        created_by=created_by,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, secret


def find_token(session: Session, secret: str) -> ApiToken | None:
    """The token whose secret this is, whatever its state (the caller tells expired from revoked)."""
    if not secret or len(secret) > 512:
        return None
    return session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret))).first()


def get_token(session: Session, token_id: int) -> ApiToken | None:
    return session.get(ApiToken, token_id)


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_token(session: Session, token_id: int) -> ApiToken | None:
    """Revoke a token (idempotent: the first revocation time is kept). None when there is no such token."""
    token = session.get(ApiToken, token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
    return token


def token_problem(token: ApiToken | None, now: dt.datetime | None = None) -> str | None:
    """Why ``token`` may not be used (``unknown``, ``revoked``, ``expired``), or None when it may."""
    if token is None:
        return "unknown"
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= (now or utcnow()):
        return "expired"
    return None


# -- browser sessions -----------------------------------------------------------------------------


def open_session(session: Session, token_id: int, lifetime: dt.timedelta) -> tuple[PortalSession, str]:
    """A new browser session for ``token_id``; returns it and its session id (for the cookie), of which
    only the SHA-256 is stored."""
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    row = PortalSession(session_hash=hash_secret(session_id), token_id=token_id, created_at=now,
                        expires_at=now + lifetime)
    session.add(row)
    session.flush()
    return row, session_id


def find_session(session: Session, session_id: str) -> PortalSession | None:
    if not session_id or len(session_id) > 512:
        return None
    return session.scalars(select(PortalSession).where(PortalSession.session_hash == hash_secret(session_id))).first()


def session_problem(row: PortalSession | None, token_id: int, now: dt.datetime | None = None) -> str | None:
    """Why a browser session may not be used (``unknown``, ``ended``, ``expired``), or None when it may.
    A session is ``unknown`` too when it belongs to another token than the cookie names."""
    if row is None or row.token_id != token_id:
        return "unknown"
    if row.ended_at is not None:
        return "ended"
    if row.expires_at <= (now or utcnow()):
        return "expired"
    return None


def close_session(session: Session, session_id: str) -> PortalSession | None:
    """End a browser session (logout); idempotent: the first end time is kept."""
    row = find_session(session, session_id)
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        session.flush()
    return row


# -- findings with their ids ----------------------------------------------------------------------




def findings_page(
    session: Session,
    submission_id: int,
    *,
    rule_id: str | None = None,
    severity: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """A submission's findings with their ``id`` (the portal confirms warnings by id): the store's one
    findings query (``repository.load_findings``), filtered and paged as it is counted."""
    return repository.load_findings(session, submission_id, rule_id, severity, limit, offset, with_id=True)


def rule_counts(session: Session, submission_id: int) -> list[tuple[str, str, int]]:
    """(rule_id, severity, count) of a submission's findings, by rule: the filter's choices."""
    columns = Finding.__table__.c
    query = (
        select(columns.rule_id, columns.severity, func.count())
        .where(columns.submission_id == submission_id)
        .group_by(columns.rule_id, columns.severity)
        .order_by(columns.rule_id)
    )
    return [(r, s, int(n)) for r, s, n in session.execute(query)]


# -- warning confirmations ------------------------------------------------------------------------


@dataclass(frozen=True)
class WarningStatus:
    """Which of a submission's warnings are confirmed."""

    total: int
    confirmed_ids: frozenset[int]
    outstanding_by_rule: dict[str, int] = field(default_factory=dict)

    @property
    def outstanding(self) -> int:
        return sum(self.outstanding_by_rule.values())

    @property
    def confirmed(self) -> int:
        return self.total - self.outstanding


def warning_status(session: Session, submission_id: int) -> WarningStatus:
    """Every warning finding of the submission, against its confirmations (by finding or by rule)."""
    columns = Finding.__table__.c
    warnings = list(
        session.execute(
            select(columns.id, columns.rule_id).where(
                columns.submission_id == submission_id, columns.severity == WARNING
            )
        )
    )
    confirmations = list_confirmations(session, submission_id)
    by_rule = {c.rule_id for c in confirmations if c.finding_id is None}
    by_finding = {c.finding_id for c in confirmations if c.finding_id is not None}
    confirmed = frozenset(int(i) for i, r in warnings if r in by_rule or i in by_finding)
    outstanding = Counter(r for i, r in warnings if int(i) not in confirmed)
    return WarningStatus(len(warnings), confirmed, dict(sorted(outstanding.items())))


def check_justification(text: str | None) -> str:
    justification = (text or "").strip()
    if len(justification) < MIN_JUSTIFICATION_CHARS:
        raise ConfirmationError(
            f"a justification of at least {MIN_JUSTIFICATION_CHARS} characters is required"
        )
    if len(justification) > MAX_JUSTIFICATION_CHARS:
        raise ConfirmationError(f"a justification is at most {MAX_JUSTIFICATION_CHARS} characters")
    return justification


def record_confirmations(
    session: Session,
    submission_id: int,
    *,
    confirmed_by: int,
    justification: str,
    finding_ids: Iterable[int] = (),
    rule_ids: Iterable[str] = (),
) -> list[WarningConfirmation]:
    """Confirm single warnings (``finding_ids``) and/or every warning of some rules (``rule_ids``),
    all with one justification. Everything is checked before anything is written: each id must be a
    warning of this submission, each rule must have warnings in it. Already confirmed findings are
    skipped, so a double submit of the form records nothing twice."""
    justification = check_justification(justification)
    wanted_ids = sorted({int(i) for i in finding_ids})
    wanted_rules = sorted({str(r) for r in rule_ids})
    if not wanted_ids and not wanted_rules:
        raise ConfirmationError("name the warnings (finding ids) or the rule to confirm")
    columns = Finding.__table__.c
    found: Mapping[int, Any] = {}
    if wanted_ids:
        found = {
            int(row.id): row
            for row in session.execute(
                select(columns.id, columns.rule_id, columns.severity, columns.file, columns.row, columns.column).where(
                    columns.submission_id == submission_id, columns.id.in_(wanted_ids)
                )
            )
        }
        bad = [i for i in wanted_ids if i not in found or found[i].severity != WARNING]
        if bad:
            raise ConfirmationError(f"not warnings of this submission: {', '.join(map(str, bad))}")
    status = warning_status(session, submission_id)
    if wanted_rules:
        all_rules = {
            r for (r,) in session.execute(
                select(columns.rule_id).where(columns.submission_id == submission_id, columns.severity == WARNING).distinct()
            )
        }
        bad_rules = [r for r in wanted_rules if r not in all_rules]
        if bad_rules:
            raise ConfirmationError(f"no warnings of rule {', '.join(bad_rules)} in this submission")
    now = utcnow()
    made: list[WarningConfirmation] = []
    for rule_id in wanted_rules:
        if status.outstanding_by_rule.get(rule_id, 0) == 0:
            continue  # every warning of the rule is confirmed already
        made.append(WarningConfirmation(submission_id=submission_id, rule_id=rule_id, finding_id=None,
                                        justification=justification, confirmed_by=confirmed_by, confirmed_at=now))
    covered = set(wanted_rules)
    for finding_id in wanted_ids:
        row = found[finding_id]
        if finding_id in status.confirmed_ids or row.rule_id in covered:
            continue
        made.append(WarningConfirmation(
            submission_id=submission_id, rule_id=row.rule_id, finding_id=finding_id, file=row.file, row=row.row,
            column=row.column, justification=justification, confirmed_by=confirmed_by, confirmed_at=now,
        ))
    session.add_all(made)
    session.flush()
    return made


def list_confirmations(session: Session, submission_id: int) -> list[WarningConfirmation]:
    return list(
        session.scalars(
            select(WarningConfirmation)
            .where(WarningConfirmation.submission_id == submission_id)
            .order_by(WarningConfirmation.id)
        )
    )


# -- audit ----------------------------------------------------------------------------------------


def record_audit(
    session: Session,
    *,
    method: str,
    route: str,
    status: int,
    outcome: str,
    token_id: int | None = None,
    role: str | None = None,
    institution_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=at or utcnow(),
        token_id=token_id,
        role=role,
        institution_id=institution_id,
        method=method[:8],
        route=route[:255],
        status=int(status),
        outcome=outcome[:32],
        detail=dict(detail) if detail else None,
    )
    session.add(event)
    session.flush()
    return event


def list_audit(
    session: Session, *, limit: int = 100, offset: int = 0, token_id: int | None = None,
    institution_id: str | None = None,
) -> list[AuditEvent]:
    """Newest first."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if token_id is not None:
        query = query.where(AuditEvent.token_id == token_id)
    if institution_id is not None:
        query = query.where(AuditEvent.institution_id == institution_id)
    return list(session.scalars(query.offset(offset).limit(limit)))


def count_audit(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0
