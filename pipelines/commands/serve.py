"""`danbao serve [--host 127.0.0.1] [--port 8000] [--inline-validation]`: run the web portal (uvicorn).

Settings come from the environment (docs/portal.md): the store (``DANBAO_DATABASE_URL`` or SQLite in
``DANBAO_HOME``), ``DANBAO_WEB_SECRET`` for session cookies, upload and intake limits. Without
``--inline-validation`` an upload is recorded as ``received`` and the Dagster ``intake_sensor`` starts
its validation run; with it the portal validates at once (tests, the demo, a portal without Dagster).

Idle and slow clients are timed out (``web.server``): a request must arrive within ``--request-timeout``
seconds (plus one second per 4 KiB of body received), an idle kept-alive connection is closed after
``--keep-alive-timeout`` seconds, and beyond ``--limit-concurrency`` connections new requests get 503.
"""

from __future__ import annotations

import argparse
import math
import sys

from web.server import ServerLimits


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port")
    return int(text)


def _positive(kind: type[int] | type[float]):
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
        return value
    return parse


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
    parser.add_argument("--request-timeout", type=_positive(float), default=ServerLimits.request_timeout, metavar="S",
                        help="seconds a client has to send a request's head, plus 1 s per 4 KiB of body "
                             f"(default {ServerLimits.request_timeout:g})")
    parser.add_argument("--keep-alive-timeout", type=_positive(int), default=ServerLimits.timeout_keep_alive,
                        metavar="S", help=f"close an idle kept-alive connection after S seconds "
                                          f"(default {ServerLimits.timeout_keep_alive})")
    parser.add_argument("--limit-concurrency", type=_positive(int), default=ServerLimits.limit_concurrency,
                        metavar="N", help=f"answer 503 beyond N connections or requests at once "
                                          f"(default {ServerLimits.limit_concurrency})")
    parser.set_defaults(func=run)


def limits_of(args: argparse.Namespace) -> ServerLimits:
    return ServerLimits(request_timeout=args.request_timeout, timeout_keep_alive=args.keep_alive_timeout,
                        limit_concurrency=args.limit_concurrency)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from web.app import create_app
    from web.server import uvicorn_config
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
    config = uvicorn_config(app, host=args.host, port=args.port, limits=limits_of(args),
                            proxy_headers=args.proxy_headers, log_level="info")
    uvicorn.Server(config).run()
    return 0
