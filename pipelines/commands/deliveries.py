"""`danbao deliveries --period YYYY-MM`: every outbox item of the period with its state, attempts,
receipt and feedback, so an operator sees what was sent, when, and what came back (outputs.md §5).
``--requeue ID`` makes failed items pending again once their cause is fixed."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any

from pipelines.commands import term
from pipelines.commands.publish import period_arg
from store import outbox
from store.db import make_engine, migrate, session_factory
from store.models import OutboxKind, OutboxState


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("deliveries", help="list a period's deliveries with receipts and feedback",
                                   description=__doc__.split(": ", 1)[1])
    parser.add_argument("--period", type=period_arg, required=True, metavar="YYYY-MM")
    parser.add_argument("--state", choices=[s.value for s in OutboxState])
    parser.add_argument("--kind", choices=[k.value for k in OutboxKind])
    parser.add_argument("--institution", metavar="ID")
    parser.add_argument("--requeue", type=int, nargs="+", metavar="ID", help="make these failed items pending again")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    engine = make_engine()
    try:
        migrate(engine)
        factory = session_factory(engine)
        if args.requeue:
            with factory() as session, session.begin():
                n = outbox.requeue(session, args.requeue)
            print(f"requeued {n} of {len(args.requeue)} item(s) (only failed items are requeued)", file=sys.stderr)
        with factory() as session:
            rows = list_deliveries(session, args.period, state=args.state, kind=args.kind,
                                   institution_id=args.institution)
    finally:
        engine.dispose()
    if args.json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(render(rows, args.period))
    return 0


def list_deliveries(session: Any, period: str, **filters: Any) -> list[dict[str, Any]]:
    items = outbox.list_items(session, period, **filters)
    receipts = outbox.receipts_for(session, [i.id for i in items])
    rejected = Counter()
    codes: dict[int, Counter] = {}
    for row in outbox.feedback_for(session, item_ids=[i.id for i in items if i.kind == OutboxKind.PBOC]):
        rejected[row.outbox_item_id] += 1
        codes.setdefault(row.outbox_item_id, Counter())[row.error_code] += 1
    rows = []
    for item in items:
        receipt = receipts.get(item.id)
        rows.append({
            "id": item.id,
            "kind": str(item.kind),
            "institution_id": item.institution_id,
            "name": item.file_name or item.idempotency_key,
            "idempotency_key": item.idempotency_key,
            "bytes": item.body_bytes,
            "state": str(item.state),
            "attempts": item.attempts,
            "created_at": item.created_at,
            "last_attempt_at": item.last_attempt_at,
            "next_attempt_at": item.next_attempt_at if item.state in outbox.OPEN_STATES else None,
            "delivered_at": item.delivered_at,
            "last_error": item.last_error,
            "receipt": None if receipt is None else {"http_status": receipt.http_status, **receipt.receipt},
            "feedback": _feedback(item, codes.get(item.id)),
        })  # fmt: skip
    return rows


def _feedback(item: Any, codes: Counter | None) -> dict[str, Any] | None:
    if item.kind != OutboxKind.PBOC:
        return None
    if item.feedback_at is None:
        return {"state": "awaited" if item.state == OutboxState.DELIVERED else "—"}
    return {"state": "received", "at": item.feedback_at, "rejected_records": item.feedback_rejected or 0,
            "codes": dict(codes or {})}


def render(rows: list[dict[str, Any]], period: str) -> str:
    if not rows:
        return f"no deliveries for {period}"
    lines = [f"{'id':>5}  {'kind':<12} {'state':<9} {'tries':>5}  {'delivered (北京时间)':<17}  {'receipt':<24}  {'feedback':<22}  name"]
    for r in rows:
        delivered = term.beijing(r["delivered_at"]).removesuffix(" 北京时间") if r["delivered_at"] else "—"
        receipt = f"{r['receipt']['http_status']} {r['receipt'].get('receipt_id', '')}"[:24] if r["receipt"] else "—"
        fb = r["feedback"]
        if fb is None:
            feedback = ""
        elif fb["state"] != "received":
            feedback = fb["state"]
        elif fb["rejected_records"]:
            feedback = f"{fb['rejected_records']} rejected " + ",".join(f"{c}×{n}" for c, n in sorted(fb["codes"].items()))
        else:
            feedback = "all accepted"
        lines.append(f"{r['id']:>5}  {r['kind']:<12} {r['state']:<9} {r['attempts']:>5}  {delivered:<19}  "
                     f"{receipt:<24}  {feedback:<22}  {r['name']}")
        if r["last_error"]:
            lines.append(f"{'':>7}last error: {r['last_error']}")
    states = Counter(r["state"] for r in rows)
    lines.append(f"{len(rows)} item(s): " + ", ".join(f"{k} {v}" for k, v in sorted(states.items())))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="danbao")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["deliveries", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
