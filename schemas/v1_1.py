"""Filing template version 1.1-draft: Danbao's proposal (filing-template.md, "Version 1.1-draft").

Every column of 1.0 stays as it is, in its place; 1.1 adds columns at the end of each file, extends the
counter-guarantee code list with ``rural_property`` and the registry with a third-party rating and a
systemic flag. Each addition names the clause of 巴南府发〔2017〕30号 it serves.
"""

from schemas import codes, v1_0
from schemas.template import Column, Condition, FileSpec, Template
from schemas.template import ColumnType as T

_LOANS = Condition(
    "business_type", frozenset({"loan", "housing_loan"}), "for loan and housing_loan", "业务品种为借款类或住房置业担保时"
)
_REGISTERED = Condition(
    "counter_guarantee", frozenset(codes.REGISTERED_COLLATERAL), "for pledge, mortgage and rural_property",
    "反担保方式为质押、抵押或农村产权抵押时",
)
_NON_NORMAL = Condition(
    "five_category", frozenset({"2", "3", "4", "5"}), "when five_category is not 1", "五级分类不是正常时"
)


def _replace(columns: tuple[Column, ...], name: str, column: Column) -> tuple[Column, ...]:
    return tuple(column if c.name == name else c for c in columns)


_GUARANTEES_1_0 = _replace(
    v1_0.GUARANTEES.columns, "counter_guarantee",
    Column("counter_guarantee", "反担保方式", T.CODE, required=True, codes=codes.COUNTER_GUARANTEES_1_1),
)

#: column → the clause of 巴南府发〔2017〕30号 it serves (docs/spec/filing-template-1.1.md)
CLAUSES: dict[str, str] = {
    "bank_risk_share": "一, 五(十)", "bank_margin_amount": "五(十)", "reguarantee_ref": "五(十)",
    "reguarantee_share": "五(十)", "internet_channel": "三(五)", "collateral_reg_no": "四(九)",
    "collateral_reg_date": "四(九)", "five_category_date": "五(十二)", "overdue_amount": "五(十二)",
    "bank_claim_date": "五(十)", "written_off_to_date": "四(八)",
    "fee_income_period": "二(三)", "compensation_paid_ytd": "四(八)", "recovered_ytd": "四(八)",
    "net_profit_period": "二(三)", "net_profit_ytd": "二(三)", "margin_received": "五(十)",
    "margin_placed": "五(十)", "capital_injection_ytd": "五(十)", "written_off_ytd": "四(八)",
    "rating_agency": "五(十一), 六(十六)", "rating_grade": "五(十一), 六(十六)", "rating_date": "五(十一), 六(十六)",
    "systemic": "六(十四)", "counter_guarantee=rural_property": "二(二)",
}  # fmt: skip

GUARANTEES = FileSpec(
    name="guarantees",
    zh="担保业务明细",
    columns=(
        *_GUARANTEES_1_0,
        Column("bank_risk_share", "银行分担比例", T.DECIMAL, required_when=(_LOANS,), lower=0, upper=1),
        Column("bank_margin_amount", "存出保证金", T.AMOUNT, required_when=(_LOANS,), lower=0),
        Column("reguarantee_ref", "再担保业务编号", T.STRING, max_length=60),
        Column("reguarantee_share", "再担保分担比例", T.DECIMAL, lower=0, upper=1),
        Column("internet_channel", "互联网渠道", T.BOOL, required=True),
        Column("collateral_reg_no", "抵质押登记编号", T.STRING, required_when=(_REGISTERED,), max_length=60),
        Column("collateral_reg_date", "抵质押登记日期", T.DATE, required_when=(_REGISTERED,)),
        Column("five_category_date", "五级分类调整日期", T.DATE, required_when=(_NON_NORMAL,)),
        Column("overdue_amount", "逾期金额", T.AMOUNT, required=True, lower=0),
    ),
)

FINANCIALS = FileSpec(
    name="financials",
    zh="财务与准备金",
    exactly_one_row=True,
    columns=(
        *v1_0.FINANCIALS.columns,
        Column("fee_income_period", "本期担保费收入", T.AMOUNT, required=True, lower=0),
        Column("compensation_paid_ytd", "本年累计代偿支出", T.AMOUNT, required=True, lower=0),
        Column("recovered_ytd", "本年累计追偿回收", T.AMOUNT, required=True, lower=0),
        Column("net_profit_period", "本期净利润", T.AMOUNT, required=True),  # may be negative
        Column("net_profit_ytd", "本年累计净利润", T.AMOUNT, required=True),
        Column("margin_received", "存入保证金", T.AMOUNT, required=True, lower=0),
        Column("margin_placed", "存出保证金", T.AMOUNT, required=True, lower=0),
        Column("capital_injection_ytd", "本年财政注资", T.AMOUNT, required=True, lower=0),
        Column("written_off_ytd", "本年核销代偿损失", T.AMOUNT, required=True, lower=0),
    ),
)

COMPENSATIONS = FileSpec(
    name="compensations",
    zh="代偿明细",
    optional=True,
    columns=(
        *v1_0.COMPENSATIONS.columns,
        Column("bank_claim_date", "银行索赔日期", T.DATE, required=True),
        Column("written_off_to_date", "累计核销金额", T.AMOUNT, required=True, lower=0),
    ),
)

TEMPLATE_1_1 = Template(
    version="1.1",
    manifest_keys=v1_0.TEMPLATE_1_0.manifest_keys,
    files=(GUARANTEES, FINANCIALS, COMPENSATIONS),
    registry_columns=(*v1_0.TEMPLATE_1_0.registry_columns, "rating_agency", "rating_grade", "rating_date", "systemic"),
)
