"""Rules 1.2-draft, phase 4 (docs/spec/rules-1.2-draft.md): early warning (EWS-001..003, 巴南府发〔2017〕30号
五(十二)) and bank cooperation (BNK-001..003, 五(十), 五(十一)), on template 1.1's data only.

A 1.0 filing gets none of these findings (``applies``): its results stay exactly what they were.
Readings (docs/phase4-readings.md, "Template 1.1"):

- EWS-001: a row classed 3, 4 or 5 whose ``five_category_date`` lies in the period (both ends in):
  it became non-performing in this period, whatever its status.
- EWS-002: Σ ``overdue_amount`` of active financing rows against the same sum in the guarantor's last
  accepted filing, when that filing is a 1.1 one: a warning when the current sum is above zero and
  above the previous × (1 + ``overdue_growth_max``), exactly (so any overdue after none is a warning).
- EWS-003: Σ exposure of active financing rows classed 3–5 over the financing exposure, above
  ``non_performing_share_max``; no finding without financing exposure.
- BNK-001: ``compensation_date`` − ``bank_claim_date`` in calendar days above ``payout_days_max``.
- BNK-002: a guarantor with an active ``loan`` or ``housing_loan`` guarantee whose registry rating is
  missing, below ``bank_min_rating`` on the scale of ``schemas.codes.INSTITUTION_RATINGS``, or dated more
  than ``rating_max_age_days`` before the period end. One institution-level finding.
- BNK-003: a row with a ``reguarantee_ref`` whose ``bank_margin_amount`` is above
  ``reguaranteed_margin_max`` × ``guaranteed_amount``, exactly.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from schemas.codes import FINANCING_BUSINESS_TYPES, INSTITUTION_RATINGS, NON_PERFORMING
from validations.catalog import rule
from validations.context import Institution, Period
from validations.exact import AMOUNT, as_decimal, fen, ratio, total
from validations.findings import Findings
from validations.prudential.measures import Measures, day_numbers, epoch_days, mask
from validations.prudential.reference import ReferenceValues
from validations.prudential.text import amount, percent


def applies(guarantees: pa.Table) -> bool:
    """Template 1.1's guarantees (the rules read its columns)."""
    return "bank_risk_share" in guarantees.column_names


def overdue_total(guarantees: pa.Table) -> Fraction | None:
    """Σ overdue_amount of active financing rows; None for a 1.0 table."""
    if "overdue_amount" not in guarantees.column_names:
        return None
    counted = mask(pc.and_(pc.equal(guarantees["status"], "active"),
                           pc.is_in(guarantees["business_type"], pa.array(FINANCING_BUSINESS_TYPES))))
    return total(as_decimal(guarantees["overdue_amount"], AMOUNT), counted)


def non_performing_exposure(m: Measures) -> Fraction:
    rows = m.rows
    return total(rows.exposure, rows.counted & rows.is_in("five_category", NON_PERFORMING))


def check(
    m: Measures,
    compensations: pa.Table | None,
    previous: pa.Table | None,
    institution: Institution,
    period: Period,
    ref: ReferenceValues,
    findings: Findings,
) -> None:
    g = m.rows.table
    if not applies(g):
        return
    _ews_001(m, period, findings)
    _ews_002(g, previous, ref, findings)
    _ews_003(m, ref, findings)
    if compensations is not None and "bank_claim_date" in compensations.column_names:
        _bnk_001(compensations, ref, findings)
    _bnk_002(m, institution, period, ref, findings)
    _bnk_003(g, ref, findings)


def _ews_001(m: Measures, period: Period, findings: Findings) -> None:
    g = m.rows.table
    days = day_numbers(g["five_category_date"], fill=-(2**31))
    moved = (days >= epoch_days(period.start)) & (days <= epoch_days(period.end))
    where = moved & m.rows.is_in("five_category", NON_PERFORMING)
    r = rule("EWS-001")
    zh, en = r.messages(f"五级分类调整日期在报告期 {period} 内", f"five_category_date within the period {period}")
    findings.add_rows(rule_id=r.id, severity=r.severity, file="guarantees", column="five_category",
                      mask=where, values=g["five_category"], message_zh=zh, message_en=en)


def _ews_002(g: pa.Table, previous: pa.Table | None, ref: ReferenceValues, findings: Findings) -> None:
    before = overdue_total(previous) if previous is not None else None
    now = overdue_total(g)
    if before is None or now is None or now <= 0:
        return
    line = before * (1 + Fraction(ref.decimal("overdue_growth_max")))
    if now <= line:
        return
    r = rule("EWS-002")
    findings.add(r.finding(
        f"逾期金额 {amount(now)} 元，上期 {amount(before)} 元，预警线 {amount(line)} 元",
        f"overdue amount {amount(now)} yuan, last accepted filing {amount(before)} yuan, line {amount(line)} yuan",
        value=amount(now)))


def _ews_003(m: Measures, ref: ReferenceValues, findings: Findings) -> None:
    if m.financing_exposure <= 0:
        return
    bad = non_performing_exposure(m)
    limit = Fraction(ref.decimal("non_performing_share_max"))
    if bad <= limit * m.financing_exposure:
        return
    share = ratio(bad, m.financing_exposure)
    r = rule("EWS-003")
    findings.add(r.finding(f"不良占比 {percent(share)}，预警线 {percent(float(limit))}",
                           f"non-performing share {percent(share)}, line {percent(float(limit))}",
                           value=f"{share:.6f}"))


def _bnk_001(c: pa.Table, ref: ReferenceValues, findings: Findings) -> None:
    limit = ref.integer("payout_days_max")
    delay = day_numbers(c["compensation_date"]) - day_numbers(c["bank_claim_date"])
    late = mask(pc.and_(pc.is_valid(c["bank_claim_date"]), pc.is_valid(c["compensation_date"]))) & (delay > limit)
    r = rule("BNK-001")
    zh, en = r.messages(f"索赔后超过 {limit} 天才代偿", f"paid more than {limit} days after the bank's claim")
    findings.add_rows(rule_id=r.id, severity=r.severity, file="compensations", column="compensation_date",
                      mask=late, values=pc.cast(c["compensation_date"], pa.string()),
                      message_zh=zh, message_en=en)


def rating_problem(institution: Institution, period_end: dt.date, ref: ReferenceValues) -> tuple[str, str] | None:
    """Why the guarantor's third-party rating does not meet what banks require, or None."""
    floor = ref.text("bank_min_rating")
    if not institution.rating_grade or not institution.rating_date:
        return "无第三方信用评级", "no third-party rating in the registry"
    if INSTITUTION_RATINGS.index(institution.rating_grade) > INSTITUTION_RATINGS.index(floor):
        return (f"评级 {institution.rating_grade} 低于 {floor}",
                f"rating {institution.rating_grade} is below {floor}")
    age = (period_end - dt.date.fromisoformat(institution.rating_date)).days
    if age > ref.integer("rating_max_age_days"):
        return (f"评级日期 {institution.rating_date} 已超过 {ref.integer('rating_max_age_days')} 天",
                f"rated on {institution.rating_date}, more than {ref.integer('rating_max_age_days')} days ago")
    return None


def _bnk_002(m: Measures, institution: Institution, period: Period, ref: ReferenceValues, findings: Findings) -> None:
    lends = m.rows.active & m.rows.is_in("business_type", ("loan", "housing_loan"))
    if not lends.any():
        return
    problem = rating_problem(institution, period.end, ref)
    if problem is None:
        return
    findings.add(rule("BNK-002").finding(*problem, column="rating_grade", value=institution.rating_grade))


def _bnk_003(g: pa.Table, ref: ReferenceValues, findings: Findings) -> None:
    reguaranteed = mask(pc.and_(pc.is_valid(g["reguarantee_ref"]), pc.not_equal(g["reguarantee_ref"], "")))
    if not reguaranteed.any():
        return
    limit = Fraction(ref.decimal("reguaranteed_margin_max"))
    rows = np.flatnonzero(reguaranteed)
    margin = fen(g["bank_margin_amount"])[rows]
    guaranteed = fen(g["guaranteed_amount"])[rows]
    over = np.zeros(g.num_rows, dtype=bool)
    # margin / guaranteed > limit, cross-multiplied: in int64 when no product can overflow, else in
    # exact Python integers
    largest = max(int(np.abs(margin).max(initial=0)), int(np.abs(guaranteed).max(initial=0)))
    if largest * max(limit.numerator, limit.denominator) < 2**62:
        over[rows] = margin * limit.denominator > guaranteed * limit.numerator
    else:
        over[rows] = [m * limit.denominator > a * limit.numerator
                      for m, a in zip(margin.tolist(), guaranteed.tolist(), strict=True)]
    if not over.any():
        return  # nothing to report: the margins are not written out as text
    r = rule("BNK-003")
    zh, en = r.messages(f"存出保证金超过担保金额的 {percent(float(limit))}",
                        f"bank margin above {percent(float(limit))} of guaranteed_amount")
    findings.add_rows(rule_id=r.id, severity=r.severity, file="guarantees", column="bank_margin_amount",
                      mask=over, values=pc.cast(g["bank_margin_amount"], pa.string()),
                      message_zh=zh, message_en=en)
