"""The rule catalog (rules.md, version 1.1, and Danbao's 1.2-draft for template 1.1 in
docs/spec/rules-1.2-draft.md): one ``Rule`` object per ID.

The implementations live in the phase modules and cite these IDs; this module is the single place
that says what each rule is, how severe it is, where it comes from, and how it speaks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from validations.findings import Finding, Severity

SPEC = "docs/spec/rules.md"
E, W = Severity.ERROR, Severity.WARNING


@dataclass(frozen=True)
class Rule:
    id: str
    phase: int
    severity: Severity
    title_zh: str
    title_en: str
    citation: str
    source: str

    def finding(
        self,
        detail_zh: str = "",
        detail_en: str = "",
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: Any = None,
    ) -> Finding:
        """A single finding of this rule; ``detail`` adds the specifics to the rule's title."""
        zh, en = self.messages(detail_zh, detail_en)
        return Finding(
            rule_id=self.id,
            severity=self.severity,
            message_zh=zh,
            message_en=en,
            file=file,
            row=row,
            column=column,
            value=None if value is None else str(value),
        )

    def messages(self, detail_zh: str = "", detail_en: str = "") -> tuple[str, str]:
        zh = f"{self.title_zh}：{detail_zh}" if detail_zh else self.title_zh
        en = f"{self.title_en}: {detail_en}" if detail_en else self.title_en
        return zh, en


def _rule(id: str, phase: int, severity: Severity, zh: str, en: str, citation: str, anchor: str) -> Rule:
    if anchor.startswith("draft:"):
        return Rule(id, phase, severity, zh, en, citation, f"{_DRAFT}#{anchor[len('draft:'):]}")
    return Rule(id, phase, severity, zh, en, citation, f"{SPEC}#{anchor}")


_P1, _P2, _P3, _P4 = "phase-1--format-fmt", "phase-2--schema-sch-row-level", "phase-3--consistency-biz", (
    "phase-4--prudential-pru-negative-list-neg-policy-pol-subsidy-sub"
)
_D3, _D4 = "draft:phase-3--consistency-biz-template-11", "draft:phase-4--early-warning-ews-and-bank-cooperation-bnk"
_TEMPLATE = "filing-template.md"
_DRAFT = "docs/spec/rules-1.2-draft.md"
_REGS = "《融资担保公司监督管理条例》"
_PLAN = "巴南府发〔2017〕30号"

RULES: tuple[Rule, ...] = (
    # Phase 1 — format
    _rule("FMT-001", 1, E, "manifest.json 缺失、不是 JSON 或缺少键", "manifest.json missing, not JSON, or missing a key", _TEMPLATE, _P1),
    _rule("FMT-002", 1, E, "清单所列文件缺失或 SHA-256 不符", "a file named in the manifest is missing or its SHA-256 differs", _TEMPLATE, _P1),
    _rule("FMT-003", 1, E, "文件无法读取", "a file cannot be read", _TEMPLATE, _P1),
    _rule("FMT-004", 1, E, "缺少必填列", "a required column is missing", _TEMPLATE, _P1),
    _rule("FMT-005", 1, E, "值无法按其类型解析", "a value cannot be parsed as its type", _TEMPLATE, _P1),
    _rule("FMT-006", 1, E, "担保机构不在名录中或非正常经营状态，或报告期不是已结束的月份", "the guarantor is not in the registry or not active, or the period is not a closed month", _TEMPLATE, _P1),
    _rule("FMT-007", 1, E, "报送包超过配置的限制", "the package exceeds a configured limit", _TEMPLATE, _P1),
    _rule("FMT-008", 1, W, "模板未定义的列（保留但忽略）", "a column the template does not know (kept and ignored)", _TEMPLATE, _P1),
    # Phase 2 — schema
    _rule("SCH-001", 2, E, "必填值为空", "a required value is empty", _TEMPLATE, _P2),
    _rule("SCH-002", 2, E, "代码不在代码表中", "a code is not in its code list", _TEMPLATE, _P2),
    _rule("SCH-003", 2, E, "证件号码校验位错误", "party_id fails its check character", "GB 32100-2015 / GB 11643-1999", _P2),
    _rule("SCH-004", 2, E, "证件类型与被担保人类型不符", "party_id_type does not fit party_category", _TEMPLATE, _P2),
    _rule("SCH-005", 2, E, "数值超出范围", "a number is out of range", _TEMPLATE, _P2),
    _rule("SCH-006", 2, E, "编号重复", "an identifier repeats", _TEMPLATE, _P2),
    _rule("SCH-007", 2, E, "行业代码或行政区划代码格式错误", "industry_code or district_code is malformed", "GB/T 4754-2017 / GB/T 2260", _P2),
    # Phase 3 — consistency
    _rule("BIZ-001", 3, E, "到期日期不晚于起始日期", "maturity_date is not after start_date", _TEMPLATE, _P3),
    _rule("BIZ-002", 3, E, "在保余额大于担保金额", "outstanding_balance is greater than guaranteed_amount", _TEMPLATE, _P3),
    _rule("BIZ-003", 3, W, "担保金额大于主债权金额", "guaranteed_amount is greater than loan_amount", _TEMPLATE, _P3),
    _rule("BIZ-004", 3, E, "日期超出报告期或起始日期", "a date lies outside the period or before the start", _TEMPLATE, _P3),
    _rule("BIZ-005", 3, E, "已解保或已代偿的业务仍有在保余额", "released or compensated with an outstanding balance", _TEMPLATE, _P3),
    _rule("BIZ-006", 3, W, "在保业务已于报告期前到期", "active although it matured before the period", _TEMPLATE, _P3),
    _rule("BIZ-007", 3, E, "代偿记录与担保业务不符或日期不在报告期内", "a compensation does not match a compensated guarantee or falls outside the period", _TEMPLATE, _P3),
    _rule("BIZ-008", 3, E, "财务数据不平衡", "the financials do not add up", _TEMPLATE, _P3),
    _rule("BIZ-009", 3, E, "政府性或混合所有制机构未填核算类别（分账核算）", "account_type empty for a government or mixed guarantor", _TEMPLATE, _P3),
    _rule("BIZ-010", 3, W, "与上期已接受报送不一致", "inconsistent with the last accepted filing", _TEMPLATE, _P3),
    _rule("BIZ-011", 3, W, "同一被担保人对应多个关联集团标识", "one party_id carries more than one related_group_id", f"{_TEMPLATE}; rules.md 1.1", _P3),
    _rule("BIZ-012", 3, E, "报告期末不是报告期的最后一天", "financials.period_end is not the last day of the period", f"{_TEMPLATE}; rules.md 1.1", _P3),
    # Phase 4 — prudential, negative list, policy, subsidy
    _rule("PRU-001", 4, E, "融资担保放大倍数超过上限", "financing guarantee leverage above its cap", f"{_REGS} 第十五条", _P4),
    _rule("PRU-002", 4, E, "单一被担保人责任余额超过净资产的10%", "one party's exposure above 10% of net assets", f"{_REGS} 第十六条", _P4),
    _rule("PRU-003", 4, E, "单一关联方集团责任余额超过净资产的15%", "one related group's exposure above 15% of net assets", f"{_REGS} 第十六条", _P4),
    _rule("PRU-004", 4, E, "为控股股东或实际控制人提供融资担保", "financing guarantee to a controlling shareholder or actual controller", f"{_REGS} 第十七条", _P4),
    _rule("PRU-005", 4, W, "为其他关联方提供担保的费率低于非关联方中位数", "related-party guarantee priced below the unrelated median", f"{_REGS} 第十七条", _P4),
    _rule("PRU-006", 4, E, "实缴注册资本低于2000万元", "paid-in capital below 20 million yuan", f"{_REGS} 第七条", _P4),
    _rule("PRU-007", 4, E, "未到期责任准备金不足当年担保费收入的50%", "unearned premium reserve below 50% of fee income", "融资性担保公司管理暂行办法 第三十一条", _P4),
    _rule("PRU-008", 4, W, "担保赔偿准备金不足融资担保责任余额的1%", "compensation reserve below 1% of measured liability", "融资性担保公司管理暂行办法 第三十一条", _P4),
    _rule("PRU-009", 4, E, "Ⅰ级和Ⅱ级资产之和低于70%", "class I + II assets below 70%", "融资担保公司资产比例管理办法", _P4),
    _rule("PRU-010", 4, E, "Ⅰ级资产低于20%", "class I assets below 20%", "融资担保公司资产比例管理办法", _P4),
    _rule("PRU-011", 4, E, "Ⅲ级资产高于30%", "class III assets above 30%", "融资担保公司资产比例管理办法", _P4),
    _rule("NEG-001", 4, E, "本期新增对产能过剩或限制类行业的融资担保", "new financing guarantee to an overcapacity or restricted industry", f"{_PLAN} (十五)", _P4),
    _rule("NEG-002", 4, W, "为房地产开发提供融资担保，须确认开发商资质", "financing guarantee to real-estate development: confirm qualification", f"{_PLAN} (十五)", _P4),
    _rule("NEG-003", 4, E, "主债权利率超过一年期LPR的4倍（高利贷款）", "loan interest above 4 × the one-year LPR", f"{_PLAN} (十五)；最高人民法院 民间借贷规定 (2020)", _P4),
    _rule("NEG-004", 4, E, "为网络借贷提供融资担保", "financing guarantee to online lending", f"{_PLAN} (十五)", _P4),
    _rule("NEG-005", 4, W, "存量对产能过剩或限制类行业的融资担保", "existing financing guarantee to an overcapacity or restricted industry", f"{_PLAN} (十五)", _P4),
    _rule("POL-001", 4, W, "区内小微和三农户数占比低于75%", "small-micro and 三农 household share in district below 75%", f"{_PLAN} (二)", _P4),
    _rule("POL-002", 4, W, "小微和三农加权平均担保费率高于1%", "small-micro and 三农 weighted fee rate above 1%", "国办发〔2019〕6号", _P4),
    _rule("POL-003", 4, W, "小微和三农责任余额占比低于80%", "small-micro and 三农 exposure share below 80%", f"{_REGS} 第十五条；财金〔2025〕11号 第六条", _P4),
    # 1.2-draft (docs/spec/rules-1.2-draft.md): rules on template 1.1's data, run on 1.1 filings only
    _rule("BIZ-013", 3, E, "担保机构、银行与再担保分担比例之和超过1", "liability_share + bank_risk_share + reguarantee_share exceed 1", f"{_PLAN} 一、五(十)；rules 1.2-draft", _D3),
    _rule("BIZ-014", 3, E, "银行索赔、抵质押登记或五级分类调整日期不合理", "a bank claim, collateral registration or five-category date is out of order", f"{_PLAN} 四(九)、五(十)、五(十二)；rules 1.2-draft", _D3),
    _rule("BIZ-015", 3, E, "累计追偿回收与核销之和超过代偿金额", "recovered_to_date + written_off_to_date exceed amount_paid", f"{_PLAN} 四(八)；rules 1.2-draft", _D3),
    _rule("EWS-001", 4, W, "本期五级分类下迁为不良（风险预警）", "migrated to non-performing (five-category 3–5) in the period: early warning", f"{_PLAN} 五(十二)", _D4),
    _rule("EWS-002", 4, W, "逾期金额较上期增长超过预警线（风险预警）", "overdue amount grew past the early-warning line since the last accepted filing", f"{_PLAN} 五(十二)", _D4),
    _rule("EWS-003", 4, W, "不良责任余额占比超过预警线（风险预警）", "non-performing share of financing exposure above the early-warning line", f"{_PLAN} 五(十二)", _D4),
    _rule("BNK-001", 4, W, "银行索赔后代偿不及时", "payout to the bank later than the agreed days after its claim", f"{_PLAN} 五(十)", _D4),
    _rule("BNK-002", 4, W, "第三方信用评级低于银行要求、缺失或过期", "third-party rating below the level banks require, missing or stale", f"{_PLAN} 五(十一)、六(十六)", _D4),
    _rule("BNK-003", 4, W, "再担保业务的存出保证金比例未享受优惠", "re-guaranteed guarantee with a bank margin above the preferential maximum", f"{_PLAN} 五(十)", _D4),
    _rule("SUB-001", 4, W, "申报补贴项目但不符合条件，不计入补贴", "subsidy claimed for an ineligible row: left out", f"{_PLAN} (七)", _P4),
)  # fmt: skip

CATALOG: dict[str, Rule] = {rule.id: rule for rule in RULES}


def rule(rule_id: str) -> Rule:
    return CATALOG[rule_id]
