"""Filing template version 1.0, column for column as filing-template.md writes it."""

from schemas import codes
from schemas.template import Column, Condition, FileSpec, Template
from schemas.template import ColumnType as T

_USCC_PARTY = Condition("party_id_type", frozenset({"USCC"}), "for USCC parties", "证件类型为统一社会信用代码时")
_BOND = Condition("business_type", frozenset({"bond"}), "for bond guarantees", "业务品种为发行债券担保时")
_LOANS = Condition(
    "business_type", frozenset({"loan", "housing_loan"}), "for loan and housing_loan", "业务品种为借款类或住房置业担保时"
)
_ENDED = Condition("status", frozenset({"released", "compensated"}), "when not active", "状态不是在保时")

GUARANTEES = FileSpec(
    name="guarantees",
    zh="担保业务明细",
    columns=(
        Column("guarantee_id", "担保业务编号", T.STRING, required=True, max_length=60),
        Column("contract_no", "担保合同编号", T.STRING, max_length=60),
        Column("party_id_type", "证件类型", T.CODE, required=True, codes=codes.PARTY_ID_TYPES),
        Column("party_id", "证件号码", T.STRING, required=True, exact_length=18),
        Column("party_name", "被担保人名称", T.STRING, required=True, max_length=80),
        Column("party_category", "被担保人类型", T.CODE, required=True, codes=codes.PARTY_CATEGORIES),
        Column("agri", "涉农", T.BOOL, required=True),
        Column("industry_code", "行业代码", T.STRING, required_when=(_USCC_PARTY,), exact_length=4),
        Column("district_code", "行政区划代码", T.STRING, required=True, exact_length=6),
        Column("related_group_id", "关联集团标识", T.STRING, max_length=60),
        Column("guarantor_relation", "与担保机构关系", T.CODE, required=True, codes=codes.GUARANTOR_RELATIONS),
        Column("business_type", "业务品种", T.CODE, required=True, codes=codes.BUSINESS_TYPES),
        Column("bond_issuer_rating", "债项主体评级", T.CODE, required_when=(_BOND,), codes=codes.BOND_RATINGS),
        Column("lender_code", "债权人机构代码", T.STRING, required_when=(_LOANS,), max_length=20),
        Column("loan_amount", "主债权金额", T.AMOUNT, required=True, lower=0),
        Column("guaranteed_amount", "担保金额", T.AMOUNT, required=True, lower=0, lower_open=True),
        Column("outstanding_balance", "在保余额", T.AMOUNT, required=True, lower=0),
        Column("liability_share", "责任分担比例", T.DECIMAL, required=True, lower=0, lower_open=True, upper=1),
        Column("fee_rate", "担保费率", T.RATE, required=True, lower=0, upper=1),
        Column("loan_interest_rate", "主债权年利率", T.RATE, required_when=(_LOANS,), lower=0, upper=1),
        Column("start_date", "起始日期", T.DATE, required=True),
        Column("maturity_date", "到期日期", T.DATE, required=True),
        Column("status", "状态", T.CODE, required=True, codes=codes.STATUSES),
        Column("closed_date", "解除日期", T.DATE, required_when=(_ENDED,)),
        Column("counter_guarantee", "反担保方式", T.CODE, required=True, codes=codes.COUNTER_GUARANTEES),
        # required for government and mixed guarantors: that depends on the registry, so it is BIZ-009
        Column("account_type", "核算类别", T.CODE, codes=codes.ACCOUNT_TYPES),
        Column("subsidy_program", "补贴项目", T.CODE, required=True, codes=codes.SUBSIDY_PROGRAMS),
        Column("five_category", "五级分类", T.CODE, required=True, codes=codes.FIVE_CATEGORIES),
    ),
)

FINANCIALS = FileSpec(
    name="financials",
    zh="财务与准备金",
    exactly_one_row=True,
    columns=(
        Column("period_end", "报告期末", T.DATE, required=True),
        Column("paid_in_capital", "实缴注册资本", T.AMOUNT, required=True, lower=0),
        Column("net_assets", "净资产", T.AMOUNT, required=True, lower=0),
        Column("total_assets", "资产总额", T.AMOUNT, required=True, lower=0),
        Column("equity_in_other_guarantors", "对其他融资担保和再担保公司股权投资", T.AMOUNT, required=True, lower=0),
        Column("receivable_compensation", "应收代偿款", T.AMOUNT, required=True, lower=0),
        Column("class_i_assets", "Ⅰ级资产", T.AMOUNT, required=True, lower=0),
        Column("class_ii_assets", "Ⅱ级资产", T.AMOUNT, required=True, lower=0),
        Column("class_iii_assets", "Ⅲ级资产", T.AMOUNT, required=True, lower=0),
        Column("unearned_premium_reserve", "未到期责任准备金", T.AMOUNT, required=True, lower=0),
        Column("compensation_reserve", "担保赔偿准备金", T.AMOUNT, required=True, lower=0),
        Column("fee_income_ytd", "本年累计担保费收入", T.AMOUNT, required=True, lower=0),
    ),
)

COMPENSATIONS = FileSpec(
    name="compensations",
    zh="代偿明细",
    optional=True,
    columns=(
        Column("compensation_id", "代偿编号", T.STRING, required=True, max_length=60),
        Column("guarantee_id", "担保业务编号", T.STRING, required=True, max_length=60),
        Column("compensation_date", "代偿日期", T.DATE, required=True),
        Column("amount_paid", "代偿金额", T.AMOUNT, required=True, lower=0, lower_open=True),
        Column("recovered_to_date", "累计追偿回收", T.AMOUNT, required=True, lower=0),
    ),
)

TEMPLATE_1_0 = Template(
    version="1.0",
    manifest_keys=("template_version", "institution_id", "institution_name", "period", "submitted_at", "files"),
    files=(GUARANTEES, FINANCIALS, COMPENSATIONS),
    registry_columns=(
        "institution_id", "name", "kind", "focus_small_micro_agri",
        "district_code", "license_no", "pboc_area_code", "status",
    ),
)  # fmt: skip
