"""The period bulletin (通报) for regulators, as a page and as a printable document to download, and the
lending bank's page; both read the published datasets (``web.bulletin``, ``web.banks``)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from store import repository as repo
from web import banks, bulletin
from web.audit import note
from web.auth import BankPrincipal, RegulatorPrincipal
from web.context import portal_of
from web.pages import ENV, render

router = APIRouter(include_in_schema=False)
PeriodQuery = Annotated[str | None, Query(pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$")]


def _registry(request: Request) -> list[Any]:
    with portal_of(request).session() as session:
        found = repo.list_institutions(session)
        session.expunge_all()
    return found


@router.get("/bulletin")
def bulletin_page(request: Request, principal: RegulatorPrincipal, period: PeriodQuery = None) -> Response:
    built = bulletin.build(portal_of(request).datasets, _registry(request), period or None)
    return render(request, "bulletin.html", {"b": built})


@router.get("/bulletin/download")
def bulletin_download(request: Request, principal: RegulatorPrincipal, period: PeriodQuery = None,
                      format: Literal["html", "json"] = "html") -> Response:
    """The bulletin as one self-contained, printable HTML file (styles inline, nothing fetched), or JSON."""
    built = bulletin.build(portal_of(request).datasets, _registry(request), period or None)
    note(request, "download", document="bulletin", period=built.period, format=format)
    name = f"bulletin-{built.period or 'none'}.{format}"
    if format == "json":
        body = json.dumps(built.as_json(), ensure_ascii=False, indent=1).encode("utf-8")
        media = "application/json"
    else:
        body = ENV.get_template("bulletin_document.html").render(b=built).encode("utf-8")
        media = "text/html; charset=utf-8"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                     "Cache-Control": "no-store"})


@router.get("/bank")
def bank_page(request: Request, principal: BankPrincipal, period: PeriodQuery = None) -> Response:
    view = banks.overview(portal_of(request).datasets, principal, _registry(request), period or None)
    note(request, "bank_read", lender_code=principal.lender_code, period=view["period"])
    return render(request, "bank.html", {"v": view})
