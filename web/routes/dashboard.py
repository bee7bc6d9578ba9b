"""The regulator's dashboard page: charts from the published datasets, and the datasets to download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from store import repository as repo
from web import dashboard, datasets
from web.auth import RegulatorPrincipal
from web.context import portal_of
from web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
def dashboard_page(
    request: Request,
    principal: RegulatorPrincipal,
    period: Annotated[str | None, Query(pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$")] = None,
) -> Response:
    portal = portal_of(request)
    with portal.session() as session:
        names = {i.institution_id: i.name for i in repo.list_institutions(session)}
    board = dashboard.build(portal.datasets, names, period or None)
    published = [
        {**d, "partitions": [p for p in d["partitions"] if p["period"] == board.period]}
        for d in datasets.catalog(portal.datasets, principal)
    ]
    return render(request, "dashboard.html", {"board": board, "published": published, "names": names})
