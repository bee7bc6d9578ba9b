"""HTML pages: log in with a token, upload a package, follow it, read its findings, confirm warnings.

Forms post back to the pages (never to the JSON API) and carry a CSRF token; every page reads through
the same tenancy functions as the API (``web.filings``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from connectors.archive import FilingArchive
from connectors.archive.results import indicators_of
from store import portal as store_portal
from store import repository as repo
from store.models import SubmissionState
from web.audit import note, set_principal
from web.auth import (
    CSRF_FIELD,
    AnyPrincipal,
    Principal,
    authenticate,
    check_csrf,
    end_session,
    principal_of,
    start_session,
    token_from_secret,
)
from web.bounds import SubmissionId, in_range
from web.context import portal_of
from web.filings import confirm_warnings, visible_submission, visible_submissions
from web.format import indicator_rows
from web.messages import bilingual
from web.pages import render
from web.refusals import Refused
from web.upload import check_period_hint, from_parts, receive_upload
from web.views import STATE_LABELS, finding_json, rule_info

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
REFRESH_SECONDS = 3  # the page reloads itself while the submission is being validated (no script)
log = logging.getLogger(__name__)


def _archived_result(request: Request, submission: Any) -> dict[str, Any] | None:
    """The grade with its measures and the indicators the validation archived (phase 4), if it ran."""
    try:
        bundle = FilingArchive(portal_of(request).settings.tables_url).validation(
            submission.period, submission.institution_id, submission.sequence, tables=[])
    except Exception:  # the archive is optional for the page: say nothing rather than fail
        log.warning("cannot read the archived result of submission %s", submission.id, exc_info=True)
        return None
    if bundle is None or bundle.meta.get("grade") is None:
        return None
    return {"grade": bundle.meta["grade"], "indicators": indicator_rows(indicators_of(bundle))}


def _home_for(principal: Principal) -> str:
    if principal.is_bank:
        return "/bank"
    return "/submissions" if principal.is_guarantor else "/dashboard"


@router.get("/")
def index(request: Request) -> Response:
    try:
        principal = authenticate(request)
    except Refused:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(_home_for(principal), status_code=303)


@router.get("/login")
def login_page(request: Request) -> Response:
    return render(request, "login.html", {"error": None})


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=4)
    check_csrf(request, form.get(CSRF_FIELD))
    secret = form.get("token")
    try:
        if not isinstance(secret, str) or not secret.strip():
            raise Refused(401, "unauthenticated", "enter your token")
        token = await run_in_threadpool(token_from_secret, request, secret)
    except Refused as exc:
        note(request, "login_failed", reason=exc.code)
        return render(request, "login.html", {"error": bilingual(exc.code, exc.message, 401)}, status=401)
    principal = principal_of(token, "cookie")
    set_principal(request, principal)
    note(request, "login")
    response = RedirectResponse(_home_for(principal), status_code=303)
    await run_in_threadpool(start_session, request, response, token)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session on the server, not only in this browser: a copy of the cookie is dead too."""
    form = await request.form(max_files=0, max_fields=4)
    check_csrf(request, form.get(CSRF_FIELD))
    response = RedirectResponse("/login", status_code=303)
    token_id = await run_in_threadpool(end_session, request, response)
    note(request, "logout" if token_id is not None else "logout_without_session", session_token_id=token_id)
    return response


# -- submissions ----------------------------------------------------------------------------------


def _list_context(request: Request, principal: Principal, period: str | None, state: str | None) -> dict[str, Any]:
    with portal_of(request).session() as session:
        found = visible_submissions(session, principal, period=period, state=state)
        names = {i.institution_id: i.name for i in repo.list_institutions(session)}
    return {"submissions": found[:500], "names": names, "period": period or "", "state": state or "",
            "states": list(STATE_LABELS), "error": None}


@router.get("/submissions")
def submissions_page(
    request: Request,
    principal: AnyPrincipal,
    period: Annotated[str | None, Query(pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$")] = None,
    state: Annotated[SubmissionState | None, Query()] = None,
) -> Response:
    return render(request, "submissions.html", _list_context(request, principal, period or None, state))


@router.post("/submissions")
async def upload_page(request: Request, principal: AnyPrincipal) -> Response:
    """The upload form: the same door as ``POST /api/submissions``, then on to the submission's page."""
    if not principal.is_guarantor:
        raise Refused(403, "forbidden", "only a guarantor's token can file a package")
    limits = portal_of(request).settings.limits
    form: FormData = await request.form(max_files=limits.max_members + 1, max_fields=8, max_part_size=64 << 10)
    check_csrf(request, form.get(CSRF_FIELD))
    try:
        parts = [(f.filename or "", await f.read()) for f in form.getlist("package")
                 if isinstance(f, UploadFile) and (f.filename or f.size)]
        period = form.get("period")
        incoming = from_parts(parts, check_period_hint(period if isinstance(period, str) else None))
        result = await run_in_threadpool(receive_upload, portal_of(request), principal, incoming)
    except Refused as exc:
        note(request, exc.code, **exc.detail)
        context = await run_in_threadpool(_list_context, request, principal, None, None)
        return render(request, "submissions.html", {**context, "error": bilingual(exc.code, exc.message, exc.status)},
                      status=exc.status)
    s = result.submission
    note(request, "received" if result.created else "duplicate", submission_id=s.id, sequence=s.sequence,
         sha256=s.package_sha256, bytes=s.package_bytes, state=str(s.state))
    return RedirectResponse(f"/submissions/{s.id}" + ("" if result.created else "?duplicate=1"), status_code=303)


def _detail_context(request: Request, principal: Principal, submission_id: int, rule_id: str | None,
                    severity: str | None, page: int) -> dict[str, Any]:
    with portal_of(request).session() as session:
        submission = visible_submission(session, principal, submission_id)
        total = repo.count_findings(session, submission.id, rule_id=rule_id, severity=severity)
        rows = store_portal.findings_page(session, submission.id, rule_id=rule_id, severity=severity,
                                          limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        status = store_portal.warning_status(session, submission.id)
        confirmations = store_portal.list_confirmations(session, submission.id)
        labels = {c.confirmed_by: (t.label if (t := store_portal.get_token(session, c.confirmed_by)) else "")
                  for c in confirmations}
        rules = store_portal.rule_counts(session, submission.id)
        record = repo.last_accepted(session, submission.institution_id, submission.period)
        institution = repo.get_institution(session, submission.institution_id)
    query = {k: v for k, v in (("rule_id", rule_id), ("severity", severity)) if v}
    pending = submission.state in (SubmissionState.RECEIVED, SubmissionState.VALIDATING)
    return {
        "s": submission,
        "pending": pending,
        "refresh_seconds": REFRESH_SECONDS if pending else None,
        "result": _archived_result(request, submission) if not pending else None,
        "institution_name": institution.name if institution else "",
        "findings": [finding_json(r, status.confirmed_ids) for r in rows],
        "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE)), "query": query,
        "rule_id": rule_id or "", "severity": severity or "",
        "rules": [(r, sev, n, rule_info(r)) for r, sev, n in rules],
        "rule_total": sum(n for _, _, n in rules),
        "warnings": status,
        "outstanding_rules": [(r, n, rule_info(r)) for r, n in status.outstanding_by_rule.items()],
        "confirmations": confirmations, "labels": labels,
        "record": record,
        "can_confirm": principal.is_guarantor and submission.state == SubmissionState.NEEDS_CONFIRMATION,
        "error": None,
        "datadocs": _datadocs_pages(request, submission.id),
        "duplicate": request.query_params.get("duplicate") == "1",
        "confirmed": request.query_params.get("confirmed"),
    }


@router.get("/submissions/{submission_id}")
def submission_page(
    request: Request, submission_id: SubmissionId, principal: AnyPrincipal,
    rule_id: Annotated[str | None, Query(pattern=r"^([A-Z]{3}-\d{3})?$")] = None,
    severity: Annotated[str | None, Query(pattern=r"^(error|warning)?$")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    return render(request, "submission.html",
                  _detail_context(request, principal, submission_id, rule_id or None, severity or None, page))


@router.post("/submissions/{submission_id}/confirm")
async def confirm_page(request: Request, submission_id: SubmissionId, principal: AnyPrincipal) -> Response:
    """Confirm the ticked warnings and/or every warning of a rule, with one justification."""
    form = await request.form(max_files=0, max_fields=10_100)
    check_csrf(request, form.get(CSRF_FIELD))
    try:
        finding_ids = [int(v) for v in form.getlist("finding_id") if isinstance(v, str) and v.strip()]
    except ValueError:
        raise Refused(422, "invalid_confirmation", "finding ids are numbers") from None
    if not all(map(in_range, finding_ids)):
        raise Refused(422, "invalid_confirmation", "no such finding id")
    rule_ids = [v for v in form.getlist("rule_id") if isinstance(v, str) and v.strip()]
    justification = form.get("justification")
    try:
        done = await run_in_threadpool(
            lambda: confirm_warnings(portal_of(request), principal, submission_id, finding_ids=finding_ids,
                                     rule_ids=rule_ids, justification=justification if isinstance(justification, str) else ""))
    except Refused as exc:
        if exc.status == 404:
            raise
        note(request, exc.code, submission_id=submission_id)
        context = await run_in_threadpool(_detail_context, request, principal, submission_id, None, None, 1)
        return render(request, "submission.html", {**context, "error": bilingual(exc.code, exc.message, exc.status)},
                      status=exc.status)
    note(request, "accepted" if done.submission.state == SubmissionState.ACCEPTED else "confirmed",
         submission_id=submission_id, recorded=done.recorded, outstanding=done.status.outstanding)
    return RedirectResponse(f"/submissions/{submission_id}?confirmed={done.recorded}", status_code=303)


# -- GX Data Docs of a submission -------------------------------------------------------------------

DATADOCS_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css", ".js": "text/javascript",
                  ".png": "image/png", ".gif": "image/gif", ".svg": "image/svg+xml", ".ico": "image/x-icon",
                  ".json": "application/json", ".otf": "font/otf"}


def _datadocs_root(request: Request, submission_id: int) -> Path | None:
    base = portal_of(request).settings.datadocs_dir
    return None if base is None else Path(base) / f"submission-{submission_id}"


def _datadocs_pages(request: Request, submission_id: int) -> list[tuple[str, str]]:
    """(file, path under the Data Docs folder) of the latest validation page per template file, the index
    first; empty when `danbao suites run --submission ID` has not been run. Linked directly: the index's
    table of results is drawn by an inline script, which the pages' CSP does not run."""
    root = _datadocs_root(request, submission_id)
    if root is None or not (root / "index.html").is_file():
        return []
    pages = [("index", "index.html")]
    for name in ("guarantees", "financials", "compensations"):
        found = sorted((root / "validations").glob(f"**/danbao-{name}.html"))
        if found:
            pages.append((name, found[-1].relative_to(root).as_posix()))
    return pages


@router.get("/submissions/{submission_id}/datadocs/{path:path}")
def datadocs(request: Request, submission_id: SubmissionId, path: str, principal: AnyPrincipal) -> Response:
    """The submission's GX Data Docs (built by `danbao suites run --submission ID`), to whoever may read
    the submission: the same 404 for another guarantor's as for a missing one."""
    with portal_of(request).session() as session:
        visible_submission(session, principal, submission_id)
    root = _datadocs_root(request, submission_id)
    if root is None or not root.is_dir():
        raise Refused(404, "not_found", "no Data Docs for this submission (danbao suites run --submission ID)")
    target = (root / (path or "index.html")).resolve()
    if not target.is_relative_to(root.resolve()) or not target.is_file() or target.suffix not in DATADOCS_TYPES:
        raise Refused(404, "not_found", "no such Data Docs page")
    return FileResponse(target, media_type=DATADOCS_TYPES[target.suffix], headers={"Cache-Control": "no-store"})
