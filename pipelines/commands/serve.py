"""`danbao serve [--host 127.0.0.1] [--port 8000] [--inline-validation]`: run the web portal (uvicorn).

Settings come from the environment (docs/portal.md): the store (``DANBAO_DATABASE_URL`` or SQLite in
``DANBAO_HOME``), ``DANBAO_WEB_SECRET`` for session cookies, upload and intake limits. Without
``--inline-validation`` an upload is recorded as ``received`` and the Dagster ``intake_sensor`` starts
its validation run; with it the portal validates at once (tests, the demo, a portal without Dagster).
"""

from __future__ import annotations

import argparse
import sys


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port")
    return int(text)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="run the web portal (guarantor uploads, regulator dashboard)",
                                   description=__doc__.split(": ", 1)[1])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0: any free port)")
    parser.add_argument("--inline-validation", action="store_true",
                        help="validate uploads in the portal instead of leaving them to the Dagster sensor")
    parser.add_argument("--registry", metavar="CSV", help="load this registry CSV into the store first")
    parser.add_argument("--proxy-headers", action="store_true",
                        help="trust X-Forwarded-* from a reverse proxy (HTTPS detection for Secure cookies)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from web.app import create_app
    from web.settings import WebSettings

    try:
        settings = WebSettings.from_env(**({"inline_validation": True} if args.inline_validation else {}))
    except ValueError as exc:
        print(f"danbao serve: {exc}", file=sys.stderr)
        return 2
    app = create_app(settings)
    if args.registry:
        from filings.intake import load_registry

        try:
            with app.state.portal.session() as session:
                result = load_registry(session, args.registry)
        except (OSError, ValueError) as exc:
            print(f"danbao serve: cannot load the registry: {exc}", file=sys.stderr)
            return 2
        print(f"registry: {result.inserted} inserted, {result.updated} updated, {result.unchanged} unchanged")
    mode = "inline validation" if settings.inline_validation else "validation by the Dagster intake sensor"
    print(f"Danbao portal on http://{args.host}:{args.port}/ ({mode})", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, proxy_headers=args.proxy_headers, log_level="info")
    return 0
