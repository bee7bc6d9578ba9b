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
