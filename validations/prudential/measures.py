"""Phase-4 measures (rules.md, "Phase 4" definitions), column-wise over one filing, exactly.

Readings, also in docs/phase4-readings.md:

- Balances and ratios count only ``active`` financing rows ("counted" rows). Ended rows carry a zero
  balance anyway (BIZ-005), so the choice only matters for what is grouped.
- A party is its ``party_id``. Its household balance (单户在保余额) is the sum of exposures over its
  counted ``loan`` rows; the 75% weights test it per party, inclusive and exactly (5,000,000.00 is
  within the limit, 5,000,000.004 is not).
- Small-micro and farmer are read from each row's ``party_category`` (SCH-004 ties it to the id type).
- A bond is "AA or better" when its rating is at or above the ``bond_rating_floor`` parameter in the
  order of ``schemas.codes.BOND_RATINGS``.
- Related groups (PRU-003, rules.md 1.1): a party belongs to every group that one of its rows names
  (a non-empty ``related_group_id``, whatever the row's status or business type: naming is identity,
  not balance), and its whole exposure counts in each, the reading that never understates a group. A
  party that names none is a group of its own, reported by its ``party_id``. Groups are not merged
  transitively (a party naming G1 and G2 does not make G1's other parties members of G2).
- Amounts are exact (rules.md 1.1, ``validations.exact``): an exposure is ``outstanding_balance ×
  liability_share`` as an exact decimal (not a whole fen when the share has decimals), the weights are
  exact decimals, and every sum is exact; limits are decided on these exact values, and an amount is
  rounded to the fen only where it is reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cached_property, partial
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from schemas.codes import BOND_RATINGS, FINANCING_BUSINESS_TYPES
from validations.codes import Codes
from validations.context import Institution
from validations.exact import (
    AMOUNT,
    RATIO,
    RATIO_SCALE,
    as_decimal,
    compare,
    decimal_array,
    flat,
    multiply,
    narrow,
    sums_by,
    total,
    unscaled,
    zero_filled,
)
from validations.prudential.reference import ReferenceValues

SMALL_MICRO = ("micro", "small", "individual_business")
_EPOCH = dt.date(1970, 1, 1)


def mask(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A boolean Arrow result as numpy, null read as false."""
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def is_in(
    values: pa.ChunkedArray | pa.Array, codes: tuple[str, ...] | frozenset[str] | list[str]
) -> np.ndarray:
    return mask(pc.is_in(values, value_set=pa.array(sorted(codes), pa.string())))


def equals(values: pa.ChunkedArray | pa.Array, code: str) -> np.ndarray:
    return mask(pc.equal(values, pa.scalar(code, pa.string())))


def day_numbers(values: pa.ChunkedArray | pa.Array, fill: int = 0) -> np.ndarray:
    """date32 as int64 days since 1970-01-01 (nulls as ``fill``)."""
    days = pc.fill_null(pc.cast(values, pa.int32()), fill)
    return np.asarray(days.to_numpy(zero_copy_only=False), dtype=np.int64)


def epoch_days(day: dt.date) -> int:
    """A date as days since 1970-01-01, the unit of Arrow's date32."""
    return (day - _EPOCH).days


T = TypeVar("T")
#: runs a function, here or on another thread, and gives a way to its result
Beside = Callable[[Callable[[], T]], Callable[[], T]]


def at_once(function: Callable[[], T]) -> Callable[[], T]:
    """The :data:`Beside` that runs ``function`` here and now."""
    result = function()
    return lambda: result


def _fee_rates(values: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """fee_rate in units of 10⁻¹⁸ (for exact comparisons with limits) and as the narrowest exact decimal
    (for exposure-weighted sums)."""
    fee_rate = zero_filled(as_decimal(values, RATIO))
    return unscaled(fee_rate, RATIO_SCALE), narrow(fee_rate)


@dataclass(frozen=True)
class Rows:
    """The guarantees columns phase 4 needs, as numpy arrays and boolean masks (one entry per row)."""

    table: pa.Table
    codes: Codes
    financing: np.ndarray
    active: np.ndarray
    counted: np.ndarray  # active financing guarantees: what balances and ratios count
    loan: np.ndarray
    exposure: pa.Array  # outstanding_balance × liability_share, an exact decimal, every row (null → 0)
    fee_rate: np.ndarray  # int64 units of 10⁻¹⁸ (RATIO_SCALE), for exact comparisons with limits
    fee_rate_decimal: pa.Array  # the same as the narrowest exact decimal, for exposure-weighted sums
    start: np.ndarray  # start_date as days since 1970-01-01
    small_micro: np.ndarray
    farmer: np.ndarray
    small_micro_agri: np.ndarray  # small-micro, or farmer, or agri
    in_district: np.ndarray  # district_code = the guarantor's registry district

    @classmethod
    def of(cls, guarantees: pa.Table, institution: Institution, codes: Codes | None = None,
           beside: Beside = at_once) -> Rows:
        """``codes`` are the guarantees' dictionary codes when earlier phases already computed some;
        ``beside`` runs the fee rates' conversions on another thread while this one computes the rest."""
        codes = Codes(guarantees) if codes is None else codes
        fee_rates = beside(partial(_fee_rates, guarantees["fee_rate"]))
        financing = codes.is_in("business_type", FINANCING_BUSINESS_TYPES)
        active = codes.eq("status", "active")
        small_micro = codes.is_in("party_category", SMALL_MICRO)
        farmer = codes.eq("party_category", "farmer")
        balance = zero_filled(as_decimal(guarantees["outstanding_balance"], AMOUNT))
        share = narrow(zero_filled(as_decimal(guarantees["liability_share"], RATIO)))
        exposure = multiply(balance, share)
        fee_rate, fee_rate_decimal = fee_rates()
        return cls(
            table=guarantees,
            codes=codes,
            financing=financing,
            active=active,
            counted=financing & active,
            loan=codes.eq("business_type", "loan"),
            exposure=exposure,
            fee_rate=fee_rate,
            fee_rate_decimal=fee_rate_decimal,
            start=day_numbers(guarantees["start_date"]),
            small_micro=small_micro,
            farmer=farmer,
            small_micro_agri=small_micro | farmer | mask(guarantees["agri"]),
            in_district=codes.eq("district_code", institution.district_code),
        )

    def is_in(self, column: str, codes: tuple[str, ...] | frozenset[str] | list[str]) -> np.ndarray:
        return self.codes.is_in(column, codes)

    def eq(self, column: str, code: str) -> np.ndarray:
        return self.codes.eq(column, code)

    def is_null(self, column: str) -> np.ndarray:
        return self.codes.is_null(column)

    def __len__(self) -> int:
        return self.table.num_rows


@dataclass(frozen=True)
class Financials:
    """The one-row financials as Decimals (amounts are filed with at most two decimals)."""

    paid_in_capital: Decimal
    net_assets: Decimal
    total_assets: Decimal
    equity_in_other_guarantors: Decimal
    receivable_compensation: Decimal
    class_i_assets: Decimal
    class_ii_assets: Decimal
    class_iii_assets: Decimal
    unearned_premium_reserve: Decimal
    compensation_reserve: Decimal
    fee_income_ytd: Decimal

    @classmethod
    def of(cls, financials: pa.Table) -> Financials:
        first = financials.slice(0, 1)
        values = {name: as_decimal(first[name], AMOUNT)[0].as_py() for name in cls.__dataclass_fields__}
        return cls(**{name: value if value is not None else Decimal(0) for name, value in values.items()})

    @property
    def net_assets_for_leverage(self) -> Decimal:
        return self.net_assets - self.equity_in_other_guarantors

    @property
    def asset_base(self) -> Decimal:
        """PRU-009..011's base: total assets less receivable compensation."""
        return self.total_assets - self.receivable_compensation


@dataclass(frozen=True)
class Measures:
    rows: Rows
    financials: Financials
    weighted: pa.Array  # per row, exposure × its weight, exact; 0 where not counted (the measured liability)
    fee_weighted: pa.Array  # per row, exposure × fee_rate, exact (the weighted fee rates' numerators)
    parties: pa.Table  # party_id, exposure, household_balance (exact decimals), in_district, in_district_sma
    financing_exposure: Fraction  # exact, in yuan
    measured_financing_liability: Fraction
    non_financing_exposure: Fraction
    party_code: np.ndarray  # per party (a row of ``parties``), its dictionary code of party_id
    # per row, the index of its weight class in WEIGHT_CLASSES (len(WEIGHT_CLASSES) where not counted)
    weight_class: np.ndarray | None = None

    @property
    def net_assets_for_leverage(self) -> Decimal:
        return self.financials.net_assets_for_leverage

    @cached_property
    def groups(self) -> pa.Table:
        """group_id (or the party_id of a party without group), is_group, exposure. Computed when first
        read: the statistical sections never read it, so on a large filing they start on their thread
        while this one joins the groups for the rules."""
        return _groups(self.rows, self.parties, self.party_code)


def measure(rows: Rows, financials: pa.Table, ref: ReferenceValues, beside: Beside = at_once) -> Measures:
    """Exposure, household balances, weights and the party and group aggregates, exactly.

    Hashing the party ids is the costly step on a large filing, so it is done once per filing (the
    dictionary codes phases 3 and 4 share, ``validations.codes``): each counted row's party number
    then gives every per-party sum (exact integer sums over the codes, ``exact.sums_by``) and the way
    back from a party to its rows (for the household limits of the 75% weights). ``beside`` takes what
    the weights do not need (the fee-weighted exposures, the totals, the parties' other columns) to
    another thread while this one computes the households and the weights.
    """
    counted = rows.counted
    exposure = rows.exposure
    fee_weighted = beside(partial(multiply, exposure, rows.fee_rate_decimal))
    financing_exposure = beside(partial(total, exposure, counted))
    non_financing_exposure = beside(partial(total, exposure, rows.active & ~rows.financing))
    counted_index = np.flatnonzero(counted)
    take = pa.array(counted_index, pa.int64())
    # parties as the shared dictionary codes, numbered in order of their first counted row (the order
    # a hash aggregation over the counted rows would give)
    codes, dictionary = rows.codes.encoded("party_id")
    of_counted = codes[counted_index]
    # Arrow's unique lists values in order of first appearance (counted rows are in row order), by a
    # hash that leaves the GIL to the other thread: no per-party minimum and no sort of the parties
    order = np.asarray(pc.unique(pa.array(of_counted)), dtype=np.int64)  # party code of each party, in order
    slot = np.zeros(len(dictionary) + 1, dtype=np.int64)
    slot[order] = np.arange(len(order))
    party = slot[of_counted]  # each counted row's party
    count = len(order)

    def any_of(flags: np.ndarray) -> pa.Array:
        return pa.array(np.bincount(party, weights=flags[counted], minlength=count) > 0, pa.bool_())

    def party_columns() -> dict[str, pa.Array]:
        return {
            "party_id": pc.take(pa.concat_arrays([dictionary, pa.nulls(1, dictionary.type)]),
                                pa.array(order, pa.int64())),
            "exposure": sums_by(exposure.take(take), party, count),
            "in_district": any_of(rows.in_district),
            "in_district_sma": any_of(rows.in_district & rows.small_micro_agri),
        }

    columns = beside(party_columns)
    # a party's household balance: its counted loan rows' exposures (only those rows are taken)
    loan = rows.loan[counted_index]
    household = sums_by(exposure.take(pa.array(counted_index[loan], pa.int64())), party[loan], count)

    # each party's household limits, decided exactly per party, back onto its rows
    def within(limit_name: str) -> np.ndarray:
        per_party = compare(household, "<=", ref.decimal(limit_name))
        per_row = np.zeros(len(rows), dtype=bool)
        per_row[counted_index] = per_party[party]
        return per_row

    weight, weight_class = _weights(rows, within("household_limit_small_micro"), within("household_limit_farmer"), ref)
    weighted = multiply(exposure, weight)
    measured = total(weighted, counted)
    party_table = columns()
    return Measures(
        rows=rows,
        financials=Financials.of(financials),
        weighted=weighted,
        fee_weighted=fee_weighted(),
        parties=pa.table({**{name: party_table[name] for name in ("party_id", "exposure")},
                          "household_balance": household,
                          **{name: party_table[name] for name in ("in_district", "in_district_sma")}}),
        financing_exposure=financing_exposure(),
        measured_financing_liability=measured,
        non_financing_exposure=non_financing_exposure(),
        party_code=order,
        weight_class=weight_class,
    )


def _groups(rows: Rows, parties: pa.Table, party_code: np.ndarray) -> pa.Table:
    """PRU-003's groups (rules.md 1.1): every (party, group) a row names, with the party's whole
    exposure in each group it names; a party that names none is a group of its own. On the shared
    dictionary codes: the distinct pairs are the distinct pairs of codes, and a group's exposure is the
    exact sum of its parties' (``party_code`` is each party's code of ``party_id``). The groups come
    first, in order of first appearance, then the parties alone, in the parties' order."""
    party_of_row, party_names = rows.codes.encoded("party_id")
    group_of_row, group_names = rows.codes.encoded("related_group_id")
    k = len(group_names)
    names_a_group = np.zeros(k + 1, dtype=bool)  # an empty cell is the null code k: it names none
    names_a_group[:k] = mask(pc.not_equal(group_names, ""))
    named = np.flatnonzero(names_a_group[group_of_row])
    party_index = np.full(len(party_names) + 1, -1, dtype=np.int64)
    party_index[party_code] = np.arange(len(party_code))
    party_index[len(party_names)] = -1  # a row without a party_id names a group for nobody
    pair_party = party_index[party_of_row[named]]
    pair_group = group_of_row[named].astype(np.int64)
    measured = pair_party >= 0  # only parties with counted rows have an exposure to count
    pairs = np.unique(pair_party[measured] * (k + 1) + pair_group[measured])
    pair_party, pair_group = pairs // (k + 1), pairs % (k + 1)
    group_codes, group_of_pair = np.unique(pair_group, return_inverse=True)
    exposure = flat(parties["exposure"])
    grouped_exposure = sums_by(exposure.take(pa.array(pair_party, pa.int64())), group_of_pair.ravel(),
                               len(group_codes))
    naming = np.zeros(parties.num_rows, dtype=bool)
    naming[pair_party] = True
    alone = pa.array(np.flatnonzero(~naming), pa.int64())
    alone_exposure = exposure.take(alone)
    widest = max((grouped_exposure.type, alone_exposure.type), key=lambda t: (t.bit_width, t.precision))
    return pa.table(
        {
            "group_id": pa.concat_arrays([group_names.take(pa.array(group_codes, pa.int64())),
                                          flat(parties["party_id"]).take(alone)]),
            "is_group": pa.concat_arrays(
                [pa.repeat(pa.scalar(True), len(group_codes)), pa.repeat(pa.scalar(False), len(alone))]
            ),
            "exposure": pa.concat_arrays(
                [pc.cast(grouped_exposure, widest), pc.cast(alone_exposure, widest)]
            ),
        }
    )


#: the weight classes of 《融资担保责任余额计量办法》, in the order of their parameters below
WEIGHT_CLASSES = ("small_micro_loan", "farmer_loan", "housing_loan", "bond_rated", "other_financing")


def _weights(
    rows: Rows, small_micro_within: np.ndarray, farmer_within: np.ndarray, ref: ReferenceValues
) -> tuple[pa.Array, np.ndarray]:
    """《融资担保责任余额计量办法》 weights per row as exact decimals (0 where not counted): each row picks
    one of the weight parameters, so the weights are a ``take`` from a six-value decimal array. Also
    each row's class (an index into ``WEIGHT_CLASSES``; ``len(WEIGHT_CLASSES)`` where not counted)."""
    floor = BOND_RATINGS.index(ref.text("bond_rating_floor"))
    rated = rows.is_in("bond_issuer_rating", BOND_RATINGS[: floor + 1])
    names = (
        "weight_small_micro_loan", "weight_farmer_loan", "weight_housing_loan", "weight_bond_rated",
        "weight_other_financing",
    )  # fmt: skip
    values = decimal_array([*(ref.decimal(name) for name in names), Decimal(0)])
    choice = np.select(
        [
            rows.loan & rows.small_micro & small_micro_within,
            rows.loan & rows.farmer & farmer_within,
            rows.eq("business_type", "housing_loan"),
            rows.eq("business_type", "bond") & rated,
        ],
        [0, 1, 2, 3],
        default=4,
    )
    choice = np.where(rows.counted, choice, len(names))
    return values.take(pa.array(choice, pa.int64())), choice
