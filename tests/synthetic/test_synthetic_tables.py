"""The generated tables: deterministic, valid under phases 1–3, prudentially plausible.

The invariants are asserted column-wise here, independently of the rule engine (which is exercised
in test_synthetic_inject.py), so that a bug in either shows up as a disagreement.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from stdnum.cn import ric, uscc

from connectors.synthetic import NEGATIVE_LIST, make_guarantees, make_registry, measure
from connectors.synthetic import text as tx
from schemas import codes, get_template
from tests.synthetic.helpers import PERIOD, filing
from validations.checksums import ric_valid, uscc_valid

PERIOD_START, PERIOD_END = np.datetime64("2026-10-01"), np.datetime64("2026-10-31")
_AMOUNT = r"^[0-9]+\.[0-9]{2}$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def np_(array) -> np.ndarray:
    return np.asarray(array.to_numpy(zero_copy_only=False))


def is_(column, *values: str) -> np.ndarray:
    return np_(pc.is_in(column, pa.array(values))).astype(bool)


def matches(column, pattern: str) -> np.ndarray:
    return np_(pc.match_substring_regex(column, pattern)).astype(bool)


def days(column) -> np.ndarray:
    return tx.to_numpy_days(column).astype("datetime64[D]")


# --- determinism and shape ---------------------------------------------------------------------------

def test_same_seed_same_tables_other_seed_other_tables():
    a, b, c = filing(2000, seed=5), filing(2000, seed=5), filing(2000, seed=6)
    for name in a:
        assert a[name].equals(b[name]), name
    assert not a["guarantees"].equals(c["guarantees"])
    assert make_registry(4, seed=2).equals(make_registry(4, seed=2))


def test_columns_in_template_order_all_text(big):
    template = get_template("1.0")
    for name, table in big.items():
        assert table.column_names == template.file(name).column_names
        assert all(t == pa.string() for t in table.schema.types)
    assert big["financials"].num_rows == 1


@pytest.mark.parametrize("n", [0, 1, 7])
def test_tiny_tables(n):
    tables = filing(n, seed=1)
    assert tables["guarantees"].num_rows == n
    assert tables["financials"].num_rows == 1


# --- phase 2: schema ---------------------------------------------------------------------------------

def test_codes_and_required_values(big):
    g = big["guarantees"]
    spec = get_template("1.0").file("guarantees")
    for column in spec.columns:
        values = g[column.name]
        if column.required:
            assert not np_(pc.equal(values, "")).any(), column.name
        if column.codes:
            assert is_(values, *column.codes, "").all(), column.name
    assert is_(g["account_type"], *codes.ACCOUNT_TYPES).all()  # filled for every kind
    assert is_(g["agri"], "true", "false").all()


def test_party_ids_valid_for_their_type(big):
    g = big["guarantees"]
    is_uscc = is_(g["party_id_type"], "USCC")
    ids = g["party_id"]
    assert uscc_valid(ids.filter(pa.array(is_uscc))).all()
    assert ric_valid(ids.filter(pa.array(~is_uscc)), np.datetime64("2026-10-31")).all()
    values, types = ids.to_pylist(), g["party_id_type"].to_pylist()
    assert all(uscc.is_valid(v) for v, t in zip(values, types, strict=True) if t == "USCC")
    # stdnum's full RIC check also wants a county it knows; the template asks for the check digit
    assert all(ric.calc_check_digit(v) == v[17] for v, t in zip(values, types, strict=True) if t == "RIC")
    assert (~is_uscc).sum() > 1000 and is_uscc.sum() > 10_000


def test_one_party_one_identity(big):
    """A party with several guarantees keeps its category, name, district and group across them."""
    g = big["guarantees"]
    parties = g.group_by("party_id").aggregate(
        [(c, "count_distinct") for c in ("party_category", "party_name", "district_code", "related_group_id")]
    )
    for column in parties.column_names[1:]:
        assert pc.max(parties[column]).as_py() == 1, column
    assert parties.num_rows < g.num_rows  # some parties hold several guarantees


def test_id_type_fits_category(big):
    g = big["guarantees"]
    ric_ = is_(g["party_id_type"], "RIC")
    assert ric_[is_(g["party_category"], "farmer")].all()
    assert not ric_[is_(g["party_category"], "micro", "small", "medium", "large")].any()


def test_industry_and_district_codes(big):
    g = big["guarantees"]
    is_uscc = is_(g["party_id_type"], "USCC")
    industry = g["industry_code"]
    assert matches(industry, r"^[0-9]{4}$")[is_uscc].all()
    division = np.array([int(v[:2]) if v else 0 for v in industry.to_pylist()])
    assert ((division >= 1) & (division <= 97))[is_uscc].all()
    assert not is_(industry, *NEGATIVE_LIST).any()
    assert matches(g["district_code"], r"^[0-9]{6}$").all()


def test_amounts_and_rates_in_range(big):
    g = big["guarantees"]
    for column in ("loan_amount", "guaranteed_amount", "outstanding_balance"):
        assert matches(g[column], _AMOUNT).all(), column
    loan, guaranteed, outstanding = (tx.to_numpy_cents(g[c]) for c in
                                     ("loan_amount", "guaranteed_amount", "outstanding_balance"))
    assert (guaranteed > 0).all() and (outstanding >= 0).all()
    assert (guaranteed <= loan).all() and (outstanding <= guaranteed).all()
    share = tx.to_numpy_float(g["liability_share"])
    assert ((share > 0) & (share <= 1)).all()
    fee = tx.to_numpy_float(g["fee_rate"])
    assert ((fee >= 0.005) & (fee <= 0.02)).all()
    loans = is_(g["business_type"], "loan", "housing_loan")
    interest = tx.to_numpy_float(g["loan_interest_rate"])
    assert ((interest[loans] >= 0.035) & (interest[loans] <= 0.08)).all()  # far below 4 × LPR
    assert np.isnan(interest[~loans]).all()


def test_conditional_requirements(big):
    g = big["guarantees"]
    loans = is_(g["business_type"], "loan", "housing_loan")
    bonds = is_(g["business_type"], "bond")
    ended = is_(g["status"], "released", "compensated")
    filled = {c: ~np_(pc.equal(g[c], "")).astype(bool) for c in
              ("lender_code", "loan_interest_rate", "bond_issuer_rating", "closed_date", "industry_code")}
    assert filled["lender_code"][loans].all() and filled["loan_interest_rate"][loans].all()
    assert filled["bond_issuer_rating"][bonds].all() and not filled["bond_issuer_rating"][~bonds].any()
    assert filled["closed_date"][ended].all() and not filled["closed_date"][~ended].any()
    assert filled["industry_code"][is_(g["party_id_type"], "USCC")].all()
    assert bonds.any() and loans.any() and ended.any()


def test_unique_guarantee_ids(big):
    g = big["guarantees"]
    assert pc.count_distinct(g["guarantee_id"]).as_py() == g.num_rows
    c = big["compensations"]
    assert pc.count_distinct(c["compensation_id"]).as_py() == c.num_rows


# --- phase 3: consistency ----------------------------------------------------------------------------

def test_dates(big):
    g = big["guarantees"]
    for column in ("start_date", "maturity_date"):
        assert matches(g[column], _DATE).all()
    start, maturity, closed = days(g["start_date"]), days(g["maturity_date"]), days(g["closed_date"])
    active = is_(g["status"], "active")
    assert (maturity > start).all()
    assert (start <= PERIOD_END).all()
    assert ((closed > start) & (closed <= PERIOD_END))[~active].all()
    assert (closed[~active] >= PERIOD_START).all()  # the snapshot holds guarantees that ended this month
    assert (maturity[active] >= PERIOD_START).all()  # no overdue active row (BIZ-006)
    assert (tx.to_numpy_cents(g["outstanding_balance"])[~active] == 0).all()


def test_compensations_match_compensated_rows(big):
    g, c = big["guarantees"], big["compensations"]
    compensated = g.filter(pc.equal(g["status"], "compensated"))
    assert c.num_rows == compensated.num_rows > 0
    assert sorted(c["guarantee_id"].to_pylist()) == sorted(compensated["guarantee_id"].to_pylist())
    when = days(c["compensation_date"])
    assert ((when >= PERIOD_START) & (when <= PERIOD_END)).all()
    paid, recovered = tx.to_numpy_cents(c["amount_paid"]), tx.to_numpy_cents(c["recovered_to_date"])
    assert (paid > 0).all() and ((recovered >= 0) & (recovered <= paid)).all()


def test_financials_add_up_and_meet_every_ratio(big):
    f = {k: v[0] for k, v in big["financials"].to_pydict().items()}
    assert f["period_end"] == "2026-10-31"
    x = {k: float(v) for k, v in f.items() if k != "period_end"}
    m = measure(big["guarantees"])
    base = x["total_assets"] - x["receivable_compensation"]
    assert x["net_assets"] <= x["total_assets"]  # BIZ-008
    assert x["class_i_assets"] + x["class_ii_assets"] + x["class_iii_assets"] <= base + 1
    assert m.measured_liability / (x["net_assets"] - x["equity_in_other_guarantors"]) <= 10  # PRU-001
    assert m.max_party_exposure / x["net_assets"] <= 0.10  # PRU-002
    assert m.max_group_exposure / x["net_assets"] <= 0.15  # PRU-003
    assert x["paid_in_capital"] >= 20_000_000  # PRU-006
    assert x["unearned_premium_reserve"] >= 0.5 * x["fee_income_ytd"]  # PRU-007
    assert x["compensation_reserve"] >= 0.01 * m.financing_exposure >= 0.01 * m.measured_liability  # PRU-008
    assert x["class_i_assets"] + x["class_ii_assets"] >= 0.7 * base  # PRU-009
    assert x["class_i_assets"] >= 0.2 * base  # PRU-010
    assert x["class_iii_assets"] <= 0.3 * base  # PRU-011


# --- plausibility --------------------------------------------------------------------------------

def test_realistic_mix(big):
    g = big["guarantees"]
    small_micro_farmer = is_(g["party_category"], "micro", "small", "individual_business", "farmer").mean()
    assert 0.7 <= small_micro_farmer <= 0.9  # government guarantors lean further to small-micro than ~70%
    commercial = make_guarantees(20_000, PERIOD, 3, "commercial")
    share = is_(commercial["party_category"], "micro", "small", "individual_business", "farmer").mean()
    assert 0.65 <= share <= 0.75
    assert is_(commercial["account_type"], "commercial").all()
    assert is_(g["subsidy_program"], "none").mean() > 0.85
    assert is_(g["status"], "active").mean() > 0.85
    related = is_(g["guarantor_relation"], "controlling_shareholder", "actual_controller")
    assert is_(g["business_type"], "non_financing")[related].all()  # PRU-004


def test_focus_guarantor_serves_small_micro_and_agri():
    g = make_guarantees(5000, PERIOD, 2, "mixed", focus_small_micro_agri=True)
    sma = is_(g["party_category"], "micro", "small", "individual_business", "farmer") | is_(g["agri"], "true")
    assert sma.all()  # POL-003: its larger clients are agribusinesses


def test_registry_rows():
    r = make_registry(7, seed=4, district="500112")
    assert r.column_names == list(get_template("1.0").registry_columns)
    assert r["kind"].to_pylist()[:4] == ["government", "commercial", "mixed", "government"]
    assert r["focus_small_micro_agri"].to_pylist()[:3] == [False, False, True]
    assert uscc_valid(r["institution_id"]).all() and all(uscc.is_valid(v) for v in r["institution_id"].to_pylist())
    assert all(v[2:8] == "500112" for v in r["institution_id"].to_pylist())
    assert all(len(v) == 14 and v.startswith("500112") for v in r["pboc_area_code"].to_pylist())
    assert set(r["status"].to_pylist()) == {"active"}
    assert pc.count_distinct(r["institution_id"]).as_py() == 7
