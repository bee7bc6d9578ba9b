"""The threads a large filing is checked on (columns typed side by side, codes hashed in the
background, the statistical sections beside the rules) change nothing: the same filing checked with
every threshold at zero (threads for everything) and with none (the sequential path) gives the same
findings, in the same order, the same indicators and the same statistics."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from connectors.intake import read_package
from connectors.registry import read_registry_csv
from connectors.synthetic import generate_period
from validations.engine import validate

KINDS = {
    "phase 1": ["bad_date:7", "bad_amount:5", "unknown_column"],
    "phase 2": ["bad_code:4", "bad_uscc:3", "bad_ric:2", "duplicate_id:3", "bad_industry:2", "id_type_mismatch:2",
                "negative_amount:2", "empty_required:3"],
    "phase 4": [],
}


@pytest.mark.parametrize("case", sorted(KINDS))
def test_threaded_and_sequential_checks_agree(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = generate_period(tmp_path, 1, 3_000, "2026-10", "csv", seed=7, inject_kinds=KINDS[case])[0]
    registry = read_registry_csv(tmp_path / "registry.csv")

    def check(threshold: int | None) -> tuple:
        if threshold is not None:
            monkeypatch.setattr(sys.modules["validations.parse"], "_PARALLEL_ROWS", threshold)
            monkeypatch.setattr(sys.modules["validations.prudential.evaluate"], "_SIDE_ROWS", threshold)
        result = validate(read_package(package), registry)
        statistics = result.phase4.statistics if result.phase4 else None
        return result.findings.to_pylist(), result.to_json_dict(), statistics

    sequential = check(None)
    threaded = check(0)
    assert threaded == sequential
    phases = {"phase 1": 1, "phase 2": 2, "phase 4": 4}[case]
    assert {f["rule_id"][:3] for f in sequential[0]} >= ({"FMT"} if phases == 1 else {"SCH"} if phases == 2 else set())
    assert (sequential[2] is not None) == (phases == 4)  # the clean filing gets its statistics
