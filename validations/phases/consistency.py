"""Phase 3 — consistency (BIZ-001..012) within the filing, against the registry and the manifest.

Readings (docs/readings.md, "Consistency (phase 3)"):

- BIZ-011 looks at every row of the party, whatever its status or business type, as PRU-003 does. A
  party "carries more than one related_group_id" when its rows name at least two different non-empty
  ids (a row that names none carries none). Then every row of that party whose ``related_group_id``
  differs from the one on the party's first row is reported, an empty one included: the first row is
  what the guarantor is asked to agree with.
- BIZ-012: ``period_end`` is compared with the last day of the manifest's ``period``.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from validations.catalog import rule
from validations.context import Institution, Period
from validations.distinct import distinct
from validations.exact import RATIO_SCALE, fen, unscaled
from validations.findings import Findings
from validations.parse import ParsedFile
from validations.phases.common import Check, flag

ENDED = pa.array(["released", "compensated"])


def consistency_checks(
    files: dict[str, ParsedFile],
    period: Period,
    institution: Institution,
    previous: pa.Table | None = None,
) -> list[Check]:
    """The BIZ checks of one filing, each adding what it finds, in the order their findings are listed."""
    checks: list[Check] = []
    g, c, f = files.get("guarantees"), files.get("compensations"), files.get("financials")
    if g is not None:
        checks += [partial(_guarantees, g, period=period, institution=institution), partial(_party_groups, g)]
        if previous is not None:
            checks.append(partial(_against_previous, g, previous))
    if c is not None:
        checks.append(partial(_compensations, c, g, period=period))
    if f is not None:
        checks += [partial(_financials, f), partial(_period_end, f, period=period)]
    if g is not None and "bank_risk_share" in g.spec.column_names:
        checks.append(partial(_template_1_1, g, c, period=period))
    return checks


def _template_1_1(g: ParsedFile, c: ParsedFile | None, findings: Findings, *, period: Period) -> None:
    """1.2-draft BIZ-013..015 on template 1.1's columns (docs/spec/rules-1.2-draft.md)."""
    t, text = g.typed, g.text
    # BIZ-013: the shares of one guarantee never exceed the whole (exactly, in units of 10⁻¹⁸)
    shares = (unscaled(t["liability_share"], RATIO_SCALE) + unscaled(t["bank_risk_share"], RATIO_SCALE)
              + unscaled(t["reguarantee_share"], RATIO_SCALE))
    flag(findings, "BIZ-013", "guarantees", "bank_risk_share", shares > 10**RATIO_SCALE,
         text["bank_risk_share"], "三方分担比例之和应不超过 1", "the three shares together must not exceed 1")
    # BIZ-014: registration and five-category dates on or before the period end
    period_end = pa.scalar(period.end, pa.date32())
    for column, zh in (("collateral_reg_date", "抵质押登记日期"), ("five_category_date", "五级分类调整日期")):
        flag(findings, "BIZ-014", "guarantees", column, pc.greater(t[column], period_end), text[column],
             f"{zh}晚于报告期末 {period.end}", f"{column} is after the period end {period.end}")
    if c is None:
        return
    # BIZ-014: the bank claims before the guarantor pays
    flag(findings, "BIZ-014", "compensations", "bank_claim_date",
         pc.greater(c.typed["bank_claim_date"], c.typed["compensation_date"]), c.text["bank_claim_date"],
         "银行索赔日期晚于代偿日期", "bank_claim_date is after compensation_date")
    # BIZ-015: what is recovered and written off never exceeds what was paid (fen, exact)
    over = (fen(c.typed["recovered_to_date"]) + fen(c.typed["written_off_to_date"])) > fen(c.typed["amount_paid"])
    flag(findings, "BIZ-015", "compensations", "written_off_to_date", over, c.text["written_off_to_date"],
         "累计追偿回收与累计核销之和超过代偿金额", "recovered_to_date + written_off_to_date exceed amount_paid")


def _guarantees(g: ParsedFile, findings: Findings, *, period: Period, institution: Institution) -> None:
    t, text = g.typed, g.text
    start, maturity, closed = t["start_date"], t["maturity_date"], t["closed_date"]
    period_start, period_end = pa.scalar(period.start, pa.date32()), pa.scalar(period.end, pa.date32())
    # BIZ-001
    flag(findings, "BIZ-001", "guarantees", "maturity_date", pc.less_equal(maturity, start), text["maturity_date"],
         "到期日期应晚于起始日期", "maturity_date must be after start_date")
    # BIZ-002
    flag(findings, "BIZ-002", "guarantees", "outstanding_balance",
         pc.greater(t["outstanding_balance"], t["guaranteed_amount"]), text["outstanding_balance"])
    # BIZ-003 (warning)
    flag(findings, "BIZ-003", "guarantees", "guaranteed_amount",
         pc.greater(t["guaranteed_amount"], t["loan_amount"]), text["guaranteed_amount"])
    # BIZ-004: start after the period end; closed_date outside (start_date, period end]
    flag(findings, "BIZ-004", "guarantees", "start_date", pc.greater(start, period_end), text["start_date"],
         f"起始日期晚于报告期末 {period.end}", f"start_date is after the period end {period.end}")
    closed_outside = pc.or_(pc.less_equal(closed, start), pc.greater(closed, period_end))
    flag(findings, "BIZ-004", "guarantees", "closed_date", closed_outside, text["closed_date"],
         f"解除日期应在起始日期之后、报告期末 {period.end} 之前（含）",
         f"closed_date must be after start_date and on or before the period end {period.end}")
    # BIZ-005
    ended = pc.is_in(t["status"], ENDED)
    flag(findings, "BIZ-005", "guarantees", "outstanding_balance",
         pc.and_(ended, pc.greater(t["outstanding_balance"], 0)), text["outstanding_balance"])
    # BIZ-006 (warning): active and matured before the period started
    flag(findings, "BIZ-006", "guarantees", "maturity_date",
         pc.and_(pc.equal(t["status"], "active"), pc.less(maturity, period_start)), text["maturity_date"],
         f"到期日期早于报告期初 {period.start}", f"matured before the period start {period.start}")
    # BIZ-009: separate accounting for government and mixed guarantors
    if institution.kind in ("government", "mixed"):
        flag(findings, "BIZ-009", "guarantees", "account_type", pc.equal(text["account_type"], ""), None,
             f"{institution.kind} 类机构须填写核算类别", f"required for a {institution.kind} guarantor")


def _against_previous(g: ParsedFile, previous: pa.Table, findings: Findings) -> None:
    """BIZ-010: an active guarantee vanished without having ended, or an ended one came back as active."""
    ids, status = g.text["guarantee_id"], g.typed["status"]
    was_active = pc.filter(previous["guarantee_id"], pc.equal(previous["status"], "active"))
    missing = pc.filter(was_active, pc.invert(pc.is_in(was_active, ids)))
    r = rule("BIZ-010")
    zh, en = r.messages("上期在保的业务本期缺失且未报解除",
                        "active in the last accepted filing, now missing without having ended")
    findings.add_values(rule_id=r.id, severity=r.severity, file="guarantees", column="guarantee_id",
                        values=missing, message_zh=zh, message_en=en)
    ended_before = pc.filter(previous["guarantee_id"], pc.is_in(previous["status"], ENDED))
    revived = pc.and_(pc.equal(status, "active"), pc.is_in(ids, ended_before))
    flag(findings, "BIZ-010", "guarantees", "status", revived, ids,
         "上期已解除的业务本期又报为在保", "ended in the last accepted filing, now active again")


def _compensations(c: ParsedFile, g: ParsedFile | None, findings: Findings, *, period: Period) -> None:
    """BIZ-007: a payout names a compensated guarantee of this filing and falls within the period."""
    compensated = (
        pc.filter(g.text["guarantee_id"], pc.equal(g.typed["status"], "compensated")).combine_chunks()
        if g is not None else pa.array([], pa.string())
    )
    orphan = pc.invert(pc.is_in(c.text["guarantee_id"], compensated))
    flag(findings, "BIZ-007", "compensations", "guarantee_id", orphan, c.text["guarantee_id"],
         "不是本次报送中状态为已代偿的担保业务", "not a compensated guarantee of this filing")
    date = c.typed["compensation_date"]
    outside = pc.or_(pc.less(date, pa.scalar(period.start, pa.date32())),
                     pc.greater(date, pa.scalar(period.end, pa.date32())))
    flag(findings, "BIZ-007", "compensations", "compensation_date", outside, c.text["compensation_date"],
         f"代偿日期不在报告期 {period} 内", f"compensation_date is outside the period {period}")


def _financials(f: ParsedFile, findings: Findings) -> None:
    """BIZ-008: net assets within total assets; class I+II+III within (total − receivable) + 1 yuan."""
    if f.num_rows != 1:
        return
    row = {name: f.typed[name][0].as_py() for name in f.typed.column_names}
    r = rule("BIZ-008")
    if row["net_assets"] > row["total_assets"]:
        findings.add(r.finding("净资产大于资产总额", "net_assets is greater than total_assets",
                               file="financials", row=1, column="net_assets", value=row["net_assets"]))
    classes = row["class_i_assets"] + row["class_ii_assets"] + row["class_iii_assets"]
    base = row["total_assets"] - row["receivable_compensation"]
    if round(classes - base, 2) > 1:
        findings.add(r.finding(
            f"Ⅰ+Ⅱ+Ⅲ级资产 {classes:.2f} 超过资产总额减应收代偿款 {base:.2f} 逾 1 元",
            f"class I+II+III assets {classes:.2f} exceed total_assets − receivable_compensation {base:.2f} by more than 1 yuan",
            file="financials", row=1, column="class_iii_assets", value=f"{classes:.2f}",
        ))


def _period_end(f: ParsedFile, findings: Findings, *, period: Period) -> None:
    """BIZ-012: the financials' period_end is the last day of the manifest's period."""
    period_end = f.typed["period_end"]
    wrong = pc.not_equal(period_end, pa.scalar(period.end, pa.date32()))
    flag(findings, "BIZ-012", "financials", "period_end", wrong, f.text["period_end"],
         f"报告期 {period} 的最后一天是 {period.end}", f"the last day of the period {period} is {period.end}")


def _party_groups(g: ParsedFile, findings: Findings) -> None:
    """BIZ-011: a party whose rows name two or more related groups; each of its rows whose group
    differs from its first row's is reported. Column-wise: parties and groups as dictionary codes,
    each party's first row by ``np.unique``, its distinct named groups by unique (party, group) pairs."""
    parties, groups = g.text["party_id"], g.text["related_group_id"]
    if len(parties) == 0:
        return
    party = g.codes.indices("party_id").astype(np.int64)  # the dictionary codes phase 4 groups parties by
    group = g.codes.indices("related_group_id").astype(np.int64)  # an empty one is the null code
    named = ~g.codes.is_null("related_group_id")
    pairs = distinct(party[named] * (int(group.max()) + 1) + group[named])
    per_party = np.bincount(pairs // (int(group.max()) + 1), minlength=int(party.max()) + 1)
    several = per_party[party] >= 2
    if not several.any():
        return
    _, first = np.unique(party, return_index=True)  # codes are 0..k-1: first[c] is party c's first row
    first_group = group[first][party]
    differs = several & (group != first_group)
    first_value = pc.take(groups, pa.array(first[party]))
    shown = pc.if_else(pc.equal(first_value, ""), "（空）", first_value)
    shown_en = pc.if_else(pc.equal(first_value, ""), "(empty)", first_value)
    r = rule("BIZ-011")
    where = pa.array(differs)
    rows = pc.indices_nonzero(where)
    message_zh = pc.binary_join_element_wise(
        f"{r.title_zh}：被担保人 ", pc.take(parties, rows), " 首行的关联集团标识为 ", pc.take(shown, rows), ""
    )
    message_en = pc.binary_join_element_wise(
        f"{r.title_en}: party ", pc.take(parties, rows), "'s first row names related group ",
        pc.take(shown_en, rows), "",
    )
    findings.extend_table(pa.table({
        "rule_id": pa.repeat(pa.scalar(r.id), len(rows)),
        "severity": pa.repeat(pa.scalar(str(r.severity)), len(rows)),
        "file": pa.repeat(pa.scalar("guarantees"), len(rows)),
        "row": pc.add(pc.cast(rows, pa.int64()), 1),
        "column": pa.repeat(pa.scalar("related_group_id"), len(rows)),
        "value": pc.take(groups, rows),
        "message_zh": message_zh,
        "message_en": message_en,
    }))
