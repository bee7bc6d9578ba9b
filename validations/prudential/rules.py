"""Phase-4 rules (rules.md): PRU-001..011, NEG-001..005, POL-001..003, SUB-001.

Row-level rules report file ``guarantees``, the 1-based row, the column and its value; they apply to
every matching row of the filing whatever its ``status`` unless the rule says ``active`` (NEG-005).
Institution-level rules report no file or row; ``value`` is the measured value (a ratio, multiple or
amount) and the message gives it with its limit. Readings (docs/phase4-readings.md):

- Limits are strict where the rule says "above"/"exceeds" (PRU-001/002/003/011, NEG-003, POL-002) and
  "below" means strictly below (PRU-005..010, POL-001, POL-003): a value exactly at the limit passes.
- Every decision is exact (rules.md 1.1): amounts, exposures and their sums are exact decimals or
  Fractions, limits are exact products of decimal parameters and amounts, and rates are compared as
  integers in units of 10⁻¹⁸ (``loan_interest_rate > 4 × LPR`` is ``rate·10¹⁸ > 4·LPR·10¹⁸``). Ratios
  and amounts in messages and finding values are rounded for display only, after the decision.
- PRU-001 with net assets for leverage ≤ 0: any measured liability above zero is a breach.
- PRU-002/003: one finding per party / group above the limit, over ``net_assets``.
- PRU-005: the median is over every row of the same ``business_type`` with ``guarantor_relation`` none,
  whatever its status (the mean of the two middle values for an even count); none such, no finding.
- NEG-001 "started in the period": start_date in [period start, period end]; NEG-005: active and
  started before the period start. NEG-003 has no LPR for a loan that started before 2019-08-20.
- POL-001 (government), POL-002 (government or mixed) and POL-003 (focus_small_micro_agri) give no
  finding when their denominator is empty.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from schemas.codes import FINANCING_BUSINESS_TYPES
from validations.catalog import Rule, rule
from validations.context import Institution, Period
from validations.exact import RATIO, RATIO_SCALE, as_decimal, compare, floats, holds, to_decimal, unscaled
from validations.findings import FINDINGS_SCHEMA, Findings
from validations.prudential import indicators
from validations.prudential.measures import Measures, epoch_days, mask
from validations.prudential.reference import ReferenceValues
from validations.prudential.subsidy import PROGRAMS, SubsidyResult, sub_001_detail
from validations.prudential.text import amount, number, percent

FILE = "guarantees"


def check(
    m: Measures,
    subsidy: SubsidyResult,
    institution: Institution,
    period: Period,
    ref: ReferenceValues,
    findings: Findings,
) -> None:
    """Add every phase-4 finding of one filing to ``findings``."""
    leverage(m, institution, ref, findings)
    concentration(m, ref, findings)
    related_parties(m, findings)
    financials(m, ref, findings)
    negative_list(m, period, ref, findings)
    policy(m, institution, ref, findings)
    subsidies(m, subsidy, ref, findings)


def _rows(findings: Findings, r: Rule, m: Measures, where: np.ndarray, column: str, zh: str, en: str) -> None:
    message_zh, message_en = r.messages(zh, en)
    findings.add_rows(
        rule_id=r.id,
        severity=r.severity,
        file=FILE,
        column=column,
        mask=where,
        values=m.rows.table[column],
        message_zh=message_zh,
        message_en=message_en,
    )


# ---------------------------------------------------------------- PRU-001 leverage


def leverage(m: Measures, institution: Institution, ref: ReferenceValues, findings: Findings) -> None:
    """PRU-001: measured financing liability / net assets for leverage > 10 (15 for focus guarantors),
    decided as ``measured > cap × base`` on exact values."""
    cap = ref.decimal("leverage_cap_focus" if institution.focus_small_micro_agri else "leverage_cap")
    measured = m.measured_financing_liability
    base = m.net_assets_for_leverage
    breach = holds(measured, ">", Fraction(cap) * Fraction(base)) if base > 0 else measured > 0
    if not breach:
        return
    multiple = number(measured / Fraction(base)) if base > 0 else None
    shown = multiple if multiple is not None else "—"
    findings.add(
        rule("PRU-001").finding(
            f"融资担保责任余额 {amount(measured)} 元，净资产（扣除对其他融资担保和再担保公司股权投资）"
            f"{amount(base)} 元，放大倍数 {shown}，上限 {number(cap)} 倍",
            f"measured financing liability {amount(measured)} yuan over net assets for leverage "
            f"{amount(base)} yuan is {shown}×, cap {number(cap)}×",
            value=multiple if multiple is not None else amount(measured).replace(",", ""),
        )
    )


# ---------------------------------------------------------------- PRU-002/003 concentration


def concentration(m: Measures, ref: ReferenceValues, findings: Findings) -> None:
    """PRU-002 per party, PRU-003 per related group: unweighted exposure over net_assets, strict >,
    decided exactly (``exposure > limit × net_assets`` on decimals); the shares in the messages are
    display figures computed after the decision."""
    net_assets = m.financials.net_assets
    for rule_id, table, id_column, limit_name in (
        ("PRU-002", m.parties, "party_id", "party_exposure_limit"),
        ("PRU-003", m.groups, "group_id", "group_exposure_limit"),
    ):
        limit = ref.decimal(limit_name)
        breach = compare(table["exposure"], ">", to_decimal(Fraction(limit) * Fraction(net_assets)))
        if not breach.any():
            continue
        over = table.filter(pa.array(breach)).sort_by(id_column)  # by id: group_by order is not stable
        ids = over[id_column]
        exact_exposure = floats(over["exposure"], 0.0)
        exposure = floats(pc.round(over["exposure"].combine_chunks(), 2, round_mode="half_up"), 0.0)
        if rule_id == "PRU-003":
            is_group = over["is_group"]
            label_zh = pc.if_else(is_group, "关联集团 ", "被担保人（无关联集团）")
            label_en = pc.if_else(is_group, "related group ", "party (no group) ")
        else:
            label_zh, label_en = pa.scalar("被担保人 "), pa.scalar("party ")
        shares = exact_exposure / float(net_assets) if net_assets > 0 else np.full(len(exposure), np.inf)
        _institution_rows(
            findings,
            rule(rule_id),
            value=_text(np.round(shares, 10)),
            zh=[
                label_zh,
                ids,
                " 的融资担保责任余额 ",
                _text(exposure),
                " 元，占净资产 ",
                _text(np.round(shares * 100, 8)),
                f"%，上限 {percent(limit)}",
            ],
            en=[
                label_en,
                ids,
                "'s financing exposure ",
                _text(exposure),
                " yuan is ",
                _text(np.round(shares * 100, 8)),
                f"% of net assets, limit {percent(limit)}",
            ],
        )


def _text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values, pa.float64()), pa.string())


def _institution_rows(findings: Findings, r: Rule, value: pa.Array, zh: list, en: list) -> None:
    """Many institution-level findings of one rule at once (one per party or group)."""
    n = len(value)
    title_zh, title_en = r.messages()
    findings.extend_table(
        pa.table(
            {
                "rule_id": pa.repeat(pa.scalar(r.id), n),
                "severity": pa.repeat(pa.scalar(str(r.severity)), n),
                "file": pa.nulls(n, pa.string()),
                "row": pa.nulls(n, pa.int64()),
                "column": pa.nulls(n, pa.string()),
                "value": value,
                "message_zh": _join([f"{title_zh}：", *zh], n),
                "message_en": _join([f"{title_en}: ", *en], n),
            },
            schema=FINDINGS_SCHEMA,
        )
    )


def _join(parts: list, n: int) -> pa.Array:
    joined = pc.binary_join_element_wise(*parts, "")
    if isinstance(joined, pa.Scalar):
        joined = pa.repeat(joined, n)
    return joined


# ---------------------------------------------------------------- PRU-004/005 related parties


def related_parties(m: Measures, findings: Findings) -> None:
    """PRU-004: financing to a controlling shareholder or actual controller. PRU-005: financing to an
    other_related party priced below the median fee of the same business_type's unrelated rows."""
    insiders = m.rows.financing & m.rows.is_in(
        "guarantor_relation", ("controlling_shareholder", "actual_controller")
    )
    if insiders.any():
        _rows(
            findings,
            rule("PRU-004"),
            m,
            insiders,
            "guarantor_relation",
            "被担保人为担保机构的控股股东或实际控制人",
            "the party is the guarantor's controlling shareholder or actual controller",
        )
    unrelated = m.rows.eq("guarantor_relation", "none")
    other_related = m.rows.eq("guarantor_relation", "other_related")
    if not other_related.any():
        return
    fee = m.rows.fee_rate  # units of 10⁻¹⁸
    related_rows = np.flatnonzero(other_related)  # few: only they are compared with the median
    for business_type in FINANCING_BUSINESS_TYPES:
        of_type = m.rows.eq("business_type", business_type)
        peers = fee[of_type & unrelated]
        if len(peers) == 0:
            continue
        low, high = middle_values(peers)
        # fee < (low + high) / 2, in integers without overflow: fee − low < high − fee
        candidates = related_rows[of_type[related_rows]]
        their_fee = fee[candidates]
        below = np.zeros(len(fee), dtype=bool)
        below[candidates[their_fee - low < high - their_fee]] = True
        median = Fraction(int(low) + int(high), 2 * 10**RATIO_SCALE)
        if below.any():
            _rows(
                findings,
                rule("PRU-005"),
                m,
                below,
                "fee_rate",
                f"{business_type} 业务费率低于非关联方同类业务费率中位数 {number(median)}",
                f"{business_type} fee_rate below the median {number(median)} of unrelated rows of that type",
            )


def middle_values(values: np.ndarray) -> tuple[np.int64, np.int64]:
    """The two middle values of integer fee rates (the same one twice for an odd count): the median
    is their mean, kept as the pair so that "below the median" is decided in integers."""
    n = len(values)
    middle = np.partition(values, [(n - 1) // 2, n // 2])
    return middle[(n - 1) // 2], middle[n // 2]


# ---------------------------------------------------------------- PRU-006..011 financials


def financials(m: Measures, ref: ReferenceValues, findings: Findings) -> None:
    f = m.financials
    minimum = ref.decimal("min_paid_in_capital")
    if f.paid_in_capital < minimum:  # PRU-006
        findings.add(
            rule("PRU-006").finding(
                f"实缴注册资本 {amount(f.paid_in_capital)} 元，下限 {amount(minimum)} 元",
                f"paid-in capital {amount(f.paid_in_capital)} yuan, minimum {amount(minimum)} yuan",
                value=number(f.paid_in_capital),
            )
        )
    measured = m.measured_financing_liability
    base = f.asset_base
    base_zh, base_en = "资产总额扣除应收代偿款", "total assets less receivable compensation"
    for rule_id, value, zh, en, of, of_zh, of_en, name, below in (
        ("PRU-007", f.unearned_premium_reserve, "未到期责任准备金", "unearned premium reserve",
         f.fee_income_ytd, "本年累计担保费收入", "fee income of the year",
         "upr_min_share_of_fee_income", True),
        ("PRU-008", f.compensation_reserve, "担保赔偿准备金", "compensation reserve",
         measured, "融资担保责任余额", "measured financing liability",
         "compensation_reserve_min_share", True),
        ("PRU-009", f.class_i_assets + f.class_ii_assets, "Ⅰ级和Ⅱ级资产", "class I + II assets",
         base, base_zh, base_en, "class_i_ii_min_share", True),
        ("PRU-010", f.class_i_assets, "Ⅰ级资产", "class I assets",
         base, base_zh, base_en, "class_i_min_share", True),
        ("PRU-011", f.class_iii_assets, "Ⅲ级资产", "class III assets",
         base, base_zh, base_en, "class_iii_max_share", False),
    ):  # fmt: skip
        limit = ref.decimal(name)
        bound = Fraction(limit) * Fraction(of)
        if holds(value, "<", bound) if below else holds(value, ">", bound):
            bound_zh, bound_en = ("下限", "minimum") if below else ("上限", "maximum")
            share = _share(value, of)
            findings.add(
                rule(rule_id).finding(
                    f"{zh} {amount(value)} 元，占{of_zh} {amount(of)} 元的 {share}，"
                    f"{bound_zh} {percent(limit)}",
                    f"{en} {amount(value)} yuan is {share} of {of_en} {amount(of)} yuan, "
                    f"{bound_en} {percent(limit)}",
                    value=_ratio(value, of),
                )
            )


def _ratio(numerator: Decimal | Fraction, denominator: Decimal | Fraction) -> str | None:
    return number(Fraction(numerator) / Fraction(denominator)) if denominator > 0 else None


def _share(numerator: Decimal | Fraction, denominator: Decimal | Fraction) -> str:
    return percent(Fraction(numerator) / Fraction(denominator)) if denominator > 0 else "—"


# ---------------------------------------------------------------- NEG-001..005 negative list


def negative_list(m: Measures, period: Period, ref: ReferenceValues, findings: Findings) -> None:
    financing = m.rows.financing
    start = m.rows.start
    overcapacity = financing & m.rows.is_in("industry_code", ref.industries("NEG-001"))
    in_period = (start >= epoch_days(period.start)) & (start <= epoch_days(period.end))
    classes = "、".join(sorted(ref.industries("NEG-001")))
    for rule_id, where, zh, en in (
        (
            "NEG-001",
            overcapacity & in_period,
            f"本期新增，行业代码属于 {classes}",
            f"started in the period, industry class in {classes.replace('、', ', ')}",
        ),
        (
            "NEG-005",
            overcapacity & m.rows.active & (start < epoch_days(period.start)),
            f"报告期前发放、仍在保，行业代码属于 {classes}，到期或解除前每期报告",
            "active, started before the period; reported each period until it ends",
        ),
        (
            "NEG-002",
            financing & m.rows.is_in("industry_code", ref.industries("NEG-002")),
            "须确认开发商资质和备案",
            "confirm the developer's qualification and record",
        ),
        (
            "NEG-004",
            financing & m.rows.is_in("industry_code", ref.industries("NEG-004")),
            "网络借贷服务",
            "online lending",
        ),
    ):
        if where.any():
            _rows(findings, rule(rule_id), m, where, "industry_code", zh, en)
    high_interest(m, ref, findings)


def high_interest(m: Measures, ref: ReferenceValues, findings: Findings) -> None:
    """NEG-003: loan_interest_rate > multiple × the LPR in force on start_date (strict), decided on
    integers in units of 10⁻¹⁸: the filed rate and the Decimal product multiple × LPR, both exact."""
    table = m.rows.table
    loans = m.rows.is_in("business_type", ("loan", "housing_loan"))
    if not loans.any():
        return
    start = m.rows.start
    column = as_decimal(table["loan_interest_rate"], RATIO)
    rate = unscaled(column, RATIO_SCALE)
    limit, has_lpr = ref.high_interest_limit_scaled(start, RATIO_SCALE)
    # no rate, or no LPR yet (a loan that started before 2019-08-20), is never a breach
    breach = loans & has_lpr & mask(pc.is_valid(column)) & (rate > limit)
    if not breach.any():
        return
    lpr_index = ref.lpr_index(start)
    multiple = ref.decimal("lpr_multiple_high_interest")
    for index in sorted(np.unique(lpr_index[breach]), key=lambda i: ref.lpr[int(i) - 1][1]):  # one per LPR
        where = breach & (lpr_index == index)
        lpr = ref.lpr[int(index) - 1][1]
        lpr_text, limit_text = percent(lpr), percent(Fraction(lpr) * Fraction(multiple))
        _rows(
            findings,
            rule("NEG-003"),
            m,
            where,
            "loan_interest_rate",
            f"高于起始日一年期LPR {lpr_text} 的{number(multiple)}倍（{limit_text}）",
            f"above {number(multiple)} × the one-year LPR {lpr_text} in force on start_date ({limit_text})",
        )


# ---------------------------------------------------------------- POL-001..003 policy


def policy(m: Measures, institution: Institution, ref: ReferenceValues, findings: Findings) -> None:
    if institution.kind == "government":  # POL-001
        households, qualifying = indicators.household_counts(m)
        minimum = ref.decimal("household_share_min")
        if households > 0 and holds(qualifying, "<", Fraction(minimum) * households):
            share = Fraction(qualifying, households)
            findings.add(
                rule("POL-001").finding(
                    f"区内在保融资担保户数 {households} 户，其中小微和三农 {qualifying} 户，"
                    f"占比 {percent(share)}，下限 {percent(minimum)}",
                    f"{qualifying} of {households} in-district households are small-micro or 三农 "
                    f"({percent(share)}), minimum {percent(minimum)}",
                    value=number(share),
                )
            )
    if institution.kind in ("government", "mixed"):  # POL-002
        rate = indicators.weighted_fee_rate(m, m.rows.counted & m.rows.small_micro_agri)
        maximum = ref.decimal("small_micro_agri_fee_rate_max")
        # Σ exposure × fee / Σ exposure as an exact Fraction: every row at exactly 1% is exactly 1%
        if rate is not None and holds(rate, ">", maximum):
            findings.add(
                rule("POL-002").finding(
                    f"小微和三农融资担保加权平均费率 {percent(rate)}，上限 {percent(maximum)}",
                    f"exposure-weighted fee rate over small-micro and 三农 guarantees {percent(rate)}, "
                    f"maximum {percent(maximum)}",
                    value=number(rate),
                )
            )
    if institution.focus_small_micro_agri:  # POL-003
        total = m.financing_exposure
        qualifying_exposure = indicators.small_micro_agri_exposure(m)
        minimum = ref.decimal("small_micro_agri_exposure_share_min")
        if total > 0 and holds(qualifying_exposure, "<", Fraction(minimum) * total):
            share = qualifying_exposure / total
            findings.add(
                rule("POL-003").finding(
                    f"小微和三农融资担保责任余额 {amount(qualifying_exposure)} 元，占融资担保责任余额 "
                    f"{amount(total)} 元的 {percent(share)}，下限 {percent(minimum)}",
                    f"small-micro and 三农 exposure {amount(qualifying_exposure)} yuan is {percent(share)} "
                    f"of financing exposure {amount(total)} yuan, minimum {percent(minimum)}",
                    value=number(share),
                )
            )


# ---------------------------------------------------------------- SUB-001 subsidy claims


def subsidies(m: Measures, subsidy: SubsidyResult, ref: ReferenceValues, findings: Findings) -> None:
    for program in PROGRAMS:
        where = subsidy.ineligible[program]
        if where.any():
            zh, en = sub_001_detail(program, ref)
            _rows(findings, rule("SUB-001"), m, where, "subsidy_program", zh, en)
