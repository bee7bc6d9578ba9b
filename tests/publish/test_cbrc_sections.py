"""The CBRC report 2.0's statistical sections (outputs.md 2.0 §4): a generated 1.1 filing fills every
section and validates against the schema; a 1.0 filing's report carries null with the reason."""

from __future__ import annotations

from connectors.intake import read_package
from connectors.publish import cbrc
from connectors.registry import read_registry_csv
from connectors.synthetic import REGISTRY_FILE, generate_period
from tests.synthetic.helpers import NOW, PERIOD
from validations.engine import validate
from validations.results import AcceptedFiling


def _reports(tmp_path, template):
    packages = generate_period(tmp_path, 3, 300, PERIOD, template=template)
    registry = read_registry_csv(tmp_path / REGISTRY_FILE)
    reports = []
    for number, package in enumerate(packages, start=1):
        result = validate(read_package(package), registry, now=NOW)
        filing = AcceptedFiling.of(result, submission_id=number, sequence=1, period=PERIOD, accepted_at=None)
        reports.append(cbrc.build_report(filing))
    return reports


def _nulls(value, path=""):
    if isinstance(value, dict):
        return [p for k, v in value.items() if k != "null_reasons" for p in _nulls(v, f"{path}/{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nulls(v, f"{path}/{i}")]
    return [path] if value is None else []


def test_a_1_1_report_fills_every_section(tmp_path):
    reports = _reports(tmp_path, "1.1")
    for report in reports:
        cbrc.check(report, cbrc.REPORT)
        assert report["version"] == "2.0" and report["filing"]["template_version"] == "1.1"
        for name in cbrc.SECTIONS:
            section = report[name]
            assert "*" not in section["null_reasons"]
            # every null is explained (payout delays of a lender without payouts; shares without exposure)
            for path in _nulls(section):
                assert path.rsplit("/", 1)[-1] in section["null_reasons"], (name, path)
        assert not _nulls(report["balance_sheet"]) and not _nulls(report["income_statement"])
        assert report["bank_cooperation"]["by_lender"] and report["institution"]["rating"]["grade"]
    summary = cbrc.build_summary(PERIOD, reports)
    cbrc.check(summary, cbrc.SUMMARY)
    assert summary["sections"]["template_versions"] == {"1.1": 3} and summary["sections"]["reports_without"] == 0
    assert summary["sections"]["bank_cooperation"]


def test_a_1_0_report_says_why_values_are_null(tmp_path):
    for report in _reports(tmp_path, "1.0"):
        cbrc.check(report, cbrc.REPORT)
        reasons = report["balance_sheet"]["null_reasons"]
        assert set(reasons) == {"margin_received", "margin_placed"}
        assert all("template 1.0" in reason for reason in reasons.values())
        assert report["income_statement"]["net_profit_ytd"] is None
        assert report["institution"]["rating"] is None
