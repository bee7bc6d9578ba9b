"""JSON API: the published datasets, listed and downloaded by period and guarantor."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from web import datasets
from web.audit import note
from web.auth import AnyPrincipal
from web.context import portal_of
from web.schemas import DatasetList, refusals

router = APIRouter(prefix="/api/datasets", tags=["datasets"], responses=refusals(401, 422))


@router.get("", response_model=DatasetList)
def list_datasets(request: Request, principal: AnyPrincipal) -> dict[str, Any]:
    """Every published dataset with its partitions (period, guarantor, latest version, rows)."""
    return {"datasets": datasets.catalog(portal_of(request).datasets, principal)}


@router.get("/{name}", response_class=Response,
            responses={200: {"content": {t: {} for t in datasets.FORMATS.values()}},
                       **refusals(404)})
def download_dataset(
    request: Request, name: str, principal: AnyPrincipal,
    period: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    institution_id: Annotated[str | None, Query(pattern=r"^[0-9A-Z]{18}$")] = None,
    format: Literal["parquet", "csv", "json"] = "parquet",
) -> Response:
    """The latest published version of every matching partition, as Parquet, CSV or JSON. A guarantor's
    token gets its own rows only."""
    table = datasets.read(portal_of(request).datasets, principal, name, period, institution_id)
    note(request, "download", dataset=name, period=period, institution_id=institution_id, format=format,
         rows=table.num_rows)
    parts = [name, period or "all", *([institution_id] if institution_id else [])]
    return Response(datasets.encode(table, format), media_type=datasets.FORMATS[format],
                    headers={"Content-Disposition": f'attachment; filename="{"-".join(parts)}.{format}"'})
