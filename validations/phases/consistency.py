"""Phase 3 — consistency (BIZ-001..009) within the filing and against the registry."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from validations.catalog import rule
from validations.context import Institution, Period
from validations.findings import Findings
from validations.parse import ParsedFile
from validations.phases.common import flag

ENDED = pa.array(["released", "compensated"])


def check_consistency(
    files: dict[str, ParsedFile],
    findings: Findings,
    period: Period,
    institution: Institution,
    previous: pa.Table | None = None,
) -> None:
    """``previous`` is the guarantees table of the guarantor's last accepted filing (BIZ-010)."""
    if "guarantees" in files:
        _guarantees(files["guarantees"], findings, period, institution)
        if previous is not None:
            _against_previous(files["guarantees"], previous, findings)
    if "compensations" in files:
        _compensations(files["compensations"], files.get("guarantees"), findings, period)
    if "financials" in files:
        _financials(files["financials"], findings)


def _guarantees(g: ParsedFile, findings: Findings, period: Period, institution: Institution) -> None:
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


def _compensations(c: ParsedFile, g: ParsedFile | None, findings: Findings, period: Period) -> None:
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
