"""Rendering the HTML pages: Jinja2 with autoescaping on for every template, so that whatever a
guarantor filed (a party name holding ``<script>``) is shown as text, never run. The pages need no
JavaScript at all (charts are inline SVG drawn on the server), and the Content-Security-Policy says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from web import format as fmt
from web.auth import csrf_token, set_csrf_cookie
from web.views import STATE_LABELS

TEMPLATES = Path(__file__).resolve().parent / "templates"

ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,  # every template, whatever its name
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["state_zh"] = lambda s: STATE_LABELS.get(str(s), (str(s), str(s)))[0]
ENV.filters["state_en"] = lambda s: STATE_LABELS.get(str(s), (str(s), str(s)))[1]
ENV.filters["when"] = fmt.beijing  # every time a person reads is Beijing time
ENV.filters["thousands"] = lambda n: f"{n:,}" if isinstance(n, int | float) else n
ENV.filters["pct"] = fmt.pct
ENV.filters["yuan"] = fmt.yuan
ENV.filters["finding_value"] = fmt.finding_value


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    html = ENV.get_template(template).render(
        request=request, principal=principal, csrf_token=csrf_token(request), **context
    )
    response = HTMLResponse(html, status_code=status)
    set_csrf_cookie(request, response)
    response.headers["Cache-Control"] = "no-store"
    return response
