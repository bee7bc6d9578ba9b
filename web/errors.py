"""Refusals rendered: JSON for the API, a page for the browser, and a note for the audit trail."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from web import messages
from web.audit import note
from web.pages import render
from web.refusals import Refused


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def install(app: FastAPI) -> None:
    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> Response:
        note(request, exc.code, **exc.detail)
        if is_api(request):
            return JSONResponse({"error": exc.code, "message": exc.message}, exc.status, headers=exc.headers)
        if exc.status == 401:
            return RedirectResponse("/login", status_code=303)
        return error_page(request, exc.status, exc.code, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        note(request, code)
        if is_api(request):
            return JSONResponse({"error": code, "message": str(exc.detail)}, exc.status_code, headers=exc.headers)
        return error_page(request, exc.status_code, code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        note(request, "invalid", problems=[".".join(map(str, p["loc"])) for p in problems])
        if is_api(request):
            return JSONResponse({"error": "invalid", "message": "invalid request", "problems": problems}, 422)
        return error_page(request, 422, "invalid", "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in problems))


def error_page(request: Request, status: int, code: str, message: str) -> Response:
    """The refusal in Chinese and English (web/messages.py), with its status and code."""
    title_zh, title_en = messages.titles(status)
    return render(request, "error.html", {"status": status, "code": code, "message": message,
                                          "message_zh": messages.zh(code, status), "title_zh": title_zh,
                                          "title_en": title_en}, status=status)
