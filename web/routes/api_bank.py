"""JSON API for lending banks (``bank`` tokens): their lending, the payouts on it, and every guarantor's
grade and rating, from the published datasets (``web.banks``). Any other token gets 403."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from store import repository as repo
from web import banks, datasets
from web.audit import note
from web.auth import BankPrincipal
from web.context import portal_of
from web.schemas import BankOverview, GuarantorRatings, refusals

router = APIRouter(prefix="/api/bank", tags=["banks"], responses=refusals(401, 403, 422))
PeriodQuery = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


def _registry(request: Request) -> list[Any]:
    with portal_of(request).session() as session:
        found = repo.list_institutions(session)
        session.expunge_all()
    return found


def exact(value: Any) -> Any:
    """Decimals as text, to the fen, in every JSON answer (never a binary float)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [exact(v) for v in value]
    return value


@router.get("", response_model=BankOverview)
def overview(request: Request, principal: BankPrincipal, period: PeriodQuery = None) -> dict[str, Any]:
    """The bank's lending per guarantor (exposures, overdue and non-performing balances, payouts and
    their delay after the bank's claim) and every guarantor's grade and third-party rating. The latest
    published period unless ``period`` is given."""
    answer = banks.overview(portal_of(request).datasets, principal, _registry(request), period)
    note(request, "bank_read", lender_code=principal.lender_code, period=answer["period"])
    return exact(answer)


@router.get("/guarantors", response_model=GuarantorRatings)
def guarantors(request: Request, principal: BankPrincipal, period: PeriodQuery = None) -> dict[str, Any]:
    """Every guarantor's published grade for the period and its third-party rating."""
    store = portal_of(request).datasets
    chosen = banks.choose_period(store, period)
    return {"period": chosen, "items": banks.guarantors(store, _registry(request), chosen)}


def _download(request: Request, name: str, table: Any, period: str | None, fmt: str, lender_code: str) -> Response:
    note(request, "download", dataset=f"bank_{name}", period=period, lender_code=lender_code, format=fmt,
         rows=table.num_rows)
    return Response(datasets.encode(table, fmt), media_type=datasets.FORMATS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}-{lender_code}-{period or "none"}.{fmt}"'})


_FILES = {200: {"content": {t: {} for t in datasets.FORMATS.values()}}}


@router.get("/exposures", response_class=Response, responses=_FILES)
def exposures(request: Request, principal: BankPrincipal, period: PeriodQuery = None,
              format: Literal["parquet", "csv", "json"] = "json") -> Response:
    """The period's ledger rows naming the bank's ``lender_code``, every guarantor's, with the exposure
    columns only (no party identifier)."""
    store = portal_of(request).datasets
    chosen = banks.choose_period(store, period)
    return _download(request, "exposures", banks.exposures(store, principal, chosen), chosen, format,
                     principal.lender_code or "")


@router.get("/compensations", response_class=Response, responses=_FILES)
def compensations(request: Request, principal: BankPrincipal, period: PeriodQuery = None,
                  format: Literal["parquet", "csv", "json"] = "json") -> Response:
    """The period's payouts on the bank's guarantees, with ``payout_days`` after the bank's claim."""
    store = portal_of(request).datasets
    chosen = banks.choose_period(store, period)
    return _download(request, "compensations", banks.compensations(store, principal, chosen), chosen, format,
                     principal.lender_code or "")
