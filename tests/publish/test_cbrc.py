"""The supervisory report and the period summary: built from the engine's result on the shared worked
example, valid against their JSON Schemas, canonical."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from types import SimpleNamespace

import pytest

from connectors.intake import IntakeLimits, read_package
from connectors.publish import cbrc
from tests.packages import SAMPLES, registry
from validations.engine import validate
from validations.prudential import grades
from validations.results import AcceptedFiling, NotPublishableError

ACCEPTED_AT = dt.datetime(2026, 11, 6, 9, 30, tzinfo=dt.UTC)


def accepted(result, submission) -> AcceptedFiling:
    return AcceptedFiling.of(result, submission_id=submission.id, sequence=submission.sequence,
                             period=submission.period, accepted_at=submission.accepted_at)


@pytest.fixture(scope="module")
def sample_filing():
    result = validate(read_package(SAMPLES / "valid-2026-10", IntakeLimits()), registry())
    submission = SimpleNamespace(id=41, period="2026-10", sequence=2, accepted_at=ACCEPTED_AT)
    return result, accepted(result, submission)


def test_report_holds_indicators_grade_measures_and_phase4_findings(sample_filing) -> None:
    result, filing = sample_filing
    report = cbrc.build_report(filing)
    cbrc.check(report, cbrc.REPORT)
    assert report["institution"]["institution_id"] == result.institution_id
    assert report["period"] == "2026-10" and report["filing"]["sequence"] == 2 and report["filing"]["late"] is False
    assert report["indicators"] == json.loads(json.dumps(result.indicators))
    assert report["grade"] == {"grade": "B", "reasons": ["POL-002"], "measures_zh": "无", "measures_en": "none"}
    expected = [f for f in result.findings.to_pylist() if f["rule_id"].split("-")[0] in ("PRU", "NEG", "POL")]
    assert report["findings"] == expected and expected  # SUB-001 is not a supervisory finding
    assert report["finding_counts"] == {"error": 0, "warning": len(expected)}


def test_report_is_canonical_and_reproducible(sample_filing) -> None:
    _, filing = sample_filing
    first, second = cbrc.canonical_json(cbrc.build_report(filing)), cbrc.canonical_json(cbrc.build_report(filing))
    assert first == second
    assert first == json.dumps(json.loads(first), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    assert "重庆".encode() in first  # UTF-8, not \\u escapes


def test_a_late_filing_is_graded_d_with_the_measures_of_d(sample_filing) -> None:
    _, filing = sample_filing
    report = cbrc.build_report(filing, late=True)
    assert report["grade"]["grade"] == "D"
    assert report["grade"]["reasons"] == [grades.NO_FILING, "POL-002"]
    assert report["grade"]["measures_en"].startswith("supervisory interview")
    assert cbrc.NO_FILING == grades.NO_FILING


def test_summary_across_guarantors(sample_filing) -> None:
    _, filing = sample_filing
    report = cbrc.build_report(filing)
    late = [{"institution_id": "915001133H3C325718", "name": "重庆某商业融资担保有限公司"},
            {"institution_id": report["institution"]["institution_id"], "name": "reported after all"}]
    summary = cbrc.build_summary("2026-10", [report], late)
    cbrc.check(summary, cbrc.SUMMARY)
    assert summary["guarantors"] == {"reported": 1, "late": 1}
    assert summary["grades"] == {"A": 0, "B": 1, "C": 0, "D": 1}
    assert summary["reports"][0]["report_sha256"] == hashlib.sha256(cbrc.canonical_json(report)).hexdigest()
    assert summary["late"] == [{"institution_id": "915001133H3C325718", "name": "重庆某商业融资担保有限公司",
                                "grade": "D", "reason": grades.NO_FILING}]
    assert summary["totals"]["financing_exposure"] == round(report["indicators"]["financing_exposure"], 2)


def test_documents_outside_the_schema_are_refused(sample_filing) -> None:
    _, filing = sample_filing
    report = cbrc.build_report(filing)
    for broken, where in [
        ({**report, "period": "2026-13"}, "period"),
        ({**report, "extra": 1}, "(document)"),
        ({**report, "findings": [{**report["findings"][0], "rule_id": "SUB-001"}]}, "findings/0/rule_id"),
        ({**report, "indicators": {k: v for k, v in report["indicators"].items() if k != "leverage_ratio"}}, "indicators"),
    ]:
        with pytest.raises(cbrc.DocumentError, match=where):
            cbrc.check(broken, cbrc.REPORT)


def test_non_finite_numbers_become_null() -> None:
    assert cbrc.canonical_json({"a": float("inf"), "b": [float("nan"), 1.5]}) == b'{"a":null,"b":[null,1.5]}'


def test_a_rejected_filing_is_not_published() -> None:
    result = validate(read_package(SAMPLES / "invalid-2026-10", IntakeLimits()), registry())
    with pytest.raises(NotPublishableError):
        accepted(result, SimpleNamespace(id=1, period="2026-10", sequence=1, accepted_at=None))


def test_the_archived_result_gives_the_same_report(sample_filing, tmp_path) -> None:
    """Publication reads the result archived at validation; the report is the one the engine's result gives."""
    from connectors.archive import FilingArchive
    from connectors.archive.results import accepted_filing_of, result_bundle

    result, filing = sample_filing
    archive = FilingArchive(tmp_path)
    who = {"submission_id": 41, "institution_id": result.institution_id, "period": "2026-10", "sequence": 2,
           "source": "upload"}
    archive.write("validation_result/2026-10/x", result_bundle(result, who))
    rebuilt = accepted_filing_of(archive.validation("2026-10", "x", 2), ACCEPTED_AT)
    assert rebuilt.indicators == filing.indicators and rebuilt.grade == filing.grade
    assert cbrc.canonical_json(cbrc.build_report(rebuilt)) == cbrc.canonical_json(cbrc.build_report(filing))
