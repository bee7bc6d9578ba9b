"""A validation's typed result ↔ the archive: what the engine concluded, kept once and read back typed.

A filing that passed phases 1–3 is archived with its typed template tables, every finding, the
subsidies, the indicators and the grade with its measures
in the description (the indicators as JSON in which a ``Decimal`` stays a ``Decimal``). ``accepted_filing_of`` turns that back into ``validations.results.AcceptedFiling``
for datasets and publication: nothing is computed again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from decimal import Decimal
from typing import Any

import pyarrow as pa

from connectors.archive.store import TableBundle
from validations.context import Institution
from validations.engine import CheckResult
from validations.prudential.grades import GradeResult
from validations.results import AcceptedFiling, NotPublishableError, Phase4Outcome

TEMPLATE_FILES = ("guarantees", "financials", "compensations")
FINDINGS, SUBSIDIES = "findings", "subsidies"
DECIMAL = "$decimal"


def result_bundle(result: CheckResult, submission: dict[str, Any]) -> TableBundle:
    """The engine's ``result`` for ``submission`` (its id, institution_id, period, sequence, source)."""
    meta: dict[str, Any] = {
        **submission,
        "status": str(result.status),
        "phases_run": list(result.phases_run),
        "template_version": result.template_version,
        "institution": asdict(result.institution) if result.institution is not None else None,
        "grade": asdict(result.phase4.grade) if result.phase4 is not None else None,
        "indicators": _encode(result.phase4.indicators) if result.phase4 is not None else None,
        "statistics": _encode(result.phase4.statistics) if result.phase4 is not None else None,
    }
    tables: dict[str, pa.Table] = {FINDINGS: result.findings, **result.tables}
    if result.phase4 is not None:
        tables[SUBSIDIES] = result.phase4.subsidies
    return TableBundle(meta, tables)


def indicators_of(bundle: TableBundle) -> dict[str, Any] | None:
    value = bundle.meta.get("indicators")
    return None if value is None else _decode(value)


def _encode(value: Any) -> Any:
    """JSON-able, with every ``Decimal`` kept exactly as ``{"$decimal": "…"}``."""
    if isinstance(value, Decimal):
        return {DECIMAL: str(value)}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {DECIMAL}:
            return Decimal(value[DECIMAL])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def accepted_filing_of(bundle: TableBundle, accepted_at: dt.datetime | None = None) -> AcceptedFiling:
    """The accepted filing a result bundle describes (from ``validation_result`` or ``accepted_filing``)."""
    meta = bundle.meta
    indicators = indicators_of(bundle)
    if meta.get("grade") is None or meta.get("institution") is None or indicators is None:
        raise NotPublishableError(f"submission {meta.get('submission_id')}: no phase-4 results in the archive")
    graded = meta["grade"]
    outcome = Phase4Outcome(indicators, GradeResult(graded["grade"], graded["measures_zh"], graded["measures_en"],
                                                    tuple(graded["reasons"])), bundle.tables[SUBSIDIES],
                           None if meta.get("statistics") is None else _decode(meta["statistics"]))
    return AcceptedFiling(
        institution=Institution(**meta["institution"]),
        period=str(meta["period"]),
        submission_id=int(meta["submission_id"]),
        sequence=int(meta["sequence"]),
        accepted_at=accepted_at,
        template_version=meta.get("template_version"),
        tables={name: bundle.tables[name] for name in TEMPLATE_FILES if name in bundle.tables},
        findings=bundle.tables[FINDINGS],
        outcome=outcome,
    )
