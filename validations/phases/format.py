"""Phase 1 — format (FMT-001..008): what the intake found, the registry and period (FMT-006), and
each file's header and cell types (FMT-004, FMT-005, FMT-008)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

from schemas import SUPPORTED_VERSIONS, get_template
from validations.catalog import rule
from validations.context import Institution, Period
from validations.filing import RawFiling
from validations.findings import Findings
from validations.parse import ParsedFile, parse_file


def check_registry_and_period(
    filing: RawFiling, registry: Mapping[str, Institution], now: dt.datetime, findings: Findings
) -> tuple[Institution | None, Period | None]:
    """FMT-006: a registered, active guarantor filing for a month that has ended."""
    r = rule("FMT-006")
    institution = registry.get(filing.institution_id or "")
    if filing.institution_id and institution is None:
        findings.add(r.finding("担保机构不在监管名录中", "the guarantor is not in the registry",
                               file="manifest.json", column="institution_id", value=filing.institution_id))
    elif institution is not None and institution.status != "active":
        findings.add(r.finding(f"担保机构状态为 {institution.status}", f"the guarantor's status is {institution.status}",
                               file="manifest.json", column="institution_id", value=filing.institution_id))
    period = None
    if filing.period:
        try:
            period = Period.parse(filing.period)
        except ValueError:
            period = None  # malformed: FMT-001 from the manifest check
    if period is not None and not period.is_closed(now):
        findings.add(r.finding(f"报告期 {period} 尚未结束", f"the period {period} has not ended",
                               file="manifest.json", column="period", value=str(period)))
    return institution, period


def parse_files(filing: RawFiling, findings: Findings,
                encode_also: Mapping[str, Collection[str]] | None = None) -> dict[str, ParsedFile]:
    """Header mapping and typed parse of every file that could be read. Each file's text table is taken
    from the filing (``RawFile.take_table``): the parsed file keeps the text its findings report.
    ``encode_also`` names, per file, the columns besides the code lists to dictionary-encode while parsing."""
    if filing.template_version not in SUPPORTED_VERSIONS:
        return {}
    template = get_template(filing.template_version)
    parsed: dict[str, ParsedFile] = {}
    for spec in template.files:
        raw = filing.files.get(spec.name)
        if raw is None:
            continue
        result = parse_file(spec, raw.take_table(), findings, (encode_also or {}).get(spec.name, ()))
        if result is not None:
            parsed[spec.name] = result
    return parsed
