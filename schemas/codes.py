"""Code lists of template 1.0 (filing-template.md §2 and §5)."""

PARTY_ID_TYPES = ("USCC", "RIC")
PARTY_CATEGORIES = ("micro", "small", "medium", "large", "individual_business", "farmer", "other")
GUARANTOR_RELATIONS = ("none", "controlling_shareholder", "actual_controller", "other_related")
BUSINESS_TYPES = ("loan", "housing_loan", "bond", "other_financing", "non_financing")
FINANCING_BUSINESS_TYPES = ("loan", "housing_loan", "bond", "other_financing")
# "AAA … BBB+ or below as written, unrated": the PBOC bond-rating scale (AAA to C, with +/- from AA to B)
# and CCC, CC, C, written as the rating agency writes them.
BOND_RATINGS = (
    "AAA", "AA+", "AA", "AA-", "A+", "A", "A-",
    "BBB+", "BBB", "BBB-", "BB+", "BB", "BB-", "B+", "B", "B-", "CCC", "CC", "C",
    "unrated",
)  # fmt: skip
STATUSES = ("active", "released", "compensated")
COUNTER_GUARANTEES = ("none", "guarantee", "pledge", "mortgage", "combination")
ACCOUNT_TYPES = ("policy", "commercial")
SUBSIDY_PROGRAMS = ("none", "sme_fee", "rural_startup", "land_income")
FIVE_CATEGORIES = ("1", "2", "3", "4", "5")

INSTITUTION_KINDS = ("government", "commercial", "mixed")
INSTITUTION_STATUSES = ("active", "suspended", "exited")

# SCH-004: the id type a party category needs (categories not listed accept either type).
ID_TYPE_FOR_CATEGORY = {
    "farmer": "RIC",
    "micro": "USCC",
    "small": "USCC",
    "medium": "USCC",
    "large": "USCC",
}

# --- template 1.1 (Danbao's proposal, filing-template.md "Version 1.1-draft") ---------------------
# 二(二): guarantees counter-guaranteed by rural property rights (农村产权抵押: 土地经营权, 林权, 农房)
COUNTER_GUARANTEES_1_1 = (*COUNTER_GUARANTEES, "rural_property")
# counter-guarantees that need a collateral registration (四(九)): the registration number and date
REGISTERED_COLLATERAL = ("pledge", "mortgage", "rural_property")
# 五(十一), 六(十六): a guarantor's third-party (issuer) credit rating, on the PBOC scale of BOND_RATINGS
INSTITUTION_RATINGS = BOND_RATINGS
NON_PERFORMING = ("3", "4", "5")  # 次级, 可疑, 损失
