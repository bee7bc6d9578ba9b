"""The portal's FastAPI application: ``create_app(settings)`` is the only way to make one."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web import errors
from web.audit import AuditMiddleware
from web.context import Portal
from web.routes import api_admin, api_bank, api_datasets, api_submissions, dashboard, docs, pages, reports
from web.settings import WebSettings

STATIC = Path(__file__).resolve().parent / "static"
ROUTERS = (api_submissions.router, api_datasets.router, api_bank.router, api_admin.router, pages.router, dashboard.router,
           reports.router, docs.router)
UPLOAD_PATHS = frozenset({"/api/submissions", "/submissions"})
# The pages run no script at all; styles and images come from this server only.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
# /docs (Swagger UI) and a submission's GX Data Docs are the pages that run scripts: their own files, from
# this server only.
DOCS_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
DOCS_PATHS = ("/docs", "/static/swagger/", "/static/swagger-init.js")
COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]
SECURITY_HEADERS = [(b"content-security-policy", CSP.encode()), *COMMON_HEADERS]
DOCS_HEADERS = [(b"content-security-policy", DOCS_CSP.encode()), *COMMON_HEADERS]

DESCRIPTION = """Danbao (担保) portal: guarantors file monthly packages and confirm warnings; regulators read
the published datasets. Authenticate with `Authorization: Bearer <token>` (tokens are issued by an
admin, `danbao tokens create`). A guarantor token sees only its own guarantor's data: another
guarantor's submission answers 404, as one that does not exist. A bank token reads only its own lending
(`/api/bank`: the guarantees whose `lender_code` is its own) and every guarantor's grade and rating."""


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        path = scope.get("path", "")
        docs = path == "/docs" or path.startswith(DOCS_PATHS[1:]) or "/datadocs/" in path
        headers = DOCS_HEADERS if docs else SECURITY_HEADERS

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, send_wrapper)


def swagger_ui_dir() -> Path:
    """Swagger UI 5's files as the fastapi-offline package ships them (5.x reads OpenAPI 3.1)."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).resolve().parent / "static"


def create_app(settings: WebSettings | None = None, *, portal: Portal | None = None) -> FastAPI:
    """An app over ``settings`` (default: from the environment). The store is migrated to head first
    (``auto_migrate``), as the pipeline's resources do, so a fresh ``DANBAO_HOME`` just works."""
    settings = settings or WebSettings.from_env()
    portal = portal or Portal(settings)
    if settings.auto_migrate:
        portal.migrate()
    app = FastAPI(title="Danbao portal", version="1.0", description=DESCRIPTION, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json")
    app.state.portal = portal
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static/swagger", StaticFiles(directory=swagger_ui_dir()), name="swagger")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(AuditMiddleware, portal=lambda: portal, upload_paths=UPLOAD_PATHS.__contains__)
    app.add_middleware(SecurityHeaders)
    return app
