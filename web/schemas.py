"""The API's answers as typed models: what ``/openapi.json`` (and ``/docs``) describe for every
operation, including the refusals (401, 403, 404, 422) with the one error body every refusal has."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from store.models import SubmissionState


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")  # a field added later still reaches clients


class ErrorBody(BaseModel):
    error: str = Field(description="a stable code, e.g. `unknown_token`, `forbidden`, `not_found`, `invalid`")
    message: str = Field(description="what went wrong, in English (the pages add Chinese)")
    problems: list[dict[str, Any]] | None = Field(default=None, description="422 only: each invalid field")


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The documented refusals of an operation, all with ``ErrorBody``."""
    what = {
        401: "no token, or an unknown, expired or revoked one (`unauthenticated`, `unknown_token`, …)",
        403: "the token's role may not do this (`forbidden`), or another guarantor's package (`wrong_guarantor`)",
        404: "no such submission or dataset, or another guarantor's (`not_found`: the same answer for both)",
        409: "the submission is not waiting for confirmation (`not_awaiting_confirmation`)",
        422: "a parameter or body is invalid (`invalid`, with `problems`)",
    }
    return {s: {"model": ErrorBody, "description": what[s]} for s in statuses}


class Health(BaseModel):
    status: str


class Me(BaseModel):
    token_id: int
    role: str
    institution_id: str | None
    lender_code: str | None = None
    label: str | None


class WarningStatus(BaseModel):
    total: int
    confirmed: int
    outstanding: int
    outstanding_by_rule: dict[str, int]


class RuleCount(BaseModel):
    rule_id: str
    severity: str
    count: int
    title_zh: str
    title_en: str


class SubmissionItem(_Open):
    submission_id: int
    institution_id: str
    period: str
    sequence: int
    state: SubmissionState
    received_at: str | None = Field(description="UTC, ISO 8601 (the pages show Beijing time)")
    finding_counts: dict[str, int]
    sha256: str


class SubmissionList(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[SubmissionItem]


class SubmissionDetail(_Open):
    submission_id: int
    institution_id: str
    period: str
    sequence: int
    sha256: str
    bytes: int
    received_at: str | None
    state: SubmissionState
    links: dict[str, str]
    source: str
    state_changed_at: str | None
    accepted_at: str | None
    template_version: str | None
    finding_counts: dict[str, int]
    warnings: WarningStatus
    filing_of_record: bool
    filing_of_record_id: int | None
    findings_by_rule: list[RuleCount] = Field(description="the count of findings per rule, with its titles")


class RuleInfo(BaseModel):
    title_zh: str
    title_en: str
    citation: str
    source: str


class Finding(_Open):
    id: int
    rule_id: str
    severity: str
    file: str | None
    row: int | None
    column: str | None
    value: str | None
    message_zh: str
    message_en: str
    rule: RuleInfo
    confirmed: bool


class FindingsPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[Finding]


class Confirmation(BaseModel):
    id: int
    rule_id: str
    scope: str
    finding_id: int | None
    file: str | None
    row: int | None
    column: str | None
    justification: str
    confirmed_by: int
    confirmed_by_label: str | None
    confirmed_at: str | None


class ConfirmationList(BaseModel):
    items: list[Confirmation]


class ConfirmResult(BaseModel):
    submission_id: int
    recorded: int
    state: SubmissionState
    warnings: WarningStatus


class Partition(BaseModel):
    period: str
    institution_id: str | None
    version: int
    rows: int


class Dataset(BaseModel):
    name: str
    schema_version: Any
    partitions: list[Partition]
    periods: list[str]


class DatasetList(BaseModel):
    datasets: list[Dataset]


class TokenInfo(BaseModel):
    id: int
    prefix: str
    role: str
    institution_id: str | None
    lender_code: str | None = None
    label: str | None
    created_at: str | None
    expires_at: str | None
    revoked_at: str | None
    status: str


class NewToken(TokenInfo):
    secret: str = Field(description="shown only in this answer: the store keeps its hash")


class TokenList(BaseModel):
    items: list[TokenInfo]


class RegistryLoad(BaseModel):
    inserted: int
    updated: int
    unchanged: int


class Institution(BaseModel):
    institution_id: str
    name: str
    kind: str
    focus_small_micro_agri: bool
    district_code: str | None
    status: str


class Registry(BaseModel):
    items: list[Institution]


class AuditEvent(BaseModel):
    id: int
    at: str | None
    token_id: int | None
    role: str | None
    institution_id: str | None
    method: str
    route: str
    status: int
    outcome: str
    detail: dict[str, Any] | None


class AuditTrail(BaseModel):
    items: list[AuditEvent]


class BankGuarantorLine(BaseModel):
    """The bank's lending through one guarantor in the period; amounts in yuan as exact decimal text."""

    institution_id: str
    name: str
    guarantees: int
    active: int
    outstanding_balance: str
    overdue_amount: str | None = Field(description="null for a template 1.0 ledger, which does not carry it")
    non_performing_balance: str = Field(description="active rows classed 3–5 (次级, 可疑, 损失)")
    compensations: int
    compensation_paid: str
    payout_days_max: int | None = Field(description="the longest delay after the bank's claim (1.1 filings)")
    late_payouts: int = Field(description="payouts later than BNK-001's line after the bank's claim")


class GuarantorRating(BaseModel):
    """Every guarantor's grade (published) and third-party rating (registry)."""

    institution_id: str
    name: str
    status: str
    grade: str | None
    late_filing: bool
    rating_agency: str | None
    rating_grade: str | None
    rating_date: str | None


class BankOverview(BaseModel):
    lender_code: str
    period: str | None
    periods: list[str]
    payout_days_max: int | None = Field(description="BNK-001's line in calendar days at the period end")
    by_guarantor: list[BankGuarantorLine]
    compensations: list[dict[str, Any]] = Field(description="the period's payouts on the bank's guarantees")
    guarantors: list[GuarantorRating]


class GuarantorRatings(BaseModel):
    period: str | None
    items: list[GuarantorRating]
