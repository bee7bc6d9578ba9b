"""Fee subsidy (担保费补贴, rules.md section 4; 巴南府发〔2017〕30号 (七)) and the rows SUB-001 reports.

A row earns a subsidy only for the program it claims and only when it is eligible for it; eligibility
is read literally from section 4 (``rural_startup`` and ``land_income`` name no business type or
district; status does not matter, so a row released during the period earns its days up to release).

Per row: ``guaranteed_amount × points × days / basis`` with ``days`` the calendar days d of the period
with ``start_date ≤ d < end`` (``end`` = ``closed_date`` for an ended row, else ``maturity_date``),
rounded half-up to the fen. The arithmetic is exact integer arithmetic on fen: with the amount ``G`` in
fen and the points as the fraction p/q, ``N = G·p·days`` and ``D = q·basis``, the rounded amount is
``(2N + D) // (2D)``; floats would turn 0.005-fen ties into coin flips.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from validations.context import Period
from validations.exact import RATIO_SCALE, fen, int_total
from validations.prudential.measures import Rows, day_numbers, epoch_days, equals
from validations.prudential.reference import ReferenceValues
from validations.prudential.text import percent

PROGRAMS = ("sme_fee", "rural_startup", "land_income")
SUBSIDY_SCHEMA = pa.schema(
    [
        pa.field("guarantee_id", pa.string()),
        pa.field("row", pa.int64()),  # 1-based data row of guarantees
        pa.field("program", pa.string()),
        pa.field("days", pa.int64()),
        pa.field("amount", pa.decimal128(18, 2)),  # yuan, exact to the fen
    ]
)
# what section 4 asks of each program, for SUB-001's message
CONDITIONS = {
    "sme_fee": ("借款类、小型微型或中型企业、本补贴区域（{district}）、费率不超过{max}",
                "a loan to a micro, small or medium enterprise in district {district} with fee ≤ {max}"),
    "rural_startup": ("微型企业、费率不超过{max}", "a micro enterprise, fee ≤ {max}"),
    "land_income": ("农户、费率不超过{max}", "a farmer, fee ≤ {max}"),
}  # fmt: skip


@dataclass(frozen=True)
class SubsidyResult:
    table: pa.Table  # one row per eligible claim (SUBSIDY_SCHEMA)
    ineligible: dict[str, np.ndarray]  # program → rows claiming it without being eligible (SUB-001)
    total_fen: int
    by_program_fen: dict[str, int]  # programs with an eligible row, in order of their first one

    @property
    def total(self) -> float:
        return self.total_fen / 100

    @property
    def by_program(self) -> dict[str, float]:
        return {program: fen / 100 for program, fen in self.by_program_fen.items()}


def eligible(rows: Rows, ref: ReferenceValues) -> dict[str, np.ndarray]:
    """Per program, the rows eligible for it (whether or not they claim it)."""
    fee = rows.fee_rate
    # fee_rate and the maxima as integers in units of 10⁻¹⁸: ≤ is exact at 2% and 1%
    return {
        "sme_fee": rows.loan
        & rows.is_in("party_category", ("micro", "small", "medium"))
        & rows.eq("district_code", ref.text("subsidy_district"))
        & (fee <= ref.scaled("sme_fee_max_fee_rate", RATIO_SCALE)),
        "rural_startup": rows.eq("party_category", "micro")
        & (fee <= ref.scaled("rural_startup_max_fee_rate", RATIO_SCALE)),
        "land_income": rows.farmer & (fee <= ref.scaled("land_income_max_fee_rate", RATIO_SCALE)),
    }


def subsidy_days(guarantees: pa.Table, period: Period) -> np.ndarray:
    """Calendar days d of the period with start_date ≤ d < end (closed_date if ended, else maturity)."""
    start = day_numbers(guarantees["start_date"])
    active = equals(guarantees["status"], "active")
    closed = day_numbers(guarantees["closed_date"], fill=0)
    end = np.where(active, day_numbers(guarantees["maturity_date"]), closed)
    first = np.maximum(start, epoch_days(period.start))
    stop = np.minimum(end, epoch_days(period.end) + 1)
    return np.clip(stop - first, 0, None)


def half_up_fen(amount_fen: np.ndarray, points: tuple[int, int], days: np.ndarray, basis: int) -> np.ndarray:
    """round_half_up(G · p/q · days / basis), exactly: in int64 when no intermediate can overflow it,
    else in Python ints (an object array, still column-wise); the result, at most G, fits int64."""
    p, q = points
    denominator = q * basis
    if 2 * int(amount_fen.max(initial=0)) * p * int(days.max(initial=0)) + denominator < 2**63:
        numerator = amount_fen.astype(np.int64) * p * days.astype(np.int64)
        return (2 * numerator + denominator) // (2 * denominator)
    numerator = amount_fen.astype(object) * p * days.astype(object)
    return ((2 * numerator + denominator) // (2 * denominator)).astype(np.int64)


_CLAIM_COLUMNS = ("guarantee_id", "subsidy_program", "guaranteed_amount", "status", "start_date", "maturity_date",
                  "closed_date")


def compute(rows: Rows, period: Period, ref: ReferenceValues) -> SubsidyResult:
    """The subsidy rows and totals, and the ineligible claims for SUB-001."""
    claims = {name: rows.eq("subsidy_program", name) for name in PROGRAMS}
    ok = eligible(rows, ref)
    index = np.flatnonzero(np.logical_or.reduce([claims[name] & ok[name] for name in PROGRAMS]))
    sub = rows.table.select(_CLAIM_COLUMNS).take(pa.array(index, pa.int64()))  # what a subsidy row reads
    days = subsidy_days(sub, period)
    amount_fen = fen(sub["guaranteed_amount"])  # exact: amounts are whole fen from the parse on
    basis = ref.integer("subsidy_day_basis")
    paid = np.zeros(len(index), dtype=np.int64)
    firsts: list[tuple[int, str, int]] = []  # (first eligible row, program, total fen)
    for name in PROGRAMS:
        where = equals(sub["subsidy_program"], name)
        if where.any():
            points = ref.decimal(f"{name}_subsidy_rate").as_integer_ratio()
            paid[where] = half_up_fen(amount_fen[where], points, days[where], basis)
            firsts.append((int(np.argmax(where)), name, int_total(paid[where])))
    firsts.sort()
    # fen → yuan exactly: the same 128-bit integers read with scale 2
    whole = pa.array(paid, pa.int64()).cast(pa.decimal128(19, 0)).cast(pa.decimal128(18, 0))
    amounts = pa.Array.from_buffers(pa.decimal128(18, 2), len(whole), whole.buffers())
    table = pa.table(
        [
            sub["guarantee_id"],
            pa.array(index + 1, pa.int64()),
            sub["subsidy_program"],
            pa.array(days, pa.int64()),
            amounts,
        ],
        schema=SUBSIDY_SCHEMA,
    )
    return SubsidyResult(
        table=table,
        ineligible={name: claims[name] & ~ok[name] for name in PROGRAMS},
        total_fen=int_total(paid),
        by_program_fen={name: total for _, name, total in firsts},
    )


def sub_001_detail(program: str, ref: ReferenceValues) -> tuple[str, str]:
    """SUB-001's detail for ``program``: what section 4 asks."""
    zh, en = CONDITIONS[program]
    maximum = percent(ref.decimal(f"{program}_max_fee_rate"))
    district = ref.text("subsidy_district")
    return (
        f"{program} 要求{zh.format(district=district, max=maximum)}",
        f"{program} requires {en.format(district=district, max=maximum)}",
    )
