"""Template 1.1-draft through the generator: valid by default, each 1.2-draft rule's breach found at the
row the injection names, and a 1.0 package unchanged by the 1.1 work."""

from __future__ import annotations

import json

import pytest

from connectors.registry import read_registry_csv
from connectors.synthetic import generate_period
from connectors.synthetic.inject import KINDS, TEMPLATE_1_1_KINDS
from schemas import SUPPORTED_VERSIONS, get_template
from tests.synthetic.helpers import PERIOD, check, found


def _generate(tmp_path, kinds=(), template="1.1", guarantors=3, rows=400):
    packages = generate_period(tmp_path, guarantors, rows, PERIOD, inject_kinds=list(kinds), template=template)
    return packages, read_registry_csv(tmp_path / "registry.csv")


def test_both_versions_side_by_side():
    assert SUPPORTED_VERSIONS == ("1.0", "1.1")
    old, new = get_template("1.0"), get_template("1.1")
    for spec in old.files:  # 1.1 keeps every 1.0 column, in its place, and adds at the end
        assert new.file(spec.name).column_names[: len(spec.column_names)] == spec.column_names
    assert "rural_property" in new.file("guarantees").column("counter_guarantee").codes
    assert "rural_property" not in old.file("guarantees").column("counter_guarantee").codes


def test_a_generated_1_1_period_is_valid_under_every_rule(tmp_path):
    packages, registry = _generate(tmp_path)
    for package in packages:
        manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["template_version"] == "1.1"
        result = check(package, registry)
        assert str(result.status) == "accepted", result.findings.to_pylist()[:3]
        assert result.grade == "A"
        assert set(result.phase4.statistics) == {"balance_sheet", "income_statement", "guarantee_flows",
                                                 "liability_breakdown", "bank_cooperation",
                                                 "policy_commercial_split", "plan_statistics"}
    assert any(i.rating_grade and i.rating_agency for i in registry.values())


@pytest.mark.parametrize("kind", TEMPLATE_1_1_KINDS)
def test_each_new_rule_breach_is_found_at_its_row(tmp_path, kind):
    count = 1 if kind == "low_rating" else 2 if KINDS[kind].file == "guarantees" else 1
    packages, registry = _generate(tmp_path, [f"{kind}:{count}"], guarantors=3)
    for package in packages:
        sidecar = json.loads(package.with_name(package.name + ".expected.json").read_text(encoding="utf-8"))
        expected = {(f["rule_id"], f["file"], f["row"]) for f in sidecar["findings"]}
        assert {rule for rule, _, _ in expected} == {KINDS[kind].rule_id}
        result = check(package, registry)
        assert found(result) == expected
        assert str(result.status) == sidecar["status"]


def test_1_1_kinds_refuse_a_1_0_package(tmp_path):
    with pytest.raises(ValueError, match=r"template 1\.1"):
        generate_period(tmp_path, 1, 50, PERIOD, inject_kinds=["slow_payout"], template="1.0")


def test_template_1_0_is_still_written_on_request(tmp_path):
    packages, registry = _generate(tmp_path, template="1.0", guarantors=2, rows=200)
    for package in packages:
        manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["template_version"] == "1.0"
        header = (package / "guarantees.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
        assert header == get_template("1.0").file("guarantees").column_names
        assert str(check(package, registry).status) == "accepted"
    assert "rating_grade" not in (tmp_path / "registry.csv").read_text(encoding="utf-8").splitlines()[0]
