"""What a lending bank reads (巴南府发〔2017〕30号 一, 五(十), 五(十一)): for the guarantees it lends against
— the ledger rows whose ``lender_code`` is the bank token's — the exposures, the payouts and how long
each took after the bank's claim, and every guarantor's grade and third-party rating. Nothing else.

Everything comes from the published datasets (``guarantees``, ``compensations``, ``grades``) and the
registry's rating, never from raw filings or a second validation: what a bank reads is what was
published, version for version. Rows are filtered on ``lender_code`` here and only here, whatever the
request asks, and only the columns below leave the portal (no party identifiers, no findings, no
other lender's rows); natural persons' names stay masked as in every published ledger.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from connectors.datasets import DatasetStore
from connectors.datasets.tables import mask_guarantees
from validations.context import Period
from validations.prudential.reference import ReferenceData
from web.auth import Principal
from web.refusals import Refused

#: The ledger columns a bank reads about its own lending (template 1.0 and, where filed, 1.1).
EXPOSURE_COLUMNS = (
    "institution_id", "period", "guarantee_id", "contract_no", "party_name", "party_category", "business_type",
    "loan_amount", "guaranteed_amount", "outstanding_balance", "liability_share", "bank_risk_share",
    "bank_margin_amount", "reguarantee_share", "status", "start_date", "maturity_date", "closed_date",
    "five_category", "five_category_date", "overdue_amount",
)  # fmt: skip
#: The payout columns: ``payout_days`` is the delay after the bank's claim (1.1; null for 1.0 filings).
COMPENSATION_COLUMNS = (
    "institution_id", "period", "compensation_id", "guarantee_id", "bank_claim_date", "compensation_date",
    "payout_days", "amount_paid", "recovered_to_date", "written_off_to_date",
)  # fmt: skip
NON_PERFORMING = pa.array(["3", "4", "5"])


def _only_banks(principal: Principal) -> str:
    if not principal.is_bank or not principal.lender_code:
        raise Refused(403, "forbidden", "this needs a bank token")
    return principal.lender_code


def periods(store: DatasetStore) -> list[str]:
    """Periods with a published ledger (the periods a bank may choose; no guarantor is named)."""
    return sorted({p for p, _ in store.partitions("guarantees")})


def choose_period(store: DatasetStore, period: str | None) -> str | None:
    known = periods(store)
    if period:
        return period
    return known[-1] if known else None


def _own(store: DatasetStore, dataset: str, period: str | None, lender_code: str, columns: tuple[str, ...]) -> pa.Table:
    """The published rows of ``dataset`` for ``period`` whose ``lender_code`` is the bank's, with only
    ``columns`` (those the version carries; a 1.0 ledger has no ``bank_risk_share``)."""
    wanted = ["lender_code", *columns, *(("party_id_type",) if dataset == "guarantees" else ())]
    table = store.read(dataset, period, columns=wanted) if period else None
    if table is None or "lender_code" not in table.column_names:
        return pa.table({c: pa.array([], pa.string()) for c in columns[:3]})
    table = table.filter(pc.fill_null(pc.equal(table["lender_code"], lender_code), False))
    if dataset == "guarantees":
        table = mask_guarantees(table)  # versions published before outputs.md 2.0 too
    return table.select([c for c in columns if c in table.column_names])


def exposures(store: DatasetStore, principal: Principal, period: str | None) -> pa.Table:
    """The bank's guarantees of the period (every guarantor's ledger rows naming its ``lender_code``)."""
    return _own(store, "guarantees", period, _only_banks(principal), EXPOSURE_COLUMNS)


def compensations(store: DatasetStore, principal: Principal, period: str | None) -> pa.Table:
    """The period's payouts on the bank's guarantees, with the delay after its claim."""
    return _own(store, "compensations", period, _only_banks(principal), COMPENSATION_COLUMNS)


def payout_days_max(period: str) -> int:
    """BNK-001's line (rules 1.2-draft: ``payout_days_max``, dated reference data) at the period end."""
    return ReferenceData.load().as_of(Period.parse(period).end).integer("payout_days_max")


def _sum(table: pa.Table, column: str) -> Decimal | None:
    """Σ ``column`` exactly; None when the rows do not carry it (a 1.0 ledger has no ``overdue_amount``:
    absent, or null where a period mixes 1.0 and 1.1 partitions), 0.00 when there are no rows."""
    if table.num_rows == 0:
        return Decimal("0.00")
    if column not in table.column_names or table[column].null_count == table.num_rows:
        return None
    return Decimal(pc.sum(table[column]).as_py())


def by_guarantor(exposed: pa.Table, paid: pa.Table, names: dict[str, str], period: str | None) -> list[dict[str, Any]]:
    """Per guarantor the bank lends through: active guarantees, their outstanding balance, overdue and
    non-performing (classes 3–5) amounts; the period's payouts, their amount, the longest delay and how
    many exceeded BNK-001's line. Amounts exact (``Decimal``)."""
    line = payout_days_max(period) if period else None
    out = []
    ids = sorted({*exposed["institution_id"].to_pylist(), *paid["institution_id"].to_pylist()}) if exposed.num_rows or paid.num_rows else []
    for institution_id in ids:
        mine = exposed.filter(pc.equal(exposed["institution_id"], institution_id))
        active = mine.filter(pc.equal(mine["status"], "active")) if "status" in mine.column_names else mine
        bad = (active.filter(pc.fill_null(pc.is_in(active["five_category"], NON_PERFORMING), False))
               if "five_category" in active.column_names else active.slice(0, 0))
        payouts = paid.filter(pc.equal(paid["institution_id"], institution_id))
        delays = payouts["payout_days"] if "payout_days" in payouts.column_names else pa.chunked_array([], pa.int64())
        late = pc.sum(pc.greater(delays, line)).as_py() if line is not None and len(delays) else 0
        out.append({
            "institution_id": institution_id,
            "name": names.get(institution_id, ""),
            "guarantees": mine.num_rows,
            "active": active.num_rows,
            "outstanding_balance": _sum(active, "outstanding_balance"),
            "overdue_amount": _sum(active, "overdue_amount"),
            "non_performing_balance": _sum(bad, "outstanding_balance"),
            "compensations": payouts.num_rows,
            "compensation_paid": _sum(payouts, "amount_paid"),
            "payout_days_max": pc.max(delays).as_py() if len(delays) else None,
            "late_payouts": int(late or 0),
        })  # fmt: skip
    return out


def guarantors(store: DatasetStore, registry: list[Any], period: str | None) -> list[dict[str, Any]]:
    """Every guarantor in the registry with its published grade for the period (none when it was not
    graded) and its third-party rating as the registry holds it (五(十一), 六(十六))."""
    grades = store.read("grades", period) if period else None
    graded = {} if grades is None else dict(zip(grades["institution_id"].to_pylist(), grades["grade"].to_pylist(), strict=True))
    late = set() if grades is None or "late_filing" not in grades.column_names else {
        i for i, flag in zip(grades["institution_id"].to_pylist(), grades["late_filing"].to_pylist(), strict=True) if flag}
    return [{
        "institution_id": i.institution_id, "name": i.name, "status": str(i.status),
        "grade": graded.get(i.institution_id), "late_filing": i.institution_id in late,
        "rating_agency": i.rating_agency, "rating_grade": i.rating_grade, "rating_date": i.rating_date,
    } for i in registry]  # fmt: skip


def overview(store: DatasetStore, principal: Principal, registry: list[Any], period: str | None) -> dict[str, Any]:
    """The bank's page and ``GET /api/bank`` in one: its lending per guarantor, its payouts, and every
    guarantor's grade and rating."""
    lender_code = _only_banks(principal)
    period = choose_period(store, period)
    exposed, paid = exposures(store, principal, period), compensations(store, principal, period)
    names = {i.institution_id: i.name for i in registry}
    return {
        "lender_code": lender_code,
        "period": period,
        "periods": periods(store),
        "payout_days_max": payout_days_max(period) if period else None,
        "by_guarantor": by_guarantor(exposed, paid, names, period),
        "compensations": [_plain(r) for r in paid.to_pylist()],
        "guarantors": guarantors(store, registry, period),
    }


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in row.items()}
