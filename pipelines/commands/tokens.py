"""`danbao tokens create|list|revoke`: portal API tokens, for the admin at the server (the store from
``DANBAO_DATABASE_URL``). A token's secret is printed once, when it is made: only its hash is stored."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("tokens", help="portal API tokens (create, list, revoke)",
                                   description=__doc__.split(": ", 1)[1])
    sub = parser.add_subparsers(dest="tokens_command", required=True)
    create = sub.add_parser("create", help="make a token and print its secret (once)")
    create.add_argument("--role", required=True, choices=("guarantor", "bank", "regulator", "admin"))
    create.add_argument("--institution", metavar="USCC", help="the guarantor a guarantor token is bound to")
    create.add_argument("--lender", metavar="CODE",
                        help="the lending institution a bank token is bound to, as guarantors file it in lender_code")
    create.add_argument("--label", default="", help="who holds it (shown in lists and on confirmations)")
    create.add_argument("--expires-days", type=float, metavar="N", help="expire after N days (default: never)")
    create.add_argument("--json", action="store_true", help="print one JSON object")
    create.add_argument("--registry", metavar="CSV", help="load this registry CSV into the store first")
    sub.add_parser("list", help="list tokens (never their secrets)")
    revoke = sub.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("token_id", type=int)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from store import portal as store_portal
    from store.db import make_engine, migrate, session_factory
    from store.models import utcnow

    engine = make_engine()
    try:
        migrate(engine)
        with session_factory(engine)() as session, session.begin():
            if args.tokens_command == "create":
                if args.registry:
                    from filings.intake import load_registry

                    try:
                        loaded = load_registry(session, args.registry)
                    except (OSError, ValueError) as exc:
                        print(f"danbao tokens: cannot load the registry: {exc}", file=sys.stderr)
                        return 2
                    print(f"registry: {loaded.inserted} inserted, {loaded.updated} updated, "
                          f"{loaded.unchanged} unchanged", file=sys.stderr)
                if args.expires_days is not None and args.expires_days <= 0:
                    print("danbao tokens: --expires-days must be positive", file=sys.stderr)
                    return 2
                expires = utcnow() + dt.timedelta(days=args.expires_days) if args.expires_days else None
                try:
                    token, secret = store_portal.create_token(session, args.role, institution_id=args.institution,
                                                              lender_code=args.lender, label=args.label, expires_at=expires)
                except store_portal.TokenError as exc:
                    print(f"danbao tokens: {exc}", file=sys.stderr)
                    return 2
                if args.json:
                    print(json.dumps({"id": token.id, "role": args.role, "institution_id": token.institution_id,
                                      "lender_code": token.lender_code, "expires_at": expires.isoformat() if expires else None, "secret": secret}))
                else:
                    bound = args.institution or args.lender
                    print(f"token #{token.id} ({args.role}{' ' + bound if bound else ''}); "
                          "its secret, shown only now:", file=sys.stderr)
                    print(secret)
                return 0
            if args.tokens_command == "list":
                for t in store_portal.list_tokens(session):
                    status = store_portal.token_problem(t) or "active"
                    print(f"{t.id:>5}  {t.prefix}…  {t.role!s:<9}  {t.institution_id or t.lender_code or '-':<18}  {status:<8}  {t.label}")
                return 0
            token = store_portal.revoke_token(session, args.token_id)
            if token is None:
                print(f"danbao tokens: no token {args.token_id}", file=sys.stderr)
                return 1
            print(f"token #{token.id} revoked")
            return 0
    finally:
        engine.dispose()
