"""Phase 4 — prudential (PRU), negative list (NEG), policy (POL) and subsidy (SUB) rules, the
``indicators`` of outputs.md §1 and the supervisory grade (rules.md sections 4 and 5).

Readings of the spec that the code had to choose are in docs/phase4-readings.md and in each module's
docstring.
"""

from validations.prudential.evaluate import Phase4Result, evaluate
from validations.prudential.grades import GradeResult, discipline_list, filing_deadline, grade
from validations.prudential.reference import ReferenceData, ReferenceValues

__all__ = [
    "GradeResult", "Phase4Result", "ReferenceData", "ReferenceValues",
    "discipline_list", "evaluate", "filing_deadline", "grade",
]  # fmt: skip
