"""The published GX suites and our engine agree: GX itself runs each suite on the sample and on copies
with one injected error per SCH rule, and every expectation passes or fails as the engine's findings say.

One GX context per module (``gx_ctx``); only the suite of the edited file is run per case, to stay fast.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from connectors.intake import read_package
from tests.packages import SAMPLES, Package
from tests.validations.vcheck import rule_ids, run
from validations.checksums import ric_check_char
from validations.gx.runner import engine_outcome, package_frames, run_suite_with_gx
from validations.gx.suites import SUITES_DIR, build_suites, load_suite, suite_json

pytestmark = pytest.mark.gx

ROOT = Path(__file__).resolve().parents[2]
SUITES = build_suites()


def label(expectation: dict[str, Any]) -> str:
    """``SCH-001 lender_code [housing_loan,loan]``: rule, column and the row condition's values."""
    text = f"{expectation['meta']['rule_id']} {expectation['kwargs']['column']}"
    condition = expectation["kwargs"].get("row_condition")
    text += f" [{','.join(condition['parameter'])}]" if condition else ""
    return text + (" check" if expectation["meta"].get("part") == "check_character" else "")


@dataclass(frozen=True)
class Case:
    id: str
    edits: tuple[tuple[str, int, str, str], ...]  # (file, 1-based row, column, value)
    fails: frozenset[str]  # labels of the expectations GX must fail (all others pass)
    engine_reports: frozenset[str] = field(default_factory=frozenset)  # rules the engine must report anyway


def case(id: str, edits: list[tuple[str, int, str, str]], fails: set[str], reports: set[str] | None = None) -> Any:
    return pytest.param(Case(id, tuple(edits), frozenset(fails), frozenset(reports or ())), id=id)


G = "guarantees"
LOANS = "[housing_loan,loan]"
FARMER_RIC_FEB30 = "50011319790230795" + ric_check_char("50011319790230795")

CASES = [
    case("sch001-required-empty", [(G, 4, "party_name", "")], {"SCH-001 party_name"}),
    case("sch001-lender-for-loan", [(G, 1, "lender_code", "")], {f"SCH-001 lender_code {LOANS}"}),
    case("sch001-rating-for-bond", [(G, 6, "bond_issuer_rating", "")], {"SCH-001 bond_issuer_rating [bond]"}),
    case("sch001-industry-for-uscc", [(G, 2, "industry_code", "")], {"SCH-001 industry_code [USCC]"}),
    case("sch001-closed-date-when-ended", [(G, 30, "closed_date", "")],
         {"SCH-001 closed_date [compensated,released]"}),
    # non_financing needs no lender or loan rate; `other` parties may use either id type
    case("sch001-sch004-conditions-not-met", [(G, 24, "lender_code", ""), (G, 24, "loan_interest_rate", ""),
                                              (G, 1, "party_category", "other"), (G, 5, "party_category", "other")],
         set()),
    case("sch002-code-case-sensitive", [(G, 2, "status", "Active")], {"SCH-002 status"}),
    case("sch003-uscc-malformed", [(G, 1, "party_id", "91500113342F88691"), (G, 2, "party_id", "9150011334IF88691Q")],
         {"SCH-003 party_id [USCC]"}),
    # a wrong check character passes the format expectation and fails the custom check-character one
    case("sch003-uscc-check-char-only", [(G, 1, "party_id", "91500113342F88691A"),
                                         (G, 2, "party_id", "91500113e7g9fp1603")], {"SCH-003 party_id [USCC] check"},
         {"SCH-003"}),
    case("sch003-ric-check-char-only", [(G, 5, "party_id", "500113197903077950")], {"SCH-003 party_id [RIC] check"},
         {"SCH-003"}),
    case("sch003-ric-malformed", [(G, 5, "party_id", "500113197913077955"), (G, 11, "party_id", "50011319750404711A")],
         {"SCH-003 party_id [RIC]"}),
    case("sch003-ric-feb-30-check-ok", [(G, 5, "party_id", FARMER_RIC_FEB30)], {"SCH-003 party_id [RIC] check"},
         {"SCH-003"}),
    case("sch004-farmer-with-uscc", [(G, 1, "party_category", "farmer")], {"SCH-004 party_id_type [farmer]"}),
    case("sch004-micro-with-ric", [(G, 5, "party_category", "micro")],
         {"SCH-004 party_id_type [large,medium,micro,small]"}),
    case("sch005-negative-and-zero-amount", [(G, 3, "loan_amount", "-1"), (G, 4, "guaranteed_amount", "0")],
         {"SCH-005 loan_amount", "SCH-005 guaranteed_amount"}),
    case("sch005-share-outside-0-1", [(G, 3, "liability_share", "0"), (G, 4, "liability_share", "1.01")],
         {"SCH-005 liability_share"}),
    case("sch005-rates-above-one", [(G, 3, "fee_rate", "1.5"), (G, 4, "loan_interest_rate", "2")],
         {"SCH-005 fee_rate", "SCH-005 loan_interest_rate"}),
    case("sch005-bounds-included", [(G, 1, "liability_share", "1"), (G, 1, "outstanding_balance", "0"),
                                    (G, 2, "fee_rate", "1"), (G, 2, "loan_interest_rate", "0")], set()),
    case("sch006-duplicate-guarantee-id", [(G, 2, "guarantee_id", "BN202600000")], {"SCH-006 guarantee_id"}),
    case("sch007-industry-division", [(G, 1, "industry_code", "9901"), (G, 5, "industry_code", "0011")],
         {"SCH-007 industry_code"}),
    case("sch007-district-malformed", [(G, 1, "district_code", "50011"), (G, 2, "district_code", "5001AB")],
         {"SCH-007 district_code"}),
    case("several-rules-at-once",
         [(G, 1, "party_category", "farmer"), (G, 2, "guarantee_id", "BN202600000"), (G, 3, "fee_rate", "1.5"),
          (G, 6, "bond_issuer_rating", ""), (G, 9, "industry_code", "9901"), (G, 10, "party_id", "x")],
         {"SCH-004 party_id_type [farmer]", "SCH-006 guarantee_id", "SCH-005 fee_rate",
          "SCH-001 bond_issuer_rating [bond]", "SCH-007 industry_code", "SCH-003 party_id [USCC]"}),
    case("financials-empty-and-negative", [("financials", 1, "net_assets", ""),
                                           ("financials", 1, "class_iii_assets", "-0.01")],
         {"SCH-001 net_assets", "SCH-005 class_iii_assets"}),
    case("compensations-zero-and-empty", [("compensations", 1, "amount_paid", "0"),
                                          ("compensations", 1, "recovered_to_date", "")],
         {"SCH-005 amount_paid", "SCH-001 recovered_to_date"}),
]


def compare(path: Path, files: list[str], gx_ctx: Any) -> tuple[dict[str, set[str]], set[str]]:
    """Run GX and the engine; assert they agree per expectation; GX's failing labels per file."""
    result = run(path)
    assert 2 in result.phases_run, result.findings.to_pylist()  # only SCH errors were injected
    frames = package_frames(read_package(path))
    failing: dict[str, set[str]] = {}
    for name in files:
        suite = SUITES[name]
        by_gx = run_suite_with_gx(frames[name], suite, gx_ctx)
        by_engine = engine_outcome(result, suite, frames[name])
        differ = [label(suite["expectations"][i]) + f": GX {by_gx[i]}, engine {by_engine[i]}"
                  for i in by_gx if by_gx[i] != by_engine[i]]
        assert not differ, differ
        failing[name] = {label(suite["expectations"][i]) for i, ok in by_gx.items() if not ok}
    return failing, rule_ids(result)


def test_valid_sample_passes_every_expectation_in_gx_and_engine(gx_ctx):
    failing, reported = compare(SAMPLES / "valid-2026-10", list(SUITES), gx_ctx)
    assert failing == {name: set() for name in SUITES}
    assert not {r for r in reported if r.startswith("SCH")}


@pytest.mark.parametrize("c", CASES)
def test_gx_and_engine_agree_on_injected_error(tmp_path, gx_ctx, c: Case):
    pkg = Package.copy(tmp_path)
    for file, row, column, value in c.edits:
        pkg.set(file, row, column, value)
    files = sorted({file for file, *_ in c.edits})
    failing, reported = compare(pkg.root, files, gx_ctx)
    assert set().union(*failing.values()) == c.fails
    assert c.engine_reports <= reported


def test_duplicate_compensation_id(tmp_path, gx_ctx):
    pkg = Package.copy(tmp_path)
    header, rows = pkg.rows("compensations")
    pkg.write_rows("compensations", header, [*rows, list(rows[0])])
    failing, _ = compare(pkg.root, ["compensations"], gx_ctx)
    assert failing == {"compensations": {"SCH-006 compensation_id"}}


def test_checked_in_suites_are_what_the_template_generates():
    for name, suite in SUITES.items():
        path = SUITES_DIR / f"{name}.json"
        assert path.read_text(encoding="utf-8") == suite_json(suite), f"regenerate: python -m validations.gx.suites ({path})"
    assert sorted(p.stem for p in SUITES_DIR.glob("*.json")) == sorted(SUITES)


def test_suite_shape():
    counts = {name: len(suite["expectations"]) for name, suite in SUITES.items()}
    assert counts == {"guarantees": 50, "financials": 23, "compensations": 8}
    rules = {e["meta"]["rule_id"] for e in SUITES["guarantees"]["expectations"]}
    assert rules == {f"SCH-00{i}" for i in range(1, 8)}
    assert load_suite("guarantees")["name"] == "danbao.guarantees.v1_0"


def test_suites_are_gx_serialized_suites(gx_ctx):
    """GX 1.x loads each dict, and serializes it back to the same expectations without deprecation warnings."""
    import warnings

    from validations.gx.runner import import_gx

    gx = import_gx()
    for suite in SUITES.values():
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            loaded = gx.ExpectationSuite(**copy.deepcopy(suite))
        back = loaded.to_json_dict()
        assert back["name"] == suite["name"]
        assert [{k: e[k] for k in ("type", "kwargs", "meta", "description", "severity")} for e in back["expectations"]] \
            == suite["expectations"]


def _imports_gx(modules: list[str]) -> bool:
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps('great_expectations' in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_engine_and_suites_do_not_import_gx():
    assert _imports_gx(["validations", "validations.engine", "validations.gx", "validations.gx.suites",
                        "validations.gx.runner"]) is False


def test_dagster_code_location_does_not_import_gx():
    import importlib.util
    import tomllib

    module = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["dagster"]["module_name"]
    if importlib.util.find_spec(module.split(".")[0]) is None or importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} does not exist yet")
    assert _imports_gx([module]) is False


def test_every_sch_rule_has_an_injected_failure():
    failing_rules = {label.split()[0] for p in CASES for label in p.values[0].fails}
    assert failing_rules == {f"SCH-00{i}" for i in range(1, 8)}


def test_engine_outcome_needs_the_schema_phase(tmp_path):
    pkg = Package.copy(tmp_path)
    pkg.set("guarantees", 1, "loan_amount", "abc")  # FMT-005: phase 2 does not run
    result = run(pkg.root)
    with pytest.raises(ValueError, match="schema phase"):
        engine_outcome(result, SUITES["guarantees"], package_frames(read_package(pkg.root))["guarantees"])
