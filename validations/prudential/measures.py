"""Phase-4 measures (rules.md, "Phase 4" definitions), column-wise over one filing.

Readings, also in docs/phase4-readings.md:

- Balances and ratios count only ``active`` financing rows ("counted" rows). Ended rows carry a zero
  balance anyway (BIZ-005), so the choice only matters for what is grouped.
- A party is its ``party_id``. Its household balance (单户在保余额) is the sum of exposures over its
  counted ``loan`` rows; the 75% weights test it per party, inclusive (≤ 5,000,000.00 / 2,000,000.00).
- Small-micro and farmer are read from each row's ``party_category`` (SCH-004 ties it to the id type).
- A bond is "AA or better" when its rating is at or above the ``bond_rating_floor`` parameter in the
  order of ``schemas.codes.BOND_RATINGS``.
- Related groups (PRU-003): a party belongs to the group named by its counted rows' non-empty
  ``related_group_id`` (the smallest one if its rows disagree: groups are not merged transitively); a
  party without one is a group of its own, reported by its ``party_id``.
- Amounts are compared at fen precision: sums of float products are rounded to 0.01 yuan before a
  threshold is applied, and thresholds are products of Decimals, so a boundary such as exactly 10% of
  net assets is decided exactly, not by float noise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from schemas.codes import BOND_RATINGS, FINANCING_BUSINESS_TYPES
from validations.context import Institution
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


def floats(values: pa.ChunkedArray | pa.Array, fill: float = np.nan) -> np.ndarray:
    return np.asarray(pc.fill_null(values, fill).to_numpy(zero_copy_only=False), dtype=np.float64)


def day_numbers(values: pa.ChunkedArray | pa.Array, fill: int = 0) -> np.ndarray:
    """date32 as int64 days since 1970-01-01 (nulls as ``fill``)."""
    days = pc.fill_null(pc.cast(values, pa.int32()), fill)
    return np.asarray(days.to_numpy(zero_copy_only=False), dtype=np.int64)


def epoch_days(day: dt.date) -> int:
    """A date as days since 1970-01-01, the unit of Arrow's date32."""
    return (day - _EPOCH).days


def to_fen(value: float) -> float:
    """An amount rounded to the fen: the precision at which amounts are reported and compared."""
    return round(float(value), 2)


def dec(value: float | int) -> Decimal:
    """A float read back as the decimal it prints as (the filed text for a parsed amount)."""
    return Decimal(repr(float(value)))


class Codes:
    """Code columns dictionary-encoded once: each mask is then a lookup in a dictionary of a few
    values instead of a string comparison over every row (business_type alone is tested ten times)."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table
        self._encoded: dict[str, tuple[np.ndarray, list[str | None]]] = {}

    def is_in(self, column: str, codes: tuple[str, ...] | frozenset[str] | list[str]) -> np.ndarray:
        indices, dictionary = self._encode(column)
        wanted = set(codes)
        lookup = np.array([value in wanted for value in dictionary] + [False], dtype=bool)  # last: null
        return lookup[indices]

    def eq(self, column: str, code: str) -> np.ndarray:
        return self.is_in(column, (code,))

    def _encode(self, column: str) -> tuple[np.ndarray, list[str | None]]:
        if column not in self._encoded:
            encoded = pc.dictionary_encode(self._table[column].combine_chunks())
            dictionary = encoded.dictionary.to_pylist()
            indices = pc.fill_null(encoded.indices, len(dictionary)).to_numpy(zero_copy_only=False)
            self._encoded[column] = (np.asarray(indices, dtype=np.int64), dictionary)
        return self._encoded[column]


@dataclass(frozen=True)
class Rows:
    """The guarantees columns phase 4 needs, as numpy arrays and boolean masks (one entry per row)."""

    table: pa.Table
    codes: Codes
    financing: np.ndarray
    active: np.ndarray
    counted: np.ndarray  # active financing guarantees: what balances and ratios count
    loan: np.ndarray
    exposure: np.ndarray  # outstanding_balance × liability_share, every row
    fee_rate: np.ndarray
    start: np.ndarray  # start_date as days since 1970-01-01
    small_micro: np.ndarray
    farmer: np.ndarray
    small_micro_agri: np.ndarray  # small-micro, or farmer, or agri
    in_district: np.ndarray  # district_code = the guarantor's registry district

    @classmethod
    def of(cls, guarantees: pa.Table, institution: Institution) -> Rows:
        codes = Codes(guarantees)
        financing = codes.is_in("business_type", FINANCING_BUSINESS_TYPES)
        active = codes.eq("status", "active")
        small_micro = codes.is_in("party_category", SMALL_MICRO)
        farmer = codes.eq("party_category", "farmer")
        exposure = floats(guarantees["outstanding_balance"], 0.0) * floats(guarantees["liability_share"], 0.0)
        return cls(
            table=guarantees,
            codes=codes,
            financing=financing,
            active=active,
            counted=financing & active,
            loan=codes.eq("business_type", "loan"),
            exposure=exposure,
            fee_rate=floats(guarantees["fee_rate"], 0.0),
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
        row = financials.slice(0, 1).to_pylist()[0]
        return cls(**{name: dec(row[name] or 0.0) for name in cls.__dataclass_fields__})

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
    weight: np.ndarray  # per row; 0 where not counted
    household_balance: np.ndarray  # per row: its party's household balance on counted rows, else NaN
    parties: pa.Table  # party_id, exposure, household_balance, in_district, in_district_sma, group_id
    groups: pa.Table  # group_id (or the party_id of a party without group), is_group, exposure
    financing_exposure: float  # fen
    measured_financing_liability: float  # fen
    non_financing_exposure: float  # fen

    @property
    def net_assets_for_leverage(self) -> Decimal:
        return self.financials.net_assets_for_leverage


def measure(rows: Rows, financials: pa.Table, ref: ReferenceValues) -> Measures:
    """Exposure, household balances, weights and the party and group aggregates.

    Hashing the party ids is the costly step on a large filing, so it is done once: one group_by over
    the counted rows gives every per-party sum and, with the list of each party's rows, the way back
    from a party to its rows.
    """
    table = rows.table
    counted = rows.counted
    group_ids = table["related_group_id"]
    group_ids = pc.if_else(pc.equal(group_ids, ""), pa.scalar(None, pa.string()), group_ids)
    counted_index = np.flatnonzero(counted)
    sub = pa.table(
        {
            "party_id": table["party_id"].filter(counted),
            "exposure": rows.exposure[counted],
            "loan_exposure": np.where(rows.loan, rows.exposure, 0.0)[counted],
            "in_district": rows.in_district[counted],
            "in_district_sma": (rows.in_district & rows.small_micro_agri)[counted],
            "group_id": pc.cast(group_ids, pa.string()).filter(counted),
            "row": counted_index,
        }
    )
    grouped = sub.group_by("party_id").aggregate(
        [
            ("exposure", "sum"),
            ("loan_exposure", "sum"),
            ("in_district", "any"),
            ("in_district_sma", "any"),
            ("group_id", "min"),
            ("row", "list"),
        ]
    )
    household = np.round(floats(grouped["loan_exposure_sum"], 0.0), 2)
    parties = pa.table(
        {
            "party_id": grouped["party_id"],
            "exposure": np.round(floats(grouped["exposure_sum"], 0.0), 2),
            "household_balance": household,
            "in_district": grouped["in_district_any"],
            "in_district_sma": grouped["in_district_sma_any"],
            "group_id": grouped["group_id_min"],
        }
    )
    # each party's household balance back onto its rows (for the 75% weights)
    row_lists = grouped["row_list"].combine_chunks()
    household_balance = np.full(len(rows), np.nan)
    household_balance[pc.list_flatten(row_lists).to_numpy()] = household[
        pc.list_parent_indices(row_lists).to_numpy()
    ]

    weight = _weights(rows, household_balance, ref)

    groups = (
        pa.table(
            {
                "group_id": pc.coalesce(parties["group_id"], parties["party_id"]),
                "is_group": pc.is_valid(parties["group_id"]),
                "exposure": parties["exposure"],
            }
        )
        .group_by(["group_id", "is_group"])
        .aggregate([("exposure", "sum")])
    )
    groups = pa.table(
        {
            "group_id": groups["group_id"],
            "is_group": groups["is_group"],
            "exposure": np.round(floats(groups["exposure_sum"], 0.0), 2),
        }
    )
    non_financing = rows.active & ~rows.financing
    return Measures(
        rows=rows,
        financials=Financials.of(financials),
        weight=weight,
        household_balance=household_balance,
        parties=parties,
        groups=groups,
        financing_exposure=to_fen(np.sum(rows.exposure[counted])),
        measured_financing_liability=to_fen(np.sum((rows.exposure * weight)[counted])),
        non_financing_exposure=to_fen(np.sum(rows.exposure[non_financing])),
    )


def _weights(rows: Rows, household_balance: np.ndarray, ref: ReferenceValues) -> np.ndarray:
    """《融资担保责任余额计量办法》 weights per counted row (0 elsewhere)."""
    floor = BOND_RATINGS.index(ref.text("bond_rating_floor"))
    rated = rows.is_in("bond_issuer_rating", BOND_RATINGS[: floor + 1])
    # household balances are fen-rounded, limits are whole yuan: ≤ is exact
    small_micro_loan = (
        rows.loan & rows.small_micro & (household_balance <= ref.number("household_limit_small_micro"))
    )
    farmer_loan = rows.loan & rows.farmer & (household_balance <= ref.number("household_limit_farmer"))
    weight = np.select(
        [
            small_micro_loan,
            farmer_loan,
            rows.eq("business_type", "housing_loan"),
            rows.eq("business_type", "bond") & rated,
        ],
        [
            ref.number("weight_small_micro_loan"),
            ref.number("weight_farmer_loan"),
            ref.number("weight_housing_loan"),
            ref.number("weight_bond_rated"),
        ],
        default=ref.number("weight_other_financing"),
    )
    return np.where(rows.counted, weight, 0.0)
