"""Synthetic ``guarantees`` files: valid under phases 1–3 and prudentially plausible, column-wise.

Every column is drawn as a numpy vector and turned into text with Arrow compute, so a million rows take
seconds. Parties are drawn first (one id, category, name, industry, district, group and relation per
party) and rows pick a party, so that a party with several guarantees is consistent across them and
the per-party rules (PRU-002/003, household balances) see realistic concentration.

Plausible by default means a filing that phase 4 grades A: no negative-list industry, fees 0.5%–2%
(≤ 1% on small-micro and 三农 business of government and mixed guarantors, POL-002), loan interest
3.5%–8% (below 4 × LPR), no financing guarantee to a controlling shareholder or actual controller,
related parties charged the top fee (PRU-005), subsidies claimed only where eligible (SUB-001). The
balance-sheet side (leverage, concentration, reserves) is made to fit by ``make_financials``.
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import pyarrow as pa

from connectors.synthetic import ids
from connectors.synthetic import text as tx
from schemas import codes, get_template
from validations.context import Period

SUBSIDY_DISTRICT = "500113"  # rules.md section 4: the subsidy district, 巴南区 by default
# Neighbouring Chongqing districts, for parties outside the guarantor's own district.
OTHER_DISTRICTS = ("500112", "500108", "500106", "500107", "500104", "500110", "500115", "500111")
# GB/T 4754-2017 classes, none on the negative list (NEG-001/002/004).
AGRI_INDUSTRIES = ("0111", "0112", "0113", "0141", "0151", "0311", "0313", "0321", "0412", "0511", "1311", "1331")
OTHER_INDUSTRIES = (
    "1353", "1431", "1512", "1810", "2110", "2319", "2929", "3021", "3311", "3484", "3670", "3982",
    "4710", "5111", "5191", "5212", "5221", "5431", "6121", "6210", "6513", "8111",
)  # fmt: skip
NEGATIVE_LIST = (
    "0610", "0620", "0690", "2521", "3011", "3041", "3110", "3120", "3130", "3140", "3216", "3731", "3735",
    "6637", "7010",
)  # fmt: skip
LENDERS = ("C1025000100", "C1035000100", "C1045000100", "C1055000100", "C3155000100", "C3145000100",
           "C4025000100", "C4035000100")  # fmt: skip

CATEGORIES = ("micro", "small", "medium", "large", "individual_business", "farmer", "other")
# Category mix by guarantor: ~70% small-micro and farmers for commercial and mixed guarantors, ~80%
# for government ones (POL-001 asks 75% of their in-district parties), ~90% for focus guarantors.
_CATEGORY_MIX = {
    "commercial": (0.28, 0.22, 0.20, 0.06, 0.10, 0.08, 0.06),
    "mixed": (0.28, 0.22, 0.20, 0.06, 0.10, 0.08, 0.06),
    "government": (0.32, 0.22, 0.12, 0.03, 0.12, 0.14, 0.05),
    "focus": (0.34, 0.24, 0.06, 0.01, 0.16, 0.16, 0.03),
}
# loan_amount range in yuan by category (log-uniform), and for bonds and housing loans
_LOAN_RANGE = {
    "micro": (100_000, 3_000_000), "small": (300_000, 8_000_000), "medium": (1_000_000, 20_000_000),
    "large": (5_000_000, 50_000_000), "individual_business": (50_000, 1_000_000), "farmer": (20_000, 500_000),
    "other": (100_000, 3_000_000),
}  # fmt: skip
_BOND_RANGE = (20_000_000, 100_000_000)
_HOUSING_RANGE = (200_000, 1_500_000)
_TERMS_DAYS = np.array([91, 182, 365, 730, 1095])
_TERMS_P = (0.10, 0.20, 0.45, 0.15, 0.10)

_SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林谭冉向")
_GIVEN = ("伟", "芳", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
          "建华", "国平", "德明", "小红", "春梅", "家福", "成林", "志刚")  # fmt: skip
_BRANDS = ("巴渝", "鑫源", "渝南", "兴农", "恒通", "宏达", "金穗", "丰泽", "嘉禾", "瑞丰", "惠民", "长盛",
           "顺达", "华茂", "益农", "聚丰", "同心", "安泰", "利民", "德润", "界石", "南泉", "木洞", "东泉",
           "姜家", "石龙", "麻柳", "龙洲", "一品", "花溪")  # fmt: skip
_TRADES = ("农业", "食品", "商贸", "建材", "机械", "物流", "科技", "餐饮", "服装", "电子", "养殖", "种植",
           "汽配", "印务", "家具", "五金")  # fmt: skip
_FIRM_SUFFIX = ("有限公司", "有限责任公司", "股份有限公司")
_SHOP_SUFFIX = ("经营部", "商行", "便利店", "餐馆", "种养殖场", "五金店")
_OTHER_SUFFIX = ("专业合作社", "家庭农场", "农民专业合作社")


def _pick(rng: np.random.Generator, k: int, n: int, p: tuple[float, ...] | None = None) -> np.ndarray:
    """n indices below k, with probabilities ``p`` (uniform without)."""
    if p is None:
        return rng.integers(0, k, n)
    return np.minimum(np.searchsorted(np.cumsum(p), rng.random(n), side="right"), k - 1)


def _log_uniform(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return np.exp(rng.uniform(np.log(low), np.log(high)))


def make_guarantees(
    n_rows: int,
    period: str = "2026-10",
    seed: int = 0,
    institution_kind: str = "government",
    district: str = "500113",
    *,
    focus_small_micro_agri: bool = False,
    id_prefix: str = "DB",
) -> pa.Table:
    """A month-end ``guarantees`` snapshot of ``n_rows`` rows, all columns text, in template order.

    ``institution_kind`` sets the category mix, fees and ``account_type``; ``focus_small_micro_agri``
    shifts the mix to small-micro and 三农 so that POL-003 holds; ``id_prefix`` keeps the
    ``guarantee_id`` of several synthetic guarantors apart.
    """
    if institution_kind not in codes.INSTITUTION_KINDS:
        raise ValueError(f"unknown institution kind {institution_kind!r}")
    rng = np.random.default_rng([seed, 0x6A7])
    n = n_rows
    p = Period.parse(period)
    period_start, period_end = day_number(p.start), day_number(p.end)
    gov_like = institution_kind in ("government", "mixed")

    # --- parties: one id, category, name, industry, district, group and relation each ------------
    n_parties = max(1, int(n * 0.85))
    mix = _CATEGORY_MIX["focus" if focus_small_micro_agri else institution_kind]
    category = _pick(rng, len(CATEGORIES), n_parties, mix)
    cat = {name: category == i for i, name in enumerate(CATEGORIES)}
    is_firm = cat["micro"] | cat["small"] | cat["medium"] | cat["large"]
    # individual businesses hold a 92… USCC or file with the owner's RIC; "other" are mostly cooperatives (93…)
    uses_uscc = (
        is_firm
        | (cat["individual_business"] & (rng.random(n_parties) < 0.8))
        | (cat["other"] & (rng.random(n_parties) < 0.6))
    )
    districts = (district, *(d for d in OTHER_DISTRICTS if d != district))
    party_district = np.where(rng.random(n_parties) < 0.85, 0, 1 + _pick(rng, len(districts) - 1, n_parties))
    district_numbers = np.asarray(districts, dtype=np.int64)[party_district]
    uscc_prefix = np.where(cat["individual_business"], 92, np.where(cat["other"], 93, 91))
    party_id = _interleave(
        uses_uscc,
        ids.uscc(uscc_prefix[uses_uscc], district_numbers[uses_uscc], int(uses_uscc.sum()), rng),
        ids.ric(district_numbers[~uses_uscc], int((~uses_uscc).sum()), rng),
    )
    # 三农: farmers always; a focus guarantor's larger clients are agribusinesses (农业龙头企业)
    agri_share = np.where(cat["farmer"], 1.0, 0.12)
    if focus_small_micro_agri:
        agri_share = np.where(cat["medium"] | cat["large"] | cat["other"], 1.0, agri_share)
    agri = rng.random(n_parties) < agri_share
    industries = (*AGRI_INDUSTRIES, *OTHER_INDUSTRIES, "")  # empty for RIC parties
    industry = np.where(
        agri, _pick(rng, len(AGRI_INDUSTRIES), n_parties),
        len(AGRI_INDUSTRIES) + _pick(rng, len(OTHER_INDUSTRIES), n_parties),
    )
    industry = np.where(uses_uscc, industry, len(industries) - 1)
    names, name_index = _party_names(rng, category, uses_uscc, n_parties)
    n_groups = max(1, n_parties // 60)
    groups = ("", *(f"GRP{i:06d}" for i in range(1, n_groups + 1)))
    group = np.where(rng.random(n_parties) < 0.05, 1 + _pick(rng, n_groups, n_parties), 0)
    relation = _pick(rng, len(codes.GUARANTOR_RELATIONS), n_parties, (0.99, 0.0015, 0.0015, 0.007))

    # --- rows --------------------------------------------------------------------------------------
    party = rng.integers(0, n_parties, n)
    row_cat = category[party]
    row_is = {name: row_cat == i for i, name in enumerate(CATEGORIES)}
    row_uscc, row_relation, row_agri = uses_uscc[party], relation[party], agri[party]
    small_micro_agri = row_is["micro"] | row_is["small"] | row_is["individual_business"] | row_is["farmer"] | row_agri

    bt = {name: i for i, name in enumerate(codes.BUSINESS_TYPES)}
    business = _pick(rng, len(codes.BUSINESS_TYPES), n, (0.80, 0.03, 0.01, 0.04, 0.12))
    business = np.where((business == bt["bond"]) & ~(row_is["medium"] | row_is["large"]), bt["loan"], business)
    business = np.where((business == bt["housing_loan"]) & row_uscc, bt["loan"], business)  # home buyers are people
    # 条例 第十七条 (PRU-004): no financing guarantee to the controlling shareholder or actual controller
    business = np.where((row_relation == 1) | (row_relation == 2), bt["non_financing"], business)
    is_loan = (business == bt["loan"]) | (business == bt["housing_loan"])
    is_bond = business == bt["bond"]
    is_housing = business == bt["housing_loan"]

    status = _pick(rng, len(codes.STATUSES), n, (0.92, 0.07, 0.01))
    active, released = status == 0, status == 1

    # amounts in fen: guaranteed ≤ loan, outstanding ≤ guaranteed and 0 once ended
    low = np.array([_LOAN_RANGE[c][0] for c in CATEGORIES])[row_cat]
    high = np.array([_LOAN_RANGE[c][1] for c in CATEGORIES])[row_cat]
    low = np.where(is_bond, _BOND_RANGE[0], np.where(is_housing, _HOUSING_RANGE[0], low))
    high = np.where(is_bond, _BOND_RANGE[1], np.where(is_housing, _HOUSING_RANGE[1], high))
    loan = np.maximum(np.rint(_log_uniform(rng, low, high) / 1000), 1).astype(np.int64) * 1000 * 100
    guaranteed = loan * np.array([100, 90, 80, 70, 50])[_pick(rng, 5, n, (0.55, 0.10, 0.20, 0.05, 0.10))] // 100
    remaining = np.where(rng.random(n) < 0.5, 1000, rng.integers(300, 1000, n))  # permille still owed
    outstanding = np.where(active, guaranteed * remaining // 1000, 0)
    shares = ("1", "0.8", "0.7", "0.6", "0.5", "0.4")  # 0.4: the 4:2:2:2 national risk-sharing split
    share_p = (0.45, 0.10, 0.05, 0.05, 0.10, 0.25) if gov_like else (0.70, 0.10, 0.05, 0.05, 0.05, 0.05)

    # rates in units of 0.0001: fee 0.5%–2% (≤ 1% on gov-like small-micro/三农), interest 3.5%–8%
    fee_high = np.where(gov_like & small_micro_agri, 100, 200)
    fee = 50 + 5 * rng.integers(0, (fee_high - 50) // 5 + 1)
    fee = np.where(row_relation == 3, 200, fee)  # other_related at the top fee: never below the median
    interest = 350 + 5 * rng.integers(0, (np.where(is_housing, 600, 800) - 350) // 5 + 1)

    # dates: active rows mature after the period end; ended rows close within the period
    term = _TERMS_DAYS[_pick(rng, len(_TERMS_DAYS), n, _TERMS_P)]
    closed = period_start + rng.integers(0, period_end - period_start + 1, n)
    early = rng.random(n) < 0.35
    maturity = np.where(
        active,
        period_end + rng.integers(1, term + 1),
        np.where(
            released,
            closed + np.where(early, rng.integers(1, term), 0),  # repaid early or at maturity
            closed - rng.integers(0, 61, n),  # compensated on or some weeks after the default at maturity
        ),
    )
    start = maturity - term

    five = np.where(
        active,
        _pick(rng, 5, n, (0.93, 0.05, 0.015, 0.005, 0.0)),
        np.where(released, 0, _pick(rng, 5, n, (0.0, 0.0, 0.2, 0.3, 0.5))),
    )
    if institution_kind == "commercial":
        account = np.ones(n, dtype=np.int64)
    else:  # 分账核算: policy business dominates at government guarantors
        account = (rng.random(n) >= (0.85 if institution_kind == "government" else 0.5)).astype(np.int64)

    # subsidies: claimed on a few rows, and only where the row is eligible (rules.md section 4)
    row_in_subsidy_district = np.asarray(districts)[party_district[party]] == SUBSIDY_DISTRICT
    u = rng.random(n)
    sme = (business == bt["loan"]) & (row_is["micro"] | row_is["small"] | row_is["medium"]) & row_in_subsidy_district
    subsidy = np.where(sme & (fee <= 200) & (u < 0.06), 1, 0)
    subsidy = np.where(row_is["micro"] & (fee <= 100) & (u >= 0.06) & (u < 0.08), 2, subsidy)
    subsidy = np.where(row_is["farmer"] & (fee <= 100) & (u < 0.10), 3, subsidy)

    ratings = ("AAA", "AA+", "AA", "AA-", "A+", "")
    rating = np.where(is_bond, _pick(rng, 5, n, (0.2, 0.3, 0.3, 0.15, 0.05)), 5)
    lender = np.where(is_loan, _pick(rng, len(LENDERS), n), len(LENDERS))
    counter = _pick(rng, len(codes.COUNTER_GUARANTEES), n, (0.3, 0.3, 0.1, 0.2, 0.1))
    sequence = (np.arange(1, n + 1), max(7, len(str(n))))
    start_year = (start.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970, 4)

    columns = {
        "guarantee_id": tx.compose(id_prefix, period.replace("-", ""), sequence),
        "contract_no": tx.compose(id_prefix, "HT", start_year, "-", sequence),
        "party_id_type": tx.choice(codes.PARTY_ID_TYPES, (~row_uscc).astype(np.int64)),
        "party_id": party_id.take(pa.array(party)),
        "party_name": tx.choice(names, name_index[party]),
        "party_category": tx.choice(CATEGORIES, row_cat),
        "agri": tx.choice(("false", "true"), row_agri.astype(np.int64)),
        "industry_code": tx.choice(industries, industry[party]),
        "district_code": tx.choice(districts, party_district[party]),
        "related_group_id": tx.choice(groups, group[party]),
        "guarantor_relation": tx.choice(codes.GUARANTOR_RELATIONS, row_relation),
        "business_type": tx.choice(codes.BUSINESS_TYPES, business),
        "bond_issuer_rating": tx.choice(ratings, rating),
        "lender_code": tx.choice((*LENDERS, ""), lender),
        "loan_amount": tx.cents(loan),
        "guaranteed_amount": tx.cents(guaranteed),
        "outstanding_balance": tx.cents(outstanding),
        "liability_share": tx.choice(shares, _pick(rng, len(shares), n, share_p)),
        "fee_rate": tx.fixed_point(fee, 4),
        "loan_interest_rate": tx.where(is_loan, tx.fixed_point(interest, 4)),
        "start_date": tx.dates(start),
        "maturity_date": tx.dates(maturity),
        "status": tx.choice(codes.STATUSES, status),
        "closed_date": tx.where(~active, tx.dates(closed)),
        "counter_guarantee": tx.choice(codes.COUNTER_GUARANTEES, counter),
        "account_type": tx.choice(codes.ACCOUNT_TYPES, account),
        "subsidy_program": tx.choice(codes.SUBSIDY_PROGRAMS, subsidy),
        "five_category": tx.choice(codes.FIVE_CATEGORIES, five),
    }
    names_in_order = get_template("1.0").file("guarantees").column_names
    return pa.table([columns[name] for name in names_in_order], names=names_in_order)


def day_number(date: dt.date) -> int:
    """Days since 1970-01-01, the unit every generated date is drawn in."""
    return (date - dt.date(1970, 1, 1)).days


def _interleave(mask: np.ndarray, where_true: pa.Array, where_false: pa.Array) -> pa.Array:
    """One array holding ``where_true``'s values at ``mask`` and ``where_false``'s elsewhere, in order."""
    order = np.empty(len(mask), dtype=np.int64)
    order[mask] = np.arange(len(where_true))
    order[~mask] = len(where_true) + np.arange(len(where_false))
    return pa.concat_arrays([where_true, where_false]).take(pa.array(order))


@functools.cache
def _name_pools() -> tuple[tuple[str, ...], ...]:
    """Every firm, shop, cooperative and personal name the generator uses (a few thousand, built once)."""
    firms = tuple(f"重庆{b}{t}{f}" for b in _BRANDS for t in _TRADES for f in _FIRM_SUFFIX[:2])
    large_firms = tuple(f"重庆{b}{t}{_FIRM_SUFFIX[2]}" for b in _BRANDS for t in _TRADES)
    shops = tuple(f"{b}{t}{s}" for b in _BRANDS for t in _TRADES for s in _SHOP_SUFFIX)
    others = tuple(f"重庆市{b}{t}{s}" for b in _BRANDS for t in _TRADES[:12] for s in _OTHER_SUFFIX)
    persons = tuple(f"{s}{g}" for s in _SURNAMES for g in _GIVEN)
    return firms, large_firms, shops, others, persons


def _party_names(
    rng: np.random.Generator, category: np.ndarray, uses_uscc: np.ndarray, n: int
) -> tuple[list[str], np.ndarray]:
    """(names, index per party): firms, shops for individual businesses, cooperatives for "other", and
    personal names for every party that files with a RIC. Drawn from pools: names need not be unique."""
    pools = _name_pools()
    offsets = np.cumsum([0, *(len(pool) for pool in pools)])
    pool = np.select(
        [~uses_uscc, category == CATEGORIES.index("large"), category == CATEGORIES.index("individual_business"),
         category == CATEGORIES.index("other")],
        [4, 1, 2, 3],
        default=0,
    )
    index = offsets[pool] + (rng.random(n) * np.diff(offsets)[pool]).astype(np.int64)
    return [name for p in pools for name in p], index
