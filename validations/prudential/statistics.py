"""The statistical sections of the CBRC report (outputs.md 2.0 §4), computed once in phase 4 beside the
indicators, from the filing, its measures and the guarantor's last accepted filing.

Every amount is summed exactly and reported as ``amount_float`` (half-up to the fen), every ratio as
the float nearest the exact quotient, like the indicators. A value the filing's template version does
not carry is ``None`` and its section's ``null_reasons`` says why: never invented. Readings
(docs/cbrc-report.md, "Statistical sections"):

- ``guarantee_flows`` per ``business_type``: opening = the active rows of the last accepted filing
  (count, Σ outstanding_balance), null without one; new = rows whose ``start_date`` lies in the period
  (count, Σ guaranteed_amount); released / compensated = rows of that status whose ``closed_date`` lies
  in the period (count, Σ guaranteed_amount; compensated also Σ amount_paid of its payouts in the
  period); closing = the active rows (count, Σ outstanding_balance).
- ``liability_breakdown``: the counted rows by weight class (measures.WEIGHT_CLASSES), with the
  distinct parties (households) of each.
- ``bank_cooperation``: financing rows with a ``lender_code``, per lender: active count, exposure and
  balance, payouts in the period; with template 1.1 the exposure-weighted bank share, the margins, the
  re-guaranteed count and the payout delays (calendar days from the bank's claim).
- ``policy_commercial_split``: by ``account_type``; an empty one counts as ``commercial`` (BIZ-009
  leaves it empty only for commercial guarantors).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from schemas.codes import ACCOUNT_TYPES, BUSINESS_TYPES, NON_PERFORMING
from validations.context import Period
from validations.distinct import distinct
from validations.exact import (
    AMOUNT,
    RATIO,
    amount_float,
    as_decimal,
    multiply,
    narrow,
    ratio,
    sums_by,
    total,
    unscaled,
    zero_filled,
)
from validations.prudential.measures import WEIGHT_CLASSES, Measures, day_numbers, epoch_days, mask
from validations.prudential.reference import ReferenceValues

NOT_IN_1_0 = "template 1.0 does not carry it (template 1.1 does)"
NO_PREVIOUS = "no earlier accepted filing of this guarantor"
SECTIONS = ("balance_sheet", "income_statement", "guarantee_flows", "liability_breakdown", "bank_cooperation",
            "policy_commercial_split", "plan_statistics")  # fmt: skip


def _amount(table: pa.Table | None, column: str, where: np.ndarray | None = None) -> Fraction | None:
    if table is None:
        return Fraction(0)
    if column not in table.column_names:
        return None
    return total(as_decimal(table[column], AMOUNT), where)


def _out(value: Fraction | None) -> float | None:
    return None if value is None else amount_float(value)


def _section(values: dict[str, Any], reasons: dict[str, str] | None = None) -> dict[str, Any]:
    nulls = {key: (reasons or {}).get(key, NOT_IN_1_0) for key, value in values.items() if value is None}
    return {**values, "null_reasons": nulls}


@dataclass(frozen=True)
class FromTables:
    """What the sections read from the filing's tables alone, before any measure: the payouts attached
    to their rows and the guarantee flows. Phase 4 computes it on its second thread while the measures
    are computed on the first."""

    payouts: _Payouts
    flows: dict[str, Any]


def from_tables(guarantees: pa.Table, compensations: pa.Table | None, previous: pa.Table | None,
                period: Period) -> FromTables:
    payouts = _Payouts(guarantees, compensations)
    return FromTables(payouts, _flows(guarantees, compensations, previous, period, payouts))


def compute(
    m: Measures,
    financials: pa.Table,
    compensations: pa.Table | None,
    previous: pa.Table | None,
    period: Period,
    ref: ReferenceValues,
    tables: FromTables | None = None,
) -> dict[str, Any]:
    """The seven sections (``SECTIONS``) of one filing; ``previous`` is the guarantees table of the
    guarantor's last accepted filing (None without one); ``tables`` what :func:`from_tables` computed
    of the same filing, if it ran already."""
    fin = financials.slice(0, 1)
    tables = tables or from_tables(m.rows.table, compensations, previous, period)
    payouts = tables.payouts

    def item(name: str) -> Fraction | None:
        return None if name not in fin.column_names else _amount(fin, name)

    return {
        "balance_sheet": _balance_sheet(m, item),
        "income_statement": _income_statement(m, item, compensations),
        "guarantee_flows": tables.flows,
        "liability_breakdown": _breakdown(m, ref),
        "bank_cooperation": _banks(m, compensations, payouts),
        "policy_commercial_split": _split(m, payouts),
        "plan_statistics": _plan(m),
    }


def _balance_sheet(m: Measures, item: Any) -> dict[str, Any]:
    f = m.financials
    values = {
        "total_assets": amount_float(f.total_assets), "net_assets": amount_float(f.net_assets),
        "paid_in_capital": amount_float(f.paid_in_capital),
        "equity_in_other_guarantors": amount_float(f.equity_in_other_guarantors),
        "class_i_assets": amount_float(f.class_i_assets), "class_ii_assets": amount_float(f.class_ii_assets),
        "class_iii_assets": amount_float(f.class_iii_assets),
        "compensation_receivable": amount_float(f.receivable_compensation),
        "unearned_premium_reserve": amount_float(f.unearned_premium_reserve),
        "compensation_reserve": amount_float(f.compensation_reserve),
        "margin_received": _out(item("margin_received")), "margin_placed": _out(item("margin_placed")),
    }  # fmt: skip
    return _section(values)


def _income_statement(m: Measures, item: Any, compensations: pa.Table | None) -> dict[str, Any]:
    values = {
        "fee_income_period": _out(item("fee_income_period")),
        "fee_income_ytd": amount_float(m.financials.fee_income_ytd),
        "compensation_paid_period": _out(_amount(compensations, "amount_paid")),
        "compensation_paid_ytd": _out(item("compensation_paid_ytd")),
        "recovered_to_date_on_period_payouts": _out(_amount(compensations, "recovered_to_date")),
        "recovered_ytd": _out(item("recovered_ytd")),
        "written_off_ytd": _out(item("written_off_ytd")),
        "net_profit_period": _out(item("net_profit_period")),
        "net_profit_ytd": _out(item("net_profit_ytd")),
        "capital_injection_ytd": _out(item("capital_injection_ytd")),
    }
    return _section(values)


def _in_period(values: pa.ChunkedArray, period: Period) -> np.ndarray:
    days = day_numbers(values, fill=-(2**31))
    return (days >= epoch_days(period.start)) & (days <= epoch_days(period.end))


def _codes(table: pa.Table, column: str, code: str) -> np.ndarray:
    return mask(pc.equal(table[column], code))


class _Payouts:
    """The period's payouts (compensations) attached to the guarantee rows that they name, column-wise:
    each row's slot among the distinct compensated guarantee ids (one hash of the few compensation ids,
    one probe of the rows), each slot's exact total and delays. Sums over a mask of rows then touch only
    the rows with a payout, never every row in Python."""

    def __init__(self, g: pa.Table, compensations: pa.Table | None) -> None:
        self.any = compensations is not None and compensations.num_rows > 0
        self.count = 0  # slots: the distinct compensated guarantee ids
        self._numerators: list[int] = []  # each slot's total over one common denominator, summed as integers
        self._denominator = 1
        self.has_delays = False
        self._payout_slots = np.zeros(0, dtype=np.int64)  # per payout: its slot and its delay in days
        self._payout_delays = np.zeros(0, dtype=np.int64)
        self._rows = np.zeros(0, dtype=np.int64)  # rows of g with a payout
        self._slots = np.zeros(0, dtype=np.int64)  # their slots
        if not self.any:
            return
        assert compensations is not None
        grouped = pa.table({"guarantee_id": compensations["guarantee_id"],
                            "paid": as_decimal(compensations["amount_paid"], AMOUNT)}).group_by("guarantee_id").aggregate(
            [("paid", "sum")])
        keys = grouped["guarantee_id"].combine_chunks()
        self.count = len(keys)
        self._numerators, self._denominator = _over_one_denominator(grouped["paid_sum"].combine_chunks())
        if "bank_claim_date" in compensations.column_names:
            self.has_delays = True
            self._payout_delays = (day_numbers(compensations["compensation_date"])
                                   - day_numbers(compensations["bank_claim_date"]))
            self._payout_slots = np.asarray(pc.index_in(compensations["guarantee_id"], value_set=keys)
                                            .to_numpy(zero_copy_only=False), dtype=np.int64)
        slot = pc.index_in(g["guarantee_id"], value_set=keys)
        self._rows = np.flatnonzero(mask(pc.is_valid(slot)))
        self._slots = np.asarray(pc.fill_null(slot, 0).to_numpy(zero_copy_only=False), dtype=np.int64)[self._rows]

    def delays_of(self, slots: list[int]) -> tuple[int | None, float | None]:
        """(max, mean) of the delays of every payout of the slots (a slot named twice counts twice);
        (None, None) without any."""
        times = np.bincount(np.asarray(slots, dtype=np.int64), minlength=self.count)[self._payout_slots]
        if not times.any():
            return None, None
        waits = self._payout_delays
        return int(waits[times > 0].max()), int((waits * times).sum()) / int(times.sum())

    def slots(self, where: np.ndarray) -> list[int]:
        """The slot of every row in ``where`` that has a payout, in row order."""
        return self._slots[where[self._rows]].tolist()

    def total(self, where: np.ndarray) -> Fraction:
        """Σ amount_paid over the rows in ``where`` (each row with all of its payouts), exactly."""
        return self.total_of(self.slots(where))

    def total_of(self, slots: list[int]) -> Fraction:
        """Σ of the slots' totals, exactly: integer numerators over their common denominator (a
        Fraction addition per payout costs microseconds, thousands of times per section)."""
        return Fraction(sum(self._numerators[s] for s in slots), self._denominator)


def _over_one_denominator(sums: pa.Array) -> tuple[list[int], int]:
    """Exact decimal sums as integer numerators over one denominator: the unscaled integers over
    10^scale (one cast), or, for sums past an int64, each as a Fraction."""
    try:
        return unscaled(sums).tolist(), 10**sums.type.scale
    except (pa.ArrowInvalid, OverflowError):
        fractions = [Fraction(v or 0) for v in sums.to_pylist()]
        denominator = math.lcm(1, *(f.denominator for f in fractions))
        return [int(f * denominator) for f in fractions], denominator


def _flows(g: pa.Table, compensations: pa.Table | None, previous: pa.Table | None, period: Period,
           payouts: _Payouts) -> dict[str, Any]:
    new = _in_period(g["start_date"], period)
    closed = _in_period(g["closed_date"], period)
    active = _codes(g, "status", "active")
    needed = ("business_type", "status", "outstanding_balance")
    if previous is not None and not all(name in previous.column_names for name in needed):
        previous = None  # a baseline without its balances cannot open the flows
    # every line's counts and exact sums at once, by each row's business type
    kinds = len(BUSINESS_TYPES)
    business = _slots(g["business_type"], BUSINESS_TYPES)
    ended = {status: closed & _codes(g, "status", status) for status in ("released", "compensated")}
    counts = {"new": _counts(business, new, kinds), "closing": _counts(business, active, kinds),
              **{status: _counts(business, rows, kinds) for status, rows in ended.items()}}
    sums = {"new": _sums(g["guaranteed_amount"], new, business, kinds),
            "closing": _sums(g["outstanding_balance"], active, business, kinds),
            **{status: _sums(g["guaranteed_amount"], rows, business, kinds) for status, rows in ended.items()}}
    if previous is not None:
        before = _codes(previous, "status", "active")
        previous_business = _slots(previous["business_type"], BUSINESS_TYPES)
        counts["opening"] = _counts(previous_business, before, kinds)
        sums["opening"] = _sums(previous["outstanding_balance"], before, previous_business, kinds)
    lines = []
    for index, kind in enumerate(BUSINESS_TYPES):
        line: dict[str, Any] = {"business_type": kind}
        if previous is None:
            line["opening_count"] = line["opening_balance"] = None
        else:
            line["opening_count"] = counts["opening"][index]
            line["opening_balance"] = amount_float(sums["opening"][index])
        line["new_count"] = counts["new"][index]
        line["new_amount"] = amount_float(sums["new"][index])
        for status in ("released", "compensated"):
            line[f"{status}_count"] = counts[status][index]
            line[f"{status}_amount"] = amount_float(sums[status][index])
        compensated = ended["compensated"] & (business == index)
        line["compensation_paid"] = amount_float(payouts.total(compensated)) if payouts.any else 0.0
        line["closing_count"] = counts["closing"][index]
        line["closing_balance"] = amount_float(sums["closing"][index])
        lines.append(line)
    reasons = {} if previous is not None else {"opening_count": NO_PREVIOUS, "opening_balance": NO_PREVIOUS}
    return {"by_business_type": lines, "null_reasons": reasons}


def _slots(values: pa.ChunkedArray, names: tuple[str, ...]) -> np.ndarray:
    """Each row's position in ``names`` (``len(names)`` for any other value or none): one probe of a
    few names per row."""
    found = pc.fill_null(pc.index_in(values, value_set=pa.array(names, pa.string())), len(names))
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)


def _counts(slots: np.ndarray, where: np.ndarray, count: int) -> list[int]:
    """How many rows in ``where`` each of the ``count`` slots has."""
    return np.bincount(slots[where], minlength=count + 1)[:count].tolist()


def _sums(values: pa.ChunkedArray | pa.Array, where: np.ndarray, slots: np.ndarray, count: int) -> list[Fraction]:
    """Exact sums of a decimal column over the rows in ``where``, per slot (nulls as zero): the rows
    are picked once and summed by ``exact.sums_by``, not filtered once per slot."""
    rows = np.flatnonzero(where & (slots < count))
    picked = zero_filled(as_decimal(values, AMOUNT) if not pa.types.is_decimal(values.type) else values)
    picked = picked.take(pa.array(rows, pa.int64()))
    return [Fraction(v) for v in sums_by(picked, slots[rows], count).to_pylist()]


def _breakdown(m: Measures, ref: ReferenceValues) -> dict[str, Any]:
    rows = m.rows
    kinds = len(WEIGHT_CLASSES)
    classes = m.weight_class if m.weight_class is not None else np.full(len(rows), kinds)
    counted = rows.counted & (classes < kinds)
    parties = rows.codes.indices("party_id").astype(np.int64)  # the dictionary codes phases 3 and 4 share
    # the distinct (class, party) pairs give each class's households in one sort
    pairs = distinct(classes[counted] * (int(parties.max(initial=0)) + 1) + parties[counted])
    households = np.bincount(pairs // (int(parties.max(initial=0)) + 1), minlength=kinds)[:kinds].tolist()
    counts = _counts(classes, counted, kinds)
    exposures = _sums(rows.exposure, counted, classes, kinds)
    measured = _sums(m.weighted, counted, classes, kinds)
    lines = []
    for index, name in enumerate(WEIGHT_CLASSES):
        lines.append({
            "weight_class": name,
            "weight": float(ref.decimal(f"weight_{name}")),
            "count": counts[index],
            "households": households[index],
            "exposure": amount_float(exposures[index]),
            "measured_liability": amount_float(measured[index]),
        })  # fmt: skip
    return {"by_weight_class": lines, "measured_financing_liability": amount_float(m.measured_financing_liability),
            "null_reasons": {}}


def _banks(m: Measures, compensations: pa.Table | None, payouts: _Payouts) -> dict[str, Any]:
    rows = m.rows
    g = rows.table
    lender = g["lender_code"]
    has_lender = mask(pc.and_(pc.is_valid(lender), pc.not_equal(lender, ""))) & rows.financing
    is_1_1 = "bank_risk_share" in g.column_names
    codes, dictionary = rows.codes.encoded("lender_code")
    present = distinct(codes[has_lender])
    lenders = sorted((dictionary[int(c)].as_py(), int(c)) for c in present)  # the code lists of a few lenders, by code
    if is_1_1:
        bank_share = narrow(zero_filled(as_decimal(g["bank_risk_share"], RATIO)))
        bank_exposure = multiply(zero_filled(as_decimal(g["outstanding_balance"], AMOUNT)), bank_share)
        reguaranteed = mask(pc.and_(pc.is_valid(g["reguarantee_ref"]), pc.not_equal(g["reguarantee_ref"], "")))
    # the per-lender sums over the counted rows in one pass each: exact sums over the lender codes
    counted_rows = np.flatnonzero(has_lender & rows.counted)
    slot_of_code = np.zeros(len(dictionary) + 1, dtype=np.int64)
    slot_of_code[[index for _, index in lenders]] = np.arange(len(lenders))
    by_lender = slot_of_code[codes[counted_rows]]

    def per_lender(values: pa.Array | pa.ChunkedArray) -> list[Fraction]:
        picked = zero_filled(values).take(pa.array(counted_rows, pa.int64()))
        return [Fraction(v) for v in sums_by(picked, by_lender, len(lenders)).to_pylist()]

    exposures = per_lender(rows.exposure)
    balances = per_lender(as_decimal(g["outstanding_balance"], AMOUNT))
    if is_1_1:
        bank_exposures = per_lender(bank_exposure)
        margins = per_lender(as_decimal(g["bank_margin_amount"], AMOUNT))
    lines = []
    for number, (code, index) in enumerate(lenders):
        of = has_lender & (codes == index)
        counted = of & rows.counted
        slots = payouts.slots(of)
        line: dict[str, Any] = {
            "lender_code": code,
            "active_count": int(counted.sum()),
            "exposure": amount_float(exposures[number]),
            "outstanding_balance": amount_float(balances[number]),
            "compensation_count": len(slots),
            "compensation_paid": amount_float(payouts.total_of(slots)),
        }
        if is_1_1:
            line["bank_risk_share"] = ratio(bank_exposures[number], balances[number])
            line["bank_exposure"] = amount_float(bank_exposures[number])
            line["bank_margin_amount"] = amount_float(margins[number])
            line["reguaranteed_count"] = int((counted & reguaranteed).sum())
            most, mean = payouts.delays_of(slots) if payouts.has_delays else (None, None)
            line["payout_delay_days_max"] = most
            line["payout_delay_days_mean"] = mean
        else:
            for key in ("bank_risk_share", "bank_exposure", "bank_margin_amount", "reguaranteed_count",
                        "payout_delay_days_max", "payout_delay_days_mean"):
                line[key] = None
        lines.append(line)
    reasons = {} if is_1_1 else dict.fromkeys(
        ("bank_risk_share", "bank_exposure", "bank_margin_amount", "reguaranteed_count", "payout_delay_days_max",
         "payout_delay_days_mean"), NOT_IN_1_0)
    if is_1_1:
        reasons = {"payout_delay_days_max": "null for a lender without payouts in the period",
                   "payout_delay_days_mean": "null for a lender without payouts in the period"}
    return {"by_lender": lines, "null_reasons": reasons}


def _split(m: Measures, payouts: _Payouts) -> dict[str, Any]:
    rows = m.rows
    weighted = m.weighted
    fee_weighted = m.fee_weighted
    lines = []
    for code in ACCOUNT_TYPES:
        # an empty account_type (null in the typed table, "" in another's) counts as commercial
        of = rows.is_in("account_type", (code, "") if code == "commercial" else (code,))
        if code == "commercial":
            of = of | rows.is_null("account_type")
        counted = of & rows.counted
        exposure = total(rows.exposure, counted)
        sma = total(rows.exposure, counted & rows.small_micro_agri)
        lines.append({
            "account_type": code,
            "active_count": int((of & rows.active).sum()),
            "financing_exposure": amount_float(exposure),
            "measured_financing_liability": amount_float(total(weighted, counted)),
            "non_financing_exposure": amount_float(total(rows.exposure, of & rows.active & ~rows.financing)),
            "small_micro_agri_exposure_share": ratio(sma, exposure),
            "weighted_fee_rate": None if exposure <= 0 else float(total(fee_weighted, counted) / exposure),
            "compensated_in_period": amount_float(payouts.total(of)) if payouts.any else 0.0,
            "non_performing_exposure": amount_float(total(rows.exposure, counted & rows.is_in("five_category",
                                                                                             NON_PERFORMING))),
        })  # fmt: skip
    return {"by_account_type": lines,
            "null_reasons": {"small_micro_agri_exposure_share": "null without financing exposure",
                             "weighted_fee_rate": "null without financing exposure"}}


def _plan(m: Measures) -> dict[str, Any]:
    """The plan's other clauses in figures: 三(五) internet channel beside bonds, 二(二) rural property,
    五(十) re-guarantee, 五(十二) overdue and non-performing."""
    rows = m.rows
    g = rows.table
    is_1_1 = "bank_risk_share" in g.column_names
    bond = rows.counted & rows.eq("business_type", "bond")
    values: dict[str, Any] = {
        "bond_count": int(bond.sum()), "bond_exposure": amount_float(total(rows.exposure, bond)),
        "non_performing_exposure": amount_float(total(rows.exposure, rows.counted & rows.is_in("five_category",
                                                                                              NON_PERFORMING))),
    }  # fmt: skip
    if is_1_1:
        internet = rows.counted & mask(g["internet_channel"])
        rural = rows.counted & rows.eq("counter_guarantee", "rural_property")
        reguaranteed = rows.counted & mask(pc.and_(pc.is_valid(g["reguarantee_ref"]),
                                                   pc.not_equal(g["reguarantee_ref"], "")))
        values.update({
            "internet_channel_count": int(internet.sum()),
            "internet_channel_exposure": amount_float(total(rows.exposure, internet)),
            "rural_property_count": int(rural.sum()),
            "rural_property_exposure": amount_float(total(rows.exposure, rural)),
            "reguaranteed_count": int(reguaranteed.sum()),
            "reguaranteed_exposure": amount_float(total(rows.exposure, reguaranteed)),
            "overdue_amount": amount_float(_amount(g, "overdue_amount", rows.counted)),
        })
    else:
        values.update(dict.fromkeys(("internet_channel_count", "internet_channel_exposure", "rural_property_count",
                                     "rural_property_exposure", "reguaranteed_count", "reguaranteed_exposure",
                                     "overdue_amount")))
    return _section(values)
