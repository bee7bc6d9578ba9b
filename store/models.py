"""The store's tables: the regulator's registry, submissions, their findings, late filings.

The schema itself is owned by the Alembic migrations in ``store/migrations``; these models must match
them (``tests/store/test_migrations.py`` compares the two on every backend).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

UTC = dt.UTC

# Stable constraint names, so that later migrations can refer to them on every backend (SQLite
# batch migrations in particular need every constraint to have a name).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class SubmissionState(StrEnum):
    """Where a submission is in its life (see ``repository.ALLOWED_TRANSITIONS``)."""

    RECEIVED = "received"
    VALIDATING = "validating"
    REJECTED = "rejected"
    NEEDS_CONFIRMATION = "needs_confirmation"
    ACCEPTED = "accepted"
    PUBLISHED = "published"


class SubmissionSource(StrEnum):
    """How a package reached the pipeline."""

    UPLOAD = "upload"
    LANDING = "landing"
    PULL = "pull"
    CLI = "cli"


class InstitutionKind(StrEnum):
    GOVERNMENT = "government"
    COMMERCIAL = "commercial"
    MIXED = "mixed"


class InstitutionStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXITED = "exited"


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """A timezone-aware instant, always handed back in UTC.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the value is stored as UTC and the
    zone re-attached on the way out. Naive datetimes are refused: in a pipeline that mixes Beijing
    time (filings, deadlines) and UTC (the server), a naive time is a bug waiting to happen.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _str_enum(enum_cls: type[StrEnum], name: str) -> sa.Enum:
    """A VARCHAR with a CHECK constraint holding the enum's values (not native PostgreSQL enums,
    which cannot gain a value inside a transaction and do not exist on SQLite)."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
    )


# JSONB on PostgreSQL (indexable, compact); None is stored as SQL NULL rather than JSON 'null'.
JSONType = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")

# Findings can number millions per filing, so their key is 64-bit; SQLite only auto-increments a
# column declared exactly INTEGER (which is 64-bit there anyway).
BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {dt.datetime: UTCDateTime()}  # noqa: RUF012


class Institution(Base):
    """A row of the regulator's registry (filing-template.md §5)."""

    __tablename__ = "institutions"

    institution_id: Mapped[str] = mapped_column(sa.String(18), primary_key=True)  # USCC
    name: Mapped[str] = mapped_column(sa.String(255))
    kind: Mapped[InstitutionKind] = mapped_column(_str_enum(InstitutionKind, "institution_kind"))
    focus_small_micro_agri: Mapped[bool] = mapped_column(sa.Boolean())
    district_code: Mapped[str] = mapped_column(sa.String(6))
    license_no: Mapped[str] = mapped_column(sa.String(64))
    pboc_area_code: Mapped[str] = mapped_column(sa.String(14))
    status: Mapped[InstitutionStatus] = mapped_column(_str_enum(InstitutionStatus, "institution_status"))
    # The guarantor's own endpoint, for the pull connector; most guarantors upload instead.
    pull_url: Mapped[str | None] = mapped_column(sa.String(2048))
    # template 1.1-draft (五(十一), 六(十六), 六(十四)): third-party rating and systemic importance
    rating_agency: Mapped[str | None] = mapped_column(sa.String(120))
    rating_grade: Mapped[str | None] = mapped_column(sa.String(8))
    rating_date: Mapped[str | None] = mapped_column(sa.String(10))  # YYYY-MM-DD
    systemic: Mapped[bool] = mapped_column(sa.Boolean(), default=False, server_default=sa.false())
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"Institution({self.institution_id!r}, {self.name!r}, {self.status!s})"


class Submission(Base):
    """One package as received. Never deleted or overwritten: a resubmission is a new row with the
    next ``sequence`` for its guarantor and period.

    ``institution_id`` deliberately has no foreign key to ``institutions``: a package from a guarantor
    missing from the registry must still be recorded (and kept) so that its rejection (FMT-006) can
    be shown and audited. For the same reason it is wider than a USCC: it holds what the manifest said.
    """

    __tablename__ = "submissions"
    __table_args__ = (
        sa.UniqueConstraint("institution_id", "period", "sequence"),
        sa.Index(None, "institution_id", "period", "package_sha256"),
        sa.Index(None, "period", "state"),
    )

    id: Mapped[int] = mapped_column(sa.Integer(), primary_key=True, autoincrement=True)
    institution_id: Mapped[str] = mapped_column(sa.String(64))
    period: Mapped[str] = mapped_column(sa.String(7))  # YYYY-MM
    sequence: Mapped[int] = mapped_column(sa.Integer())
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    source: Mapped[SubmissionSource] = mapped_column(_str_enum(SubmissionSource, "submission_source"))
    package_sha256: Mapped[str] = mapped_column(sa.String(64))
    package_bytes: Mapped[int] = mapped_column(sa.BigInteger())
    blob_key: Mapped[str] = mapped_column(sa.String(255))
    state: Mapped[SubmissionState] = mapped_column(
        _str_enum(SubmissionState, "submission_state"), default=SubmissionState.RECEIVED
    )
    state_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    template_version: Mapped[str | None] = mapped_column(sa.String(16))
    finding_counts: Mapped[dict[str, int] | None] = mapped_column(JSONType)  # {"error": n, "warning": n}
    accepted_at: Mapped[dt.datetime | None] = mapped_column()
    # when its datasets were written; with every delivery receipted, the submission is ``published``
    datasets_published_at: Mapped[dt.datetime | None] = mapped_column()
    # the planner's claim: when a run was last planned for it, and how many runs were (filings.lifecycle)
    planned_at: Mapped[dt.datetime | None] = mapped_column()
    plan_attempts: Mapped[int] = mapped_column(sa.Integer(), default=0, server_default="0")

    def __repr__(self) -> str:
        return (
            f"Submission(id={self.id}, {self.institution_id!r}, {self.period!r}, "
            f"#{self.sequence}, {self.state!s})"
        )


class Finding(Base):
    """One finding of a submission's validation, in the long form of ``validations.findings``.

    ``file``, ``column`` and ``value`` are unbounded text: they echo what the guarantor sent (an
    unknown column's header, a bad cell), and a length limit there would make recording fail on
    PostgreSQL exactly when the filing is most broken.
    """

    __tablename__ = "findings"
    __table_args__ = (sa.Index(None, "submission_id", "rule_id"),)  # also serves lookups by submission

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(sa.ForeignKey("submissions.id"))
    rule_id: Mapped[str] = mapped_column(sa.String(32))
    severity: Mapped[str] = mapped_column(sa.String(16))
    file: Mapped[str | None] = mapped_column(sa.Text())  # null for institution-level findings
    row: Mapped[int | None] = mapped_column(sa.BigInteger())  # 1-based data row
    column: Mapped[str | None] = mapped_column(sa.Text())
    value: Mapped[str | None] = mapped_column(sa.Text())
    message_zh: Mapped[str] = mapped_column(sa.Text())
    message_en: Mapped[str] = mapped_column(sa.Text())


class LateFiling(Base):
    """A registered guarantor that had filed nothing for ``period`` by ``deadline``."""

    __tablename__ = "late_filings"
    __table_args__ = (sa.UniqueConstraint("institution_id", "period"), sa.Index(None, "period"))

    id: Mapped[int] = mapped_column(sa.Integer(), primary_key=True, autoincrement=True)
    institution_id: Mapped[str] = mapped_column(sa.ForeignKey("institutions.institution_id"))
    period: Mapped[str] = mapped_column(sa.String(7))
    deadline: Mapped[dt.date] = mapped_column(sa.Date())
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# -- publication: the credit-information feed, the outbox and its receipts (outputs.md §3–5) -----


class OutboxKind(StrEnum):
    """What an outbox item carries, and so which endpoint takes it."""

    PBOC = "pboc"  # a credit-information file (征信报送), outputs.md §3
    CBRC = "cbrc"  # one guarantor's supervisory report (监管报送), §4
    CBRC_SUMMARY = "cbrc_summary"  # a period's summary across guarantors, §4


class OutboxState(StrEnum):
    """pending → sending (claimed, leased) → delivered (receipt stored) | failed (4xx, or gave up);
    sending → pending again when an attempt failed transiently or its lease ran out."""

    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


class FeedState(Base):
    """One credit-information feed of a guarantor: what the PBOC is to hold after it.

    ``state_key`` is a blob (Parquet, ``connectors.publish.pboc.STATE_SCHEMA``) of every account as
    last sent, assuming every record of this feed is accepted; ``accepted_key`` is the same once the
    feedback of each of the feed's files is in, with rejected records put back as they were before.
    The next feed is diffed against ``accepted_key`` only, so a rejected record is sent again.
    """

    __tablename__ = "feed_states"
    __table_args__ = (sa.UniqueConstraint("submission_id"), sa.Index(None, "institution_id", "period"))

    id: Mapped[int] = mapped_column(sa.Integer(), primary_key=True, autoincrement=True)
    institution_id: Mapped[str] = mapped_column(sa.ForeignKey("institutions.institution_id"))
    period: Mapped[str] = mapped_column(sa.String(7))
    submission_id: Mapped[int] = mapped_column(sa.ForeignKey("submissions.id"))
    base_id: Mapped[int | None] = mapped_column(sa.ForeignKey("feed_states.id"))  # the feed diffed against
    state_key: Mapped[str] = mapped_column(sa.String(255))
    accepted_key: Mapped[str | None] = mapped_column(sa.String(255))
    record_counts: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # {"440": {"10": n, …}, …}
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[dt.datetime | None] = mapped_column()


class OutboxItem(Base):
    """Something due to a regulator's endpoint, recorded in the transaction that made it due.

    The body lives in the blob store (``body_key``); ``idempotency_key`` (unique) is sent with every
    attempt, so a retry after a crash or a lost answer is recognised by the receiver. An item is
    ``delivered`` only together with its ``DeliveryReceipt``.
    """

    __tablename__ = "outbox_items"
    __table_args__ = (
        sa.UniqueConstraint("idempotency_key"),
        sa.Index(None, "state", "next_attempt_at"),
        sa.Index(None, "period", "kind"),
        sa.Index(None, "feed_id"),
    )

    id: Mapped[int] = mapped_column(sa.Integer(), primary_key=True, autoincrement=True)
    kind: Mapped[OutboxKind] = mapped_column(_str_enum(OutboxKind, "outbox_kind"))
    institution_id: Mapped[str | None] = mapped_column(sa.ForeignKey("institutions.institution_id"))
    period: Mapped[str] = mapped_column(sa.String(7))
    submission_id: Mapped[int | None] = mapped_column(sa.ForeignKey("submissions.id"))
    feed_id: Mapped[int | None] = mapped_column(sa.ForeignKey("feed_states.id"))
    idempotency_key: Mapped[str] = mapped_column(sa.String(128))
    file_name: Mapped[str | None] = mapped_column(sa.String(64))  # PBOC files only
    method: Mapped[str] = mapped_column(sa.String(8))
    endpoint: Mapped[str] = mapped_column(sa.String(255))  # path under the kind's base URL
    content_type: Mapped[str] = mapped_column(sa.String(64))
    body_key: Mapped[str] = mapped_column(sa.String(255))
    body_sha256: Mapped[str] = mapped_column(sa.String(64))
    body_bytes: Mapped[int] = mapped_column(sa.BigInteger())
    state: Mapped[OutboxState] = mapped_column(_str_enum(OutboxState, "outbox_state"), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(sa.Integer(), default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text())
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(sa.String(36))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column()
    delivered_at: Mapped[dt.datetime | None] = mapped_column()
    feedback_at: Mapped[dt.datetime | None] = mapped_column()  # PBOC: feedback file fetched
    feedback_key: Mapped[str | None] = mapped_column(sa.String(255))
    feedback_rejected: Mapped[int | None] = mapped_column(sa.Integer())

    def __repr__(self) -> str:
        return f"OutboxItem({self.id}, {self.kind!s}, {self.idempotency_key!r}, {self.state!s})"


class DeliveryReceipt(Base):
    """The receiver's answer to a delivered item, stored in the transaction that marks it delivered."""

    __tablename__ = "delivery_receipts"
    __table_args__ = (sa.UniqueConstraint("outbox_item_id"),)

    id: Mapped[int] = mapped_column(sa.Integer(), primary_key=True, autoincrement=True)
    outbox_item_id: Mapped[int] = mapped_column(sa.ForeignKey("outbox_items.id"))
    http_status: Mapped[int] = mapped_column(sa.Integer())
    receipt: Mapped[dict[str, Any]] = mapped_column(JSONType)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class FeedFeedback(Base):
    """One rejected record of a delivered PBOC file, as its feedback file listed it."""

    __tablename__ = "feed_feedback"
    __table_args__ = (sa.Index(None, "feed_id"), sa.Index(None, "outbox_item_id"))

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    feed_id: Mapped[int] = mapped_column(sa.ForeignKey("feed_states.id"))
    outbox_item_id: Mapped[int] = mapped_column(sa.ForeignKey("outbox_items.id"))
    file_name: Mapped[str] = mapped_column(sa.String(64))
    record_no: Mapped[int] = mapped_column(sa.Integer())  # 1-based record line of the file
    account_code: Mapped[str] = mapped_column(sa.String(255))  # the guarantee_id (as the receiver read it)
    report_date_code: Mapped[str] = mapped_column(sa.String(2))
    error_code: Mapped[str] = mapped_column(sa.String(16))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# -- the web portal: API tokens, warning confirmations, the audit trail (docs/portal.md) ----------


class TokenRole(StrEnum):
    """Who holds a portal token: a guarantor's user (that guarantor's data only), a lending bank (the
    guarantees it lends against, by ``lender_code``, and every guarantor's grade and rating), a
    regulator (reads everything), an admin (also manages tokens and the registry)."""

    GUARANTOR = "guarantor"
    BANK = "bank"
    REGULATOR = "regulator"
    ADMIN = "admin"


class ApiToken(Base):
    """A portal API token. Only the SHA-256 of its secret is stored: the secret is shown once, when the
    token is made, and a stolen database cannot be replayed. Tokens are revoked, never deleted, so that
    the audit trail and confirmations keep naming who acted."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        sa.UniqueConstraint("token_hash"),
        sa.CheckConstraint("(role = 'guarantor') = (institution_id IS NOT NULL)", name="guarantor_institution"),
        sa.CheckConstraint("(role = 'bank') = (lender_code IS NOT NULL)", name="bank_lender"),
        sa.Index(None, "institution_id"),
    )

    id: Mapped[int] = mapped_column(sa.Integer(), primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64))  # SHA-256 hex of the secret
    prefix: Mapped[str] = mapped_column(sa.String(16))  # the secret's first characters, to tell tokens apart
    role: Mapped[TokenRole] = mapped_column(_str_enum(TokenRole, "token_role"))
    institution_id: Mapped[str | None] = mapped_column(sa.ForeignKey("institutions.institution_id"))
    lender_code: Mapped[str | None] = mapped_column(sa.String(20))  # a bank token's lending institution
    label: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("api_tokens.id"))  # null: the CLI
    expires_at: Mapped[dt.datetime | None] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()

    def __repr__(self) -> str:
        return f"ApiToken({self.id}, {self.prefix!r}, {self.role!s}, {self.institution_id!r})"


class PortalSession(Base):
    """A browser session, opened when a token is exchanged at the login form. The cookie carries a
    random session id (signed); only its SHA-256 is stored, like a token's secret. Logging out ends the
    session here, so a copy of the cookie taken before stops working at once; revoking the token ends
    all of its sessions (every request checks the token too)."""

    __tablename__ = "portal_sessions"
    __table_args__ = (sa.UniqueConstraint("session_hash"), sa.Index(None, "token_id"))

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    session_hash: Mapped[str] = mapped_column(sa.String(64))  # SHA-256 hex of the cookie's session id
    token_id: Mapped[int] = mapped_column(sa.ForeignKey("api_tokens.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    ended_at: Mapped[dt.datetime | None] = mapped_column()  # logged out


class WarningConfirmation(Base):
    """A guarantor's written justification for a warning: one finding (``finding_id``), or every
    warning of ``rule_id`` in the submission (``finding_id`` null). ``finding_id`` has no foreign key
    on purpose: findings are derived data that a re-validation replaces, while a justification once
    given is kept (and shown to regulators) for good; ``file``/``row``/``column`` say what it was about."""

    __tablename__ = "warning_confirmations"
    __table_args__ = (sa.Index(None, "submission_id"),)

    id: Mapped[int] = mapped_column(sa.Integer(), primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(sa.ForeignKey("submissions.id"))
    rule_id: Mapped[str] = mapped_column(sa.String(32))
    finding_id: Mapped[int | None] = mapped_column(sa.BigInteger())
    file: Mapped[str | None] = mapped_column(sa.Text())
    row: Mapped[int | None] = mapped_column(sa.BigInteger())
    column: Mapped[str | None] = mapped_column(sa.Text())
    justification: Mapped[str] = mapped_column(sa.Text())
    confirmed_by: Mapped[int] = mapped_column(sa.ForeignKey("api_tokens.id"))
    confirmed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """One thing done or refused at the portal: who (token, if known), which route, what came of it.

    ``detail`` holds identifiers and reasons only: never a token secret, a package's content or a
    resident ID number.
    """

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index(None, "at"), sa.Index(None, "token_id"))

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    token_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_tokens.id"))
    role: Mapped[str | None] = mapped_column(sa.String(16))
    institution_id: Mapped[str | None] = mapped_column(sa.String(64))
    method: Mapped[str] = mapped_column(sa.String(8))
    route: Mapped[str] = mapped_column(sa.String(255))
    status: Mapped[int] = mapped_column(sa.Integer())
    outcome: Mapped[str] = mapped_column(sa.String(32))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
