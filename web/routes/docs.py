"""``/docs``: Swagger UI over ``/openapi.json``, its scripts and styles served by the portal itself
(Swagger UI 5 as the ``fastapi-offline`` package ships it, at ``/static/swagger/``): no CDN, nothing fetched elsewhere.
Public, like ``/openapi.json``: it describes the API, it reads nothing of anyone's."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)
PAGE = (Path(__file__).resolve().parents[1] / "templates" / "docs.html").read_text(encoding="utf-8")


@router.get("/docs")
def docs() -> HTMLResponse:
    return HTMLResponse(PAGE, headers={"Cache-Control": "no-store"})
