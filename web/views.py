"""How submissions, findings and confirmations look in JSON, CSV and on the pages: one place, so that
the API, the downloads and the HTML say the same thing."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy.orm import Session

from filings.record import filing_of_record
from store import portal as store_portal
from store.models import Submission, WarningConfirmation
from validations.catalog import rule as catalog_rule

STATE_LABELS = {
    "received": ("已接收", "received"),
    "validating": ("校验中", "validating"),
    "rejected": ("已退回", "rejected"),
    "needs_confirmation": ("待确认", "needs confirmation"),
    "accepted": ("已接受", "accepted"),
    "published": ("已发布", "published"),
}
FINDING_CSV_COLUMNS = ("id", "rule_id", "severity", "file", "row", "column", "value", "message_zh", "message_en",
                       "rule_title_zh", "rule_title_en", "citation", "confirmed")


def iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


def rule_info(rule_id: str) -> dict[str, str]:
    """The catalog's titles and citation of a rule (an unknown id, which the catalog never makes, shows bare)."""
    try:
        r = catalog_rule(rule_id)
    except KeyError:
        return {"title_zh": rule_id, "title_en": rule_id, "citation": "", "source": ""}
    return {"title_zh": r.title_zh, "title_en": r.title_en, "citation": r.citation, "source": r.source}


def receipt_json(submission: Submission, created: bool = True) -> dict[str, Any]:
    return {
        "submission_id": submission.id,
        "institution_id": submission.institution_id,
        "period": submission.period,
        "sequence": submission.sequence,
        "sha256": submission.package_sha256,
        "bytes": submission.package_bytes,
        "received_at": iso(submission.received_at),
        "state": str(submission.state),
        "created": created,
        "links": {"self": f"/api/submissions/{submission.id}", "findings": f"/api/submissions/{submission.id}/findings",
                  "page": f"/submissions/{submission.id}"},
    }


def submission_json(session: Session, submission: Submission) -> dict[str, Any]:
    """A submission with its warnings' confirmation status and whether it is the filing of record."""
    record = filing_of_record(session, submission.institution_id, submission.period)
    warnings = store_portal.warning_status(session, submission.id)
    body = receipt_json(submission)
    body.pop("created")
    body.update({
        "source": str(submission.source),
        "state_changed_at": iso(submission.state_changed_at),
        "accepted_at": iso(submission.accepted_at),
        "template_version": submission.template_version,
        "finding_counts": submission.finding_counts or {},
        "warnings": {"total": warnings.total, "confirmed": warnings.confirmed, "outstanding": warnings.outstanding,
                     "outstanding_by_rule": warnings.outstanding_by_rule},
        "filing_of_record": record is not None and record.id == submission.id,
        "filing_of_record_id": record.id if record is not None else None,
        "findings_by_rule": [
            {"rule_id": r, "severity": sev, "count": n, "title_zh": rule_info(r)["title_zh"],
             "title_en": rule_info(r)["title_en"]}
            for r, sev, n in store_portal.rule_counts(session, submission.id)
        ],
    })
    return body


def list_item_json(submission: Submission) -> dict[str, Any]:
    return {
        "submission_id": submission.id,
        "institution_id": submission.institution_id,
        "period": submission.period,
        "sequence": submission.sequence,
        "state": str(submission.state),
        "received_at": iso(submission.received_at),
        "finding_counts": submission.finding_counts or {},
        "sha256": submission.package_sha256,
    }


def finding_json(row: dict[str, Any], confirmed_ids: frozenset[int]) -> dict[str, Any]:
    info = rule_info(row["rule_id"])
    return {
        **row,
        "rule": info,
        "confirmed": row["severity"] == "warning" and int(row["id"]) in confirmed_ids,
    }


def confirmation_json(c: WarningConfirmation, labels: dict[int, str] | None = None) -> dict[str, Any]:
    return {
        "id": c.id,
        "rule_id": c.rule_id,
        "scope": "finding" if c.finding_id is not None else "rule",
        "finding_id": c.finding_id,
        "file": c.file,
        "row": c.row,
        "column": c.column,
        "justification": c.justification,
        "confirmed_by": c.confirmed_by,
        "confirmed_by_label": (labels or {}).get(c.confirmed_by),
        "confirmed_at": iso(c.confirmed_at),
    }


def findings_csv(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """Findings as CSV text, row by row (a download of many findings is streamed). Cells starting with
    a formula character are prefixed with ' so that a spreadsheet shows, not runs, what a guarantor sent."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FINDING_CSV_COLUMNS)
    yield "\ufeff" + _drain(buffer)  # BOM: Excel on a Chinese desktop reads UTF-8 only with it
    for row in rows:
        writer.writerow([_cell(row.get(c) if c not in ("rule_title_zh", "rule_title_en", "citation")
                               else row["rule"][c.removeprefix("rule_")]) for c in FINDING_CSV_COLUMNS])
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
