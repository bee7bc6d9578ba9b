"""The threads a large filing is checked on (columns typed side by side, codes hashed in the
background, phase 2's checks side by side and phase 3's beside them, the rows' and the measures' parts
and the statistical sections beside the measures and the rules) change nothing: the same filing checked with
every threshold at zero (threads for everything) and with none (the sequential path) gives the same
findings, in the same order, the same indicators and the same statistics."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest

from connectors.intake import read_package
from connectors.registry import read_registry_csv
from connectors.synthetic import generate_period
from validations.codes import Codes
from validations.engine import validate
from validations.findings import Findings
from validations.phases.common import flag, run_checks, run_phases

KINDS = {
    "phase 1": ["bad_date:7", "bad_amount:5", "unknown_column"],
    "phase 2": ["bad_code:4", "bad_uscc:3", "bad_ric:2", "duplicate_id:3", "bad_industry:2", "id_type_mismatch:2",
                "negative_amount:2", "empty_required:3"],
    "phase 3": ["maturity_before_start:3", "outstanding_over_guaranteed:2", "guaranteed_over_loan:2",
                "party_in_two_groups:2", "orphan_compensation:1", "wrong_period_end:1", "shares_over_one:2"],
    "phase 4": [],
}


@pytest.mark.parametrize("case", sorted(KINDS))
def test_threaded_and_sequential_checks_agree(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = generate_period(tmp_path, 1, 3_000, "2026-10", "csv", seed=7, inject_kinds=KINDS[case])[0]
    registry = read_registry_csv(tmp_path / "registry.csv")

    def check(threshold: int | None) -> tuple:
        if threshold is not None:
            monkeypatch.setattr(sys.modules["validations.side_by_side"], "PARALLEL_ROWS", threshold)
            monkeypatch.setattr(sys.modules["validations.prudential.evaluate"], "_SIDE_ROWS", threshold)
        result = validate(read_package(package), registry)
        statistics = result.phase4.statistics if result.phase4 else None
        return result.findings.to_pylist(), result.to_json_dict(), statistics

    sequential = check(None)
    threaded = check(0)
    assert threaded == sequential
    phases = {"phase 1": 1, "phase 2": 2, "phase 3": 3, "phase 4": 4}[case]
    expected = {1: {"FMT"}, 2: {"SCH"}, 3: {"BIZ"}, 4: set()}[phases]
    assert {f["rule_id"][:3] for f in sequential[0]} >= expected
    assert (sequential[2] is not None) == (phases == 4)  # the clean filing gets its statistics


@pytest.mark.parametrize("threshold", [None, 0])  # sequential, then every side thread
def test_a_check_without_the_statistics_concludes_the_same(threshold: int | None, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """``danbao check`` leaves out the statistical sections (they feed the CBRC report only): the
    findings, in their order, the status, the indicators and the grade are those of the full phase 4."""
    package = generate_period(tmp_path, 1, 3_000, "2026-10", "csv", seed=11,
                             inject_kinds=["npl_migration:3", "reguarantee_margin:2", "slow_payout:2"])[0]
    registry = read_registry_csv(tmp_path / "registry.csv")
    if threshold is not None:
        monkeypatch.setattr(sys.modules["validations.prudential.evaluate"], "_SIDE_ROWS", threshold)
    full = validate(read_package(package), registry)
    lean = validate(read_package(package), registry, with_statistics=False)
    assert full.phase4 is not None and full.phase4.statistics  # a clean filing: phase 4 ran
    assert lean.phase4 is not None and lean.phase4.statistics is None
    assert lean.findings.to_pylist() == full.findings.to_pylist()
    assert lean.to_json_dict() == full.to_json_dict()
    assert {f["rule_id"][:3] for f in full.findings.to_pylist()} & {"PRU", "EWS", "BNK", "NEG", "POL", "SUB"}


def test_checks_run_side_by_side_report_in_their_own_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first check finishes last; its findings still come first."""
    monkeypatch.setattr(sys.modules["validations.side_by_side"], "PARALLEL_ROWS", 0)
    finished: list[str] = []

    def check(rule_id: str, delay: float):
        def run(found: Findings) -> None:
            time.sleep(delay)
            flag(found, rule_id, "guarantees", "party_id", pa.array([True, False, True]), pa.array(["a", "b", "c"]))
            finished.append(rule_id)
        return run

    findings = Findings()
    run_checks([check("SCH-001", 0.3), check("SCH-002", 0.0), check("SCH-003", 0.1)], findings, rows=3)
    assert finished[0] != "SCH-001"  # it did run beside the others
    table = findings.to_table()
    assert table["rule_id"].to_pylist() == ["SCH-001", "SCH-001", "SCH-002", "SCH-002", "SCH-003", "SCH-003"]
    assert table["row"].to_pylist() == [1, 3, 1, 3, 1, 3]


def test_a_column_asked_for_by_several_threads_is_encoded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    table = pa.table({"party_id": pa.array([f"P{i % 500}" for i in range(20_000)]),
                      "status": pa.array(["active", None] * 10_000)})
    codes = Codes(table)
    encoded: list[str] = []
    real = Codes._encode

    def slow(self: Codes, column: str):
        encoded.append(column)
        time.sleep(0.2)  # long enough for every thread to ask while it runs
        return real(self, column)

    monkeypatch.setattr(Codes, "_encode", slow)
    results: list = []
    threads = [threading.Thread(target=lambda c=c: results.append(codes.encoded(c)))
               for c in ["party_id", "status"] * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(encoded) == ["party_id", "status"]  # each asked for by three threads, encoded once
    assert len(results) == 6
    indices, dictionary = codes.encoded("party_id")
    assert len(dictionary) == 500 and indices[:3].tolist() == [0, 1, 2]
    assert codes.is_null("status")[:2].tolist() == [False, True]


def _flagging(rule_id: str, delay: float = 0.0, finished: list[str] | None = None):
    def run(found: Findings) -> None:
        time.sleep(delay)
        flag(found, rule_id, "guarantees", "party_id", pa.array([True, False]), pa.array(["a", "b"]))
        if finished is not None:
            finished.append(rule_id)
    return run


def _failing(found: Findings) -> None:
    raise TypeError("met an empty required value")


@pytest.mark.parametrize("threshold", [None, 0])
def test_the_next_phase_runs_beside_and_counts_only_after_a_clean_one(threshold: int | None,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The next phase's checks run beside the first's (the slow first check ends last) and are listed
    after them, since the first phase found only a warning; said as each phase is concluded."""
    if threshold is not None:
        monkeypatch.setattr(sys.modules["validations.side_by_side"], "PARALLEL_ROWS", threshold)
    finished: list[str] = []
    said: list[int] = []
    findings = Findings()
    concluded = run_phases([[_flagging("FMT-008", 0.3 if threshold == 0 else 0, finished)],
                            [_flagging("BIZ-003", 0, finished), _flagging("BIZ-006", 0, finished)]],
                           findings, rows=2, starting=said.append)
    assert concluded == 2 and said == [0, 1]
    assert findings.to_table()["rule_id"].to_pylist() == ["FMT-008", "BIZ-003", "BIZ-006"]
    if threshold == 0:
        assert finished[-1] == "FMT-008"  # the next phase did not wait for the first


@pytest.mark.parametrize("threshold", [None, 0])
def test_an_error_hides_the_next_phase_and_its_failures(threshold: int | None,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    if threshold is not None:
        monkeypatch.setattr(sys.modules["validations.side_by_side"], "PARALLEL_ROWS", threshold)
    findings = Findings()
    # SCH-001 is an error: phase 3 (a warning and a check that fails on what phase 2 refused) is not seen
    concluded = run_phases([[_flagging("SCH-001")], [_flagging("BIZ-003"), _failing]], findings, rows=2)
    assert concluded == 1
    assert findings.to_table()["rule_id"].to_pylist() == ["SCH-001"]


def test_a_failure_after_a_clean_phase_is_raised() -> None:
    findings = Findings()
    with pytest.raises(TypeError, match="empty required"):
        run_phases([[_flagging("BIZ-003")], [_failing]], findings, rows=2)  # BIZ-003 is a warning
