"""Supervisory grade (rules.md section 5), the filing deadline and the joint-discipline list."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from validations.catalog import rule
from validations.context import Period
from validations.findings import FINDINGS_SCHEMA
from validations.prudential import ReferenceData, discipline_list, filing_deadline, grade
from validations.prudential.grades import MEASURES, NO_FILING, DisciplineEntry, GradeResult, is_late


def findings(*rule_ids: str) -> pa.Table:
    """A findings table holding one finding of each rule, at the rule's catalog severity."""
    rows = [rule(rule_id).finding().as_dict() for rule_id in rule_ids]
    return pa.Table.from_pylist(rows, schema=FINDINGS_SCHEMA)


def test_a_without_findings_and_with_only_sub_or_earlier_phase_warnings():
    for table in (findings(), findings("SUB-001"), findings("FMT-008", "BIZ-003", "BIZ-006", "SUB-001")):
        result = grade(table)
        assert result.grade == "A" and result.reasons == ()
        assert (result.measures_zh, result.measures_en) == MEASURES["A"]
        assert "incentives" in result.measures_en


@pytest.mark.parametrize(
    "rule_id", ["POL-001", "POL-002", "POL-003", "PRU-005", "PRU-008", "NEG-002", "NEG-005"]
)
def test_b_for_each_grading_warning(rule_id):
    result = grade(findings(rule_id, "SUB-001"))
    assert (result.grade, result.reasons, result.measures_en) == ("B", (rule_id,), "none")


@pytest.mark.parametrize(
    "rule_id", ["PRU-002", "PRU-003", "PRU-007", "PRU-009", "PRU-010", "PRU-011", "NEG-001"]
)
def test_c_for_any_other_pru_or_neg_error(rule_id):
    result = grade(findings(rule_id, "POL-002"))
    assert (result.grade, result.reasons) == ("C", (rule_id,))
    assert "30" in result.measures_zh and "30 days" in result.measures_en


@pytest.mark.parametrize("rule_id", ["PRU-001", "PRU-004", "PRU-006", "NEG-003", "NEG-004"])
def test_d_for_the_five_rules(rule_id):
    result = grade(findings("PRU-002", rule_id, "POL-001"))
    assert (result.grade, result.reasons) == ("D", (rule_id,))
    assert "重点关注" in result.measures_zh and "15 days" in result.measures_en


def test_d_reasons_list_every_d_rule():
    assert grade(findings("NEG-004", "PRU-001", "PRU-002")).reasons == ("NEG-004", "PRU-001")


def test_d_without_an_accepted_filing():
    result = grade(None)
    assert (result.grade, result.reasons) == ("D", (NO_FILING,))


def test_filing_deadline_is_the_15th_of_the_following_month():
    ref = ReferenceData.load().as_of(dt.date(2026, 10, 31))
    assert filing_deadline(Period(2026, 10), ref) == dt.date(2026, 11, 15)
    assert filing_deadline(Period(2026, 12), ref) == dt.date(2027, 1, 15)
    assert not is_late(Period(2026, 10), dt.date(2026, 11, 15), ref)
    assert is_late(Period(2026, 10), dt.date(2026, 11, 16), ref)
    assert is_late(Period(2026, 10), None, ref)


def test_discipline_list_d_d_consecutive_but_not_d_b_d():
    grades = {
        "2026-08": {"X": "D", "Y": "D", "Z": "D", "W": "B"},
        "2026-09": {"X": "D", "Y": "B", "W": "D"},  # Z absent: no grade, the run is broken
        "2026-10": {"X": "B", "Y": "D", "Z": "D", "W": GradeResult("D", "", "", ())},
    }
    assert discipline_list(grades) == [
        DisciplineEntry("W", Period(2026, 9), Period(2026, 10)),
        DisciplineEntry("X", Period(2026, 8), Period(2026, 9)),
    ]


def test_discipline_list_across_a_year_and_the_latest_pair():
    grades = {Period(2026, 11): {"X": "D"}, Period(2026, 12): {"X": "D"}, Period(2027, 1): {"X": "D"}}
    assert discipline_list(grades) == [DisciplineEntry("X", Period(2026, 12), Period(2027, 1))]
    assert discipline_list({"2026-12": {"X": "D"}, "2027-02": {"X": "D"}}) == []
