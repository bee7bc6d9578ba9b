"""Synthetic ``financials`` and ``compensations`` derived from a generated ``guarantees`` table.

The balance sheet is sized from the guarantees, not drawn on its own: net assets are set so that the
measured liability stays well under the 10× cap and no party or related group comes near its
concentration limit, whatever the number of rows. That keeps a synthetic filing prudentially clean
at 20 rows and at a million.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.synthetic import text as tx
from schemas import codes, get_template
from validations.context import Period

MIN_PAID_IN = 20_000_000  # 条例 第七条 (PRU-006), yuan
_SMALL_MICRO = ("micro", "small", "individual_business")


@dataclass(frozen=True)
class Exposure:
    """The phase-4 measures of a guarantees table (rules.md, phase 4 definitions), in yuan."""

    financing_exposure: float
    measured_liability: float
    max_party_exposure: float
    max_group_exposure: float
    fee_income_annual: float


def _mask(column: pa.ChunkedArray | pa.Array, values: tuple[str, ...]) -> np.ndarray:
    return np.asarray(pc.is_in(column, pa.array(values)).to_numpy(zero_copy_only=False), dtype=bool)


def _codes(keys: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, int]:
    """(dense integer code per row, number of distinct keys)."""
    encoded = pc.dictionary_encode(keys)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64), len(encoded.dictionary)


def measure(guarantees: pa.Table) -> Exposure:
    """Exposure, measured financing liability (《融资担保责任余额计量办法》) and concentration of a table."""
    business = guarantees["business_type"]
    category = guarantees["party_category"]
    active = _mask(guarantees["status"], ("active",))
    financing = active & _mask(business, codes.FINANCING_BUSINESS_TYPES)
    outstanding = tx.to_numpy_float(guarantees["outstanding_balance"])
    share = tx.to_numpy_float(guarantees["liability_share"])
    exposure = np.where(financing, outstanding * share, 0.0)

    party, n_parties = _codes(guarantees["party_id"])
    by_party = np.bincount(party, weights=exposure, minlength=n_parties)
    loan = financing & _mask(business, ("loan",))
    household = np.bincount(party, weights=np.where(loan, exposure, 0.0), minlength=n_parties)[party]
    weight = np.ones(len(exposure))
    weight[loan & _mask(category, _SMALL_MICRO) & (household <= 5_000_000)] = 0.75
    weight[loan & _mask(category, ("farmer",)) & (household <= 2_000_000)] = 0.75
    weight[financing & _mask(business, ("housing_loan",))] = 0.30
    weight[financing & _mask(business, ("bond",)) & _mask(guarantees["bond_issuer_rating"], ("AAA", "AA+", "AA"))] = 0.80

    max_group = 0.0
    grouped = np.asarray(pc.not_equal(guarantees["related_group_id"], "").to_numpy(zero_copy_only=False), dtype=bool)
    if grouped.any():
        group, n_groups = _codes(guarantees["related_group_id"].filter(pa.array(grouped)))
        max_group = float(np.bincount(group, weights=exposure[grouped], minlength=n_groups).max())
    fee = tx.to_numpy_float(guarantees["fee_rate"])
    guaranteed = tx.to_numpy_float(guarantees["guaranteed_amount"])
    return Exposure(
        financing_exposure=float(exposure.sum()),
        measured_liability=float((exposure * weight).sum()),
        max_party_exposure=float(by_party.max(initial=0.0)),
        max_group_exposure=max(max_group, float(by_party.max(initial=0.0))),
        fee_income_annual=float(np.nansum(np.where(active, guaranteed * fee, 0.0))),
    )


def make_financials(guarantees: pa.Table, period: str = "2026-10", seed: int = 0) -> pa.Table:
    """The one ``financials`` row, consistent (BIZ-008) and within every prudential ratio (PRU-001…011).

    Net assets are the largest of: measured liability / a leverage drawn in 2.5–6×, the largest party
    exposure / 8%, the largest group exposure / 12%, and 25 million (so paid-in capital can be ≥ 20
    million). Small filings therefore sit at low leverage, large ones at 2.5–6×. The asset classes split
    (total − receivable) into Ⅰ 30–50%, Ⅲ 10–25%, Ⅱ the rest; reserves exceed their floors by a margin.
    """
    rng = np.random.default_rng([seed, 0xF1A])
    p = Period.parse(period)
    m = measure(guarantees)
    equity_share = rng.uniform(0.0, 0.05)  # stakes in other guarantors, deducted for leverage
    leverage = rng.uniform(2.5, 6.0)
    net = max(
        m.measured_liability / leverage / (1 - equity_share),
        m.max_party_exposure / 0.08,
        m.max_group_exposure / 0.12,
        MIN_PAID_IN * 1.25,
    )
    net_assets = _ceil_to(net, 10_000)
    paid_in = max(MIN_PAID_IN, _floor_to(net_assets * rng.uniform(0.75, 0.95), 1_000_000))
    equity = math.floor(net_assets * equity_share)
    fee_income = math.ceil(m.fee_income_annual * p.month / 12)
    unearned = math.ceil(fee_income * rng.uniform(0.5, 0.8))
    compensation_reserve = math.ceil(m.financing_exposure * rng.uniform(0.012, 0.03))
    other_liabilities = math.ceil(net_assets * rng.uniform(0.05, 0.3))
    total = net_assets + unearned + compensation_reserve + other_liabilities
    receivable = math.floor(total * rng.uniform(0.005, 0.03))
    base = total - receivable
    class_i = math.floor(base * rng.uniform(0.30, 0.50))
    class_iii = math.floor(base * rng.uniform(0.10, 0.25))
    class_ii = base - class_i - class_iii
    values = {
        "paid_in_capital": paid_in,
        "net_assets": net_assets,
        "total_assets": total,
        "equity_in_other_guarantors": equity,
        "receivable_compensation": receivable,
        "class_i_assets": class_i,
        "class_ii_assets": class_ii,
        "class_iii_assets": class_iii,
        "unearned_premium_reserve": unearned,
        "compensation_reserve": compensation_reserve,
        "fee_income_ytd": fee_income,
    }
    columns = {"period_end": pa.array([p.end.isoformat()], pa.string())}
    columns.update({name: tx.cents(np.array([value * 100])) for name, value in values.items()})
    names = get_template("1.0").file("financials").column_names
    return pa.table([columns[name] for name in names], names=names)


def make_compensations(guarantees: pa.Table, period: str = "2026-10", seed: int = 0) -> pa.Table:
    """One payout per ``compensated`` guarantee, dated on its ``closed_date`` (within the period, BIZ-007).

    The payout is 30–100% of the guaranteed amount times the guarantor's liability share; 40% of the
    payouts have recovered up to 30% so far.
    """
    rng = np.random.default_rng([seed, 0xC0B])
    compensated = pc.equal(guarantees["status"], "compensated")
    rows = guarantees.filter(compensated)
    n = rows.num_rows
    guaranteed = tx.to_numpy_cents(rows["guaranteed_amount"])
    share = tx.to_numpy_float(rows["liability_share"])
    paid = np.maximum(1, np.floor(guaranteed * share * rng.uniform(0.3, 1.0, n))).astype(np.int64)
    recovered = np.where(rng.random(n) < 0.4, np.floor(paid * rng.uniform(0.0, 0.3, n)), 0).astype(np.int64)
    columns = {
        "compensation_id": tx.compose("DC", period.replace("-", ""), (np.arange(1, n + 1), max(5, len(str(n))))),
        "guarantee_id": rows["guarantee_id"].combine_chunks(),
        "compensation_date": rows["closed_date"].combine_chunks(),
        "amount_paid": tx.cents(paid),
        "recovered_to_date": tx.cents(recovered),
    }
    names = get_template("1.0").file("compensations").column_names
    return pa.table([columns[name] for name in names], names=names)


def _ceil_to(value: float, step: int) -> int:
    return int(math.ceil(value / step) * step)


def _floor_to(value: float, step: int) -> int:
    return int(math.floor(value / step) * step)
