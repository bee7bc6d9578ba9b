"""The CBRC supervisory report (监管报送, outputs.md §4): one JSON document per guarantor and period,
and the period's summary across guarantors, each checked against its JSON Schema (draft 2020-12,
``connectors/publish/schemas/``) before it is queued, and again by the receiver.

Documents are canonical JSON (sorted keys, no insignificant space, UTF-8) without any time of their
own making, so the same filing always gives the same bytes, and the idempotency key derived from
them (outputs.md §5) stays the same whenever the report is rebuilt.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pyarrow.compute as pc

if TYPE_CHECKING:
    from validations.results import AcceptedFiling

# rules.md §5; as in validations.prudential.grades, which is imported only where a report is built, so
# that the receivers (which validate documents, never build them) do not load the rule engine
NO_FILING = "no accepted filing by the deadline"

SCHEMAS = Path(__file__).resolve().parent / "schemas"
REPORT, SUMMARY = "report", "summary"
_SCHEMA_FILES = {REPORT: "cbrc-report.schema.json", SUMMARY: "cbrc-summary.schema.json"}
REPORTED_PREFIXES = ("PRU-", "NEG-", "POL-", "EWS-", "BNK-")  # EWS/BNK: rules 1.2-draft, 1.1 filings only
SECTIONS = ("balance_sheet", "income_statement", "guarantee_flows", "liability_breakdown", "bank_cooperation",
            "policy_commercial_split", "plan_statistics")  # outputs.md 2.0 §4 (as validations.prudential.statistics)
NOT_COMPUTED = "not computed for this filing: it was validated before Danbao computed the statistical sections"
TOTALS = ("financing_exposure", "measured_financing_liability", "non_financing_exposure",
          "compensated_in_period", "subsidy_amount")  # fmt: skip


class DocumentError(ValueError):
    """A document does not satisfy its JSON Schema."""


@functools.cache
def schema(kind: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / _SCHEMA_FILES[kind]).read_text(encoding="utf-8"))


@functools.cache
def _validator(kind: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema(kind), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def check(document: Any, kind: str) -> None:
    """Raise ``DocumentError`` naming the first problems' paths and the rules they break if ``document``
    is not a valid ``kind``. The message never quotes the offending value: it may be an ID number."""
    errors = sorted(_validator(kind).iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        described = "; ".join(dict.fromkeys(_describe(e) for e in errors[:5]))
        raise DocumentError(f"not a valid CBRC {kind} ({len(errors)} problem(s)): {described}")


def _describe(error: jsonschema.ValidationError) -> str:
    where = "/".join(map(str, error.absolute_path)) or "(document)"
    if error.validator in ("required", "additionalProperties"):  # these messages quote keys, not values
        return f"{where}: {error.message}"
    return f"{where}: {error.validator} {_clip(json.dumps(error.validator_value, ensure_ascii=False))}"


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def canonical_json(document: Any) -> bytes:
    return json.dumps(_plain(document), ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def _plain(value: Any) -> Any:
    """JSON-able values: NaN and infinities (never meaningful in a report) become null."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal):  # an archived exact value, reported as the nearest number
        return float(value)
    return value


def build_report(filing: AcceptedFiling, *, late: bool = False) -> dict[str, Any]:
    """The report of one accepted filing. ``late``: no filing was accepted by the deadline, so the
    grade is D whatever the filing shows (rules.md §5)."""
    from validations.prudential.grades import MEASURES

    institution = filing.institution
    rule_ids = filing.findings["rule_id"]
    mask = pc.starts_with(rule_ids, REPORTED_PREFIXES[0])
    for prefix in REPORTED_PREFIXES[1:]:
        mask = pc.or_(mask, pc.starts_with(rule_ids, prefix))
    reported = filing.findings.filter(mask).select(
        ["rule_id", "severity", "file", "row", "column", "value", "message_zh", "message_en"]
    )
    findings = reported.to_pylist()
    grade, reasons = filing.grade.grade, list(filing.grade.reasons)
    if late:
        grade, reasons = "D", [NO_FILING, *reasons]
    zh, en = MEASURES[grade]
    statistics = filing.outcome.statistics or {}
    rating = None
    if institution.rating_grade:
        rating = {"agency": institution.rating_agency, "grade": institution.rating_grade, "date": institution.rating_date}
    document = {
        "document": "danbao.cbrc.report",
        "version": "2.0",
        "institution": {
            "institution_id": institution.institution_id,
            "name": institution.name,
            "kind": institution.kind,
            "district_code": institution.district_code,
            "license_no": institution.license_no,
            "rating": rating,
            "systemic": bool(institution.systemic),
        },
        "period": filing.period,
        "filing": {
            "submission_id": filing.submission_id,
            "sequence": filing.sequence,
            "accepted_at": filing.accepted_at.isoformat() if filing.accepted_at else None,
            "template_version": filing.template_version,
            "late": late,
        },
        "indicators": _plain(filing.indicators),
        "grade": {"grade": grade, "reasons": reasons, "measures_zh": zh, "measures_en": en},
        "findings": findings,
        "finding_counts": {
            "error": sum(1 for f in findings if f["severity"] == "error"),
            "warning": sum(1 for f in findings if f["severity"] == "warning"),
        },
        **{name: statistics.get(name) or {"null_reasons": {"*": NOT_COMPUTED}} for name in SECTIONS},
    }
    document = _plain(document)
    check(document, REPORT)
    return document


def run_off_line(institution_id: str, name: str, last_report: Mapping[str, Any] | None) -> dict[str, Any]:
    """An exited guarantor's run-off line (六(十四)): its last reported period and the exposure still in
    force then, from its last CBRC report. ``in_run_off`` is true while that exposure is above zero, and
    null when it never reported (nothing is known of its book)."""
    if last_report is None:
        return {"institution_id": institution_id, "name": name, "last_period": None, "financing_exposure": None,
                "non_financing_exposure": None, "in_run_off": None}
    indicators = last_report.get("indicators") or {}
    financing = round(float(indicators.get("financing_exposure") or 0.0), 2)
    non_financing = round(float(indicators.get("non_financing_exposure") or 0.0), 2)
    return {"institution_id": institution_id, "name": name, "last_period": last_report.get("period"),
            "financing_exposure": financing, "non_financing_exposure": non_financing,
            "in_run_off": financing + non_financing > 0}


def build_summary(
    period: str, reports: Iterable[Mapping[str, Any]], late: Iterable[Mapping[str, str]] = (),
    run_off: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The period's summary: each guarantor's latest report, and the registered guarantors recorded as
    late with no report (graded D, rules.md §5); ``run_off`` (lines of :func:`run_off_line`, exited
    guarantors, 六(十四)) is listed when there is any, so a summary without exits reads as before."""
    lines, totals = [], dict.fromkeys(TOTALS, 0.0)
    grades = dict.fromkeys("ABCD", 0)
    reported_ids = set()
    for report in sorted(reports, key=lambda r: r["institution"]["institution_id"]):
        indicators = report["indicators"]
        grade = report["grade"]["grade"]
        grades[grade] += 1
        reported_ids.add(report["institution"]["institution_id"])
        for key in TOTALS:
            totals[key] += float(indicators.get(key) or 0.0)
        lines.append({
            "institution_id": report["institution"]["institution_id"],
            "name": report["institution"]["name"],
            "grade": grade,
            "reasons": list(report["grade"]["reasons"]),
            "errors": report["finding_counts"]["error"],
            "warnings": report["finding_counts"]["warning"],
            "leverage_ratio": indicators.get("leverage_ratio"),
            "financing_exposure": float(indicators.get("financing_exposure") or 0.0),
            "report_sha256": hashlib.sha256(canonical_json(report)).hexdigest(),
            "template_version": report["filing"].get("template_version"),
            "early_warnings": sum(1 for f in report["findings"] if f["rule_id"].startswith("EWS-")),
            "rating_grade": (report["institution"].get("rating") or {}).get("grade"),
            "systemic": bool(report["institution"].get("systemic", False)),
        })  # fmt: skip
    missing = [
        {"institution_id": entry["institution_id"], "name": entry["name"], "grade": "D", "reason": NO_FILING}
        for entry in sorted(late, key=lambda e: e["institution_id"])
        if entry["institution_id"] not in reported_ids
    ]
    grades["D"] += len(missing)
    sections = _sum_sections(sorted(reports, key=lambda r: r["institution"]["institution_id"]))
    document = _plain({
        "document": "danbao.cbrc.summary",
        "version": "2.0",
        "sections": sections,
        "period": period,
        "guarantors": {"reported": len(lines), "late": len(missing)},
        "grades": grades,
        "reports": lines,
        "late": missing,
        "totals": {key: round(value, 2) for key, value in totals.items()},
    })  # fmt: skip
    exits = sorted(run_off, key=lambda line: line["institution_id"])
    if exits:
        document["run_off"] = _plain(exits)
    check(document, SUMMARY)
    return document


def _sum_sections(reports: list[Mapping[str, Any]]) -> dict[str, Any]:
    """outputs.md 2.0 §4's sections summed over the period's reports that carry them (an older report,
    or one whose sections were not computed, is counted in ``reports_without``)."""
    def add(target: dict[str, float], line: Mapping[str, Any], keys: tuple[str, ...]) -> None:
        for key in keys:
            target[key] = target.get(key, 0.0) + float(line.get(key) or 0)

    out: dict[str, Any] = {"reports_without": 0, "template_versions": {}, "balance_sheet": {}, "liability_breakdown": {},
                           "guarantee_flows": {}, "bank_cooperation": [], "policy_commercial_split": {}}
    banks: dict[str, dict[str, Any]] = {}
    balance = ("total_assets", "net_assets", "compensation_reserve", "unearned_premium_reserve")
    out["balance_sheet"] = dict.fromkeys(balance, 0.0)
    for report in reports:
        version = str(report["filing"].get("template_version"))
        out["template_versions"][version] = out["template_versions"].get(version, 0) + 1
        if "*" in (report.get("balance_sheet") or {"null_reasons": {"*": ""}})["null_reasons"]:
            out["reports_without"] += 1
            continue
        add(out["balance_sheet"], report["balance_sheet"], balance)
        for line in report["liability_breakdown"].get("by_weight_class", []):
            add(out["liability_breakdown"].setdefault(line["weight_class"], {}), line,
                ("count", "households", "exposure", "measured_liability"))
        for line in report["guarantee_flows"].get("by_business_type", []):
            add(out["guarantee_flows"].setdefault(line["business_type"], {}), line,
                ("new_count", "new_amount", "released_amount", "compensated_amount", "closing_balance"))
        for line in report["bank_cooperation"].get("by_lender", []):
            bank = banks.setdefault(line["lender_code"], {"lender_code": line["lender_code"], "guarantors": 0,
                                                          "active_count": 0, "exposure": 0.0, "compensation_paid": 0.0})
            bank["guarantors"] += 1
            bank["active_count"] += int(line.get("active_count") or 0)
            bank["exposure"] += float(line.get("exposure") or 0)
            bank["compensation_paid"] += float(line.get("compensation_paid") or 0)
        for line in report["policy_commercial_split"].get("by_account_type", []):
            add(out["policy_commercial_split"].setdefault(line["account_type"], {}), line,
                ("financing_exposure", "measured_financing_liability", "compensated_in_period"))
    out["bank_cooperation"] = [banks[code] for code in sorted(banks)]

    def rounded(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: rounded(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rounded(v) for v in value]
        return round(value, 2) if isinstance(value, float) else value

    return rounded(out)
