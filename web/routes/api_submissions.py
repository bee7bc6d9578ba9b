"""JSON API: upload a package, follow the submission, read and download its findings, confirm warnings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from store import portal as store_portal
from store import repository as repo
from store.models import SubmissionState
from web.audit import note
from web.auth import AnyPrincipal, BearerPrincipal, Principal
from web.bounds import FindingId, Offset, SubmissionId
from web.context import portal_of
from web.filings import confirm_warnings, visible_submission, visible_submissions
from web.refusals import Refused
from web.schemas import (
    ConfirmationList,
    ConfirmResult,
    ErrorBody,
    FindingsPage,
    SubmissionDetail,
    SubmissionList,
    refusals,
)
from web.upload import ZIP_TYPES, Incoming, check_period_hint, from_parts, receive_upload
from web.views import (
    confirmation_json,
    finding_json,
    findings_csv,
    list_item_json,
    receipt_json,
    submission_json,
)

router = APIRouter(prefix="/api", tags=["submissions"], responses=refusals(401, 422))

RuleId = Annotated[str | None, Query(pattern=r"^[A-Z]{3}-\d{3}$", description="only this rule, e.g. SUB-001")]
Severity = Annotated[Literal["error", "warning"] | None, Query(description="only this severity")]
Period = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
FORM_FIELDS = ("package", "files")
DOWNLOAD_CHUNK = 5000


class Receipt(BaseModel):
    submission_id: int
    institution_id: str
    period: str
    sequence: int
    sha256: str
    bytes: int
    received_at: str
    state: SubmissionState
    created: bool = Field(description="false: these exact bytes were filed before; this is that submission")
    links: dict[str, str]


class ConfirmRequest(BaseModel):
    finding_ids: list[FindingId] = Field(default_factory=list, max_length=10_000, description="single warnings")
    rule_ids: list[str] = Field(default_factory=list, max_length=100, description="every warning of these rules")
    justification: str = Field(min_length=store_portal.MIN_JUSTIFICATION_CHARS,
                               max_length=store_portal.MAX_JUSTIFICATION_CHARS)


_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "One ZIP package as the body, or a form: `package` (one .zip, or the data files and "
                       "manifest.json, repeated) and optionally `period` (YYYY-MM) for a manifest that lacks it.",
        "content": {
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {"schema": {
                "type": "object",
                "properties": {"package": {"type": "array", "items": {"type": "string", "format": "binary"}},
                               "period": {"type": "string", "pattern": r"^\d{4}-\d{2}$"}},
                "required": ["package"],
            }},
        },
    }
}


async def read_incoming(request: Request) -> Incoming:
    """The package from the request body: raw ZIP or multipart form (read only after authentication)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    limits = portal_of(request).settings.limits
    if content_type in ZIP_TYPES:
        return Incoming(zip_bytes=await request.body(), period_hint=check_period_hint(request.query_params.get("period")))
    if content_type == "multipart/form-data":
        form = await request.form(max_files=limits.max_members + 1, max_fields=16, max_part_size=64 << 10)
        parts = [(f.filename or "", await f.read()) for name in FORM_FIELDS for f in form.getlist(name)
                 if isinstance(f, UploadFile)]
        period = form.get("period")
        return from_parts(parts, check_period_hint(period if isinstance(period, str) else None))
    raise Refused(415, "unsupported_media_type",
                  "send application/zip, or multipart/form-data with the package", detail={"content_type": content_type[:80]})


@router.post("/submissions", status_code=201, response_model=Receipt, openapi_extra=_UPLOAD_BODY,
             responses={200: {"description": "the same bytes were filed before", "model": Receipt},
                        403: {"model": ErrorBody, "description": "not a guarantor token, or a package for another guarantor"},
                        413: {"model": ErrorBody, "description": "too large, or a ZIP that expands too far"},
                        415: {"model": ErrorBody, "description": "not a package"},
                        422: {"model": ErrorBody, "description": "a ZIP trick or no manifest"}})
async def upload(request: Request, response: Response, principal: BearerPrincipal) -> dict[str, Any]:
    """File a package: its bytes are kept, the submission recorded, and the receipt returned at once."""
    return await _upload(request, response, principal)


async def _upload(request: Request, response: Response, principal: Principal) -> dict[str, Any]:
    if not principal.is_guarantor:  # before reading a byte of the body
        raise Refused(403, "forbidden", "only a guarantor's token can file a package")
    incoming = await read_incoming(request)
    result = await run_in_threadpool(receive_upload, portal_of(request), principal, incoming)
    s = result.submission
    note(request, "received" if result.created else "duplicate", submission_id=s.id, sequence=s.sequence,
         sha256=s.package_sha256, bytes=s.package_bytes, state=str(s.state))
    response.status_code = 201 if result.created else 200
    return receipt_json(s, result.created)


@router.get("/submissions", response_model=SubmissionList)
def list_submissions(
    request: Request, principal: AnyPrincipal, period: Period = None, state: SubmissionState | None = None,
    institution_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100, offset: Offset = 0,
) -> dict[str, Any]:
    """Submissions newest first: a guarantor sees its own, a regulator every guarantor's."""
    with portal_of(request).session() as session:
        found = visible_submissions(session, principal, period=period, state=state, institution_id=institution_id)
    return {"total": len(found), "limit": limit, "offset": offset,
            "items": [list_item_json(s) for s in found[offset:offset + limit]]}


@router.get("/submissions/{submission_id}", response_model=SubmissionDetail, responses=refusals(404))
def get_submission(request: Request, submission_id: SubmissionId, principal: AnyPrincipal) -> dict[str, Any]:
    """State, counts, warnings confirmed and outstanding, and whether it is the filing of record."""
    with portal_of(request).session() as session:
        return submission_json(session, visible_submission(session, principal, submission_id))


@router.get("/submissions/{submission_id}/findings", response_model=FindingsPage, responses=refusals(404))
def list_findings(
    request: Request, submission_id: SubmissionId, principal: AnyPrincipal, rule_id: RuleId = None,
    severity: Severity = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """One page of findings, with each rule's Chinese and English title and its citation."""
    with portal_of(request).session() as session:
        submission = visible_submission(session, principal, submission_id)
        total = repo.count_findings(session, submission.id, rule_id=rule_id, severity=severity)
        rows = store_portal.findings_page(session, submission.id, rule_id=rule_id, severity=severity,
                                          limit=limit, offset=offset)
        confirmed = store_portal.warning_status(session, submission.id).confirmed_ids
    return {"total": total, "limit": limit, "offset": offset, "items": [finding_json(r, confirmed) for r in rows]}


def _all_findings(request: Request, submission_id: SubmissionId, rule_id: str | None, severity: str | None) -> Iterator[dict[str, Any]]:
    """Every matching finding, a chunk per short transaction (a download may be large)."""
    portal = portal_of(request)
    with portal.session() as session:
        confirmed = store_portal.warning_status(session, submission_id).confirmed_ids
    offset = 0
    while True:
        with portal.session() as session:
            rows = store_portal.findings_page(session, submission_id, rule_id=rule_id, severity=severity,
                                              limit=DOWNLOAD_CHUNK, offset=offset)
        yield from (finding_json(r, confirmed) for r in rows)
        if len(rows) < DOWNLOAD_CHUNK:
            return
        offset += DOWNLOAD_CHUNK


def _download_start(request: Request, submission_id: SubmissionId, principal: Principal, fmt: str) -> str:
    with portal_of(request).session() as session:
        submission = visible_submission(session, principal, submission_id)
        name = f"findings-{submission.institution_id}-{submission.period}-{submission.sequence}.{fmt}"
    note(request, "download", submission_id=submission_id, format=fmt)
    return name


@router.get("/submissions/{submission_id}/findings.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}}, **refusals(404)})
def download_findings_csv(request: Request, submission_id: SubmissionId, principal: AnyPrincipal, rule_id: RuleId = None,
                          severity: Severity = None) -> StreamingResponse:
    """Every matching finding as CSV (UTF-8 with BOM)."""
    name = _download_start(request, submission_id, principal, "csv")
    return StreamingResponse(
        (line.encode("utf-8") for line in findings_csv(_all_findings(request, submission_id, rule_id, severity))),
        media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/submissions/{submission_id}/findings.json", response_class=StreamingResponse,
            responses={200: {"content": {"application/json": {}}}, **refusals(404)})
def download_findings_json(request: Request, submission_id: SubmissionId, principal: AnyPrincipal, rule_id: RuleId = None,
                           severity: Severity = None) -> StreamingResponse:
    """Every matching finding as one JSON array."""
    name = _download_start(request, submission_id, principal, "json")

    def body() -> Iterator[bytes]:
        yield b"["
        for i, item in enumerate(_all_findings(request, submission_id, rule_id, severity)):
            yield (b"," if i else b"") + json.dumps(item, ensure_ascii=False).encode("utf-8")
        yield b"]"

    return StreamingResponse(body(), media_type="application/json",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/submissions/{submission_id}/confirmations", response_model=ConfirmationList,
            responses=refusals(404))
def list_confirmations(request: Request, submission_id: SubmissionId, principal: AnyPrincipal) -> dict[str, Any]:
    """The guarantor's justifications for its warnings, as regulators read them."""
    with portal_of(request).session() as session:
        submission = visible_submission(session, principal, submission_id)
        items = store_portal.list_confirmations(session, submission.id)
        labels = {t.id: t.label for t in (store_portal.get_token(session, i) for i in {c.confirmed_by for c in items}) if t}
    return {"items": [confirmation_json(c, labels) for c in items]}


@router.post("/submissions/{submission_id}/confirmations", response_model=ConfirmResult,
             responses=refusals(403, 404, 409))
def confirm(request: Request, submission_id: SubmissionId, body: ConfirmRequest,
            principal: BearerPrincipal) -> dict[str, Any]:
    """Confirm warnings (single findings and/or whole rules) with a written justification; when the last
    warning is confirmed the filing is accepted."""
    done = confirm_warnings(portal_of(request), principal, submission_id, finding_ids=body.finding_ids,
                            rule_ids=body.rule_ids, justification=body.justification)
    note(request, "accepted" if done.submission.state == SubmissionState.ACCEPTED else "confirmed",
         submission_id=submission_id, recorded=done.recorded, outstanding=done.status.outstanding)
    return {"submission_id": submission_id, "recorded": done.recorded, "state": str(done.submission.state),
            "warnings": {"total": done.status.total, "confirmed": done.status.confirmed,
                         "outstanding": done.status.outstanding,
                         "outstanding_by_rule": done.status.outstanding_by_rule}}
