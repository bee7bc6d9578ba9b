"""The ``indicators`` object of outputs.md §1, from the phase-4 measures.

Every figure is computed exactly (``validations.exact``) and becomes a float only here, for output: an
amount is rounded half-up to the fen and then read as the nearest float, a ratio is the float nearest
the exact quotient of the exact (unrounded) amounts. A ratio whose denominator is empty or not
positive is None (``null`` in JSON). Readings (docs/phase4-readings.md):

- ``max_party_*`` / ``max_group_*``: the largest PRU-002/003 ratio over ``net_assets`` (not net assets for
  leverage); a tie goes to the smallest id, so the answer does not depend on hashing order.
- ``in_district_households``: distinct ``party_id`` among counted rows whose ``district_code`` is the
  guarantor's registry district; a household is small-micro/三农 when ANY of those in-district rows is.
- ``weighted_fee_rate`` / ``small_micro_agri_weighted_fee_rate``: exposure-weighted over counted rows,
  and over the small-micro and 三农 ones among them (every district).
- ``compensation_rate``: Σ ``amount_paid`` over the ``guaranteed_amount`` of every row (any business type)
  whose ``closed_date`` lies in the period.
- ``subsidy_by_program``: the programs with at least one eligible row, in the order of their first
  eligible row in the filing.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from validations.context import Institution, Period
from validations.exact import AMOUNT, amount_float, as_decimal, ratio, total
from validations.prudential.measures import Measures, day_numbers, epoch_days
from validations.prudential.reference import ReferenceValues
from validations.prudential.subsidy import SubsidyResult

INDICATOR_KEYS = (
    "financing_exposure", "measured_financing_liability", "non_financing_exposure",
    "net_assets_for_leverage", "leverage_ratio", "leverage_cap",
    "max_party_ratio", "max_party_id", "max_group_ratio", "max_group_id",
    "in_district_households", "small_micro_agri_households", "small_micro_agri_household_share",
    "small_micro_agri_exposure_share", "weighted_fee_rate", "small_micro_agri_weighted_fee_rate",
    "compensated_in_period", "compensation_rate",
    "class_i_ratio", "class_i_ii_ratio", "class_iii_ratio",
    "subsidy_amount", "subsidy_by_program",
)  # fmt: skip


def leverage_cap(institution: Institution, ref: ReferenceValues) -> int | float:
    """PRU-001's cap: 15× for a guarantor the registry marks focus_small_micro_agri, else 10×."""
    value = ref.decimal("leverage_cap_focus" if institution.focus_small_micro_agri else "leverage_cap")
    return int(value) if value == value.to_integral_value() else float(value)


def largest(ids: pa.ChunkedArray | pa.Array, exposures: pa.ChunkedArray | pa.Array) -> tuple[str | None, Fraction | None]:
    """The id with the largest exact exposure (ties: the smallest id)."""
    if len(exposures) == 0:
        return None, None
    top = pc.max(exposures)
    best = pc.min(pc.array_filter(ids, pc.equal(exposures, top))).as_py()
    return best, Fraction(top.as_py())


def weighted_fee_rate(m: Measures, where: Any) -> Fraction | None:
    """Σ exposure × fee_rate / Σ exposure over ``where``, exactly; None without exposure."""
    exposure = total(m.rows.exposure, where)
    return total(m.fee_weighted, where) / exposure if exposure > 0 else None


def household_counts(m: Measures) -> tuple[int, int]:
    """POL-001: (in-district households, small-micro and 三农 ones among them)."""
    in_district = pc.sum(pc.cast(m.parties["in_district"], pa.int64())).as_py() or 0
    qualifying = pc.sum(pc.cast(m.parties["in_district_sma"], pa.int64())).as_py() or 0
    return in_district, qualifying


def small_micro_agri_exposure(m: Measures) -> Fraction:
    rows = m.rows
    return total(rows.exposure, rows.counted & rows.small_micro_agri)


def compensation(
    guarantees: pa.Table, compensations: pa.Table | None, period: Period
) -> tuple[Fraction, float | None]:
    """(Σ amount_paid, that over the guaranteed_amount of the rows that ended in the period), exactly."""
    paid = Fraction(0)
    if compensations is not None and compensations.num_rows:
        paid = total(as_decimal(compensations["amount_paid"], AMOUNT))
    closed = day_numbers(guarantees["closed_date"], fill=-(2**31))
    ended = (closed >= epoch_days(period.start)) & (closed <= epoch_days(period.end))
    base = total(as_decimal(guarantees["guaranteed_amount"], AMOUNT), ended)
    return paid, ratio(paid, base)


def compute(
    m: Measures,
    compensations: pa.Table | None,
    institution: Institution,
    period: Period,
    ref: ReferenceValues,
    subsidy: SubsidyResult,
) -> dict[str, Any]:
    f = m.financials
    nafl = f.net_assets_for_leverage
    base = f.asset_base
    party_id, party_exposure = largest(m.parties["party_id"], m.parties["exposure"])
    group_id, group_exposure = largest(m.groups["group_id"], m.groups["exposure"])
    households, qualifying = household_counts(m)
    paid, compensation_rate = compensation(m.rows.table, compensations, period)
    rows = m.rows
    weighted = weighted_fee_rate(m, rows.counted)
    weighted_sma = weighted_fee_rate(m, rows.counted & rows.small_micro_agri)
    indicators: dict[str, Any] = {
        "financing_exposure": amount_float(m.financing_exposure),
        "measured_financing_liability": amount_float(m.measured_financing_liability),
        "non_financing_exposure": amount_float(m.non_financing_exposure),
        "net_assets_for_leverage": amount_float(nafl),
        "leverage_ratio": ratio(m.measured_financing_liability, nafl),
        "leverage_cap": leverage_cap(institution, ref),
        "max_party_ratio": None if party_exposure is None else ratio(party_exposure, f.net_assets),
        "max_party_id": party_id,
        "max_group_ratio": None if group_exposure is None else ratio(group_exposure, f.net_assets),
        "max_group_id": group_id,
        "in_district_households": households,
        "small_micro_agri_households": qualifying,
        "small_micro_agri_household_share": ratio(qualifying, households),
        "small_micro_agri_exposure_share": ratio(small_micro_agri_exposure(m), m.financing_exposure),
        "weighted_fee_rate": None if weighted is None else float(weighted),
        "small_micro_agri_weighted_fee_rate": None if weighted_sma is None else float(weighted_sma),
        "compensated_in_period": amount_float(paid),
        "compensation_rate": compensation_rate,
        "class_i_ratio": ratio(f.class_i_assets, base),
        "class_i_ii_ratio": ratio(f.class_i_assets + f.class_ii_assets, base),
        "class_iii_ratio": ratio(f.class_iii_assets, base),
        "subsidy_amount": subsidy.total,
        "subsidy_by_program": subsidy.by_program,
    }
    return indicators
