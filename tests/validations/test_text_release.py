"""The engine takes a filing's text tables and lets the filed text go once phases 1–3 are done (phase 4
reads typed values only): a million-row ledger's text is a few hundred MB that a check need not hold
while phase 4 allocates its own. What is released is never read again, and checking the same filing
twice is a clear error, never a silent check of nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.intake import read_package
from connectors.registry import read_registry_csv
from schemas import get_template
from validations.engine import FilingStatus, validate
from validations.findings import Findings
from validations.parse import parse_file

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def test_a_checked_filing_has_handed_its_tables_over() -> None:
    filing = read_package(SAMPLES / "valid-2026-10")
    first = validate(filing, read_registry_csv(SAMPLES / "registry.csv"))
    assert first.status != FilingStatus.REJECTED and 4 in first.phases_run
    assert all(raw.table is None for raw in filing.files.values())
    with pytest.raises(ValueError, match="already taken by a check; read the package again"):
        validate(filing, read_registry_csv(SAMPLES / "registry.csv"))


def test_released_text_cannot_be_read() -> None:
    filing = read_package(SAMPLES / "valid-2026-10")
    spec = get_template(filing.template_version).file("guarantees")
    raw = filing.files["guarantees"].take_table()
    as_filed = raw["outstanding_balance"][0].as_py().strip()
    parsed = parse_file(spec, raw, Findings())
    assert parsed is not None
    assert parsed.text["outstanding_balance"][0].as_py() == as_filed  # the text beside the typed decimals
    parsed.release_text()
    assert parsed.filed == {}
    with pytest.raises(RuntimeError, match=r"guarantees\.outstanding_balance: the filed text was released"):
        parsed.text["outstanding_balance"]
    assert parsed.typed["outstanding_balance"].null_count == 0  # the typed table stays whole

