"""The shared worked examples (tests/data/samples) through phases 1–3."""

import json

from connectors.intake import read_package
from tests.packages import SAMPLES
from validations.engine import FilingStatus, validate


def _errors(result):
    return sorted([f["rule_id"], f["row"]] for f in result.findings.to_pylist() if f["severity"] == "error")


def test_invalid_sample_is_rejected_with_exactly_the_expected_errors(sample_registry):
    expected = json.loads((SAMPLES / "invalid-2026-10.expected.json").read_text())
    result = validate(read_package(SAMPLES / "invalid-2026-10"), sample_registry)
    assert result.status == FilingStatus.REJECTED == expected["status"]
    assert _errors(result) == sorted(expected["errors"])


def test_valid_sample_passes_phases_1_to_3_without_error(sample_registry):
    result = validate(read_package(SAMPLES / "valid-2026-10"), sample_registry)
    assert _errors(result) == []
    assert result.status != FilingStatus.REJECTED
    assert result.phases_run == [1, 2, 3, 4]
    assert result.tables["guarantees"].num_rows == 31
