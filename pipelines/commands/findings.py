"""`danbao findings SUBMISSION [--rule R] [--severity S] [--limit N] [--json]`: a submission's findings,
read from the portal: the count per rule first, then each finding with its file, row, column, value
and message in Chinese and English. Exit status: 0 shown, 1 refused or unreachable or no such
submission, 2 usage error."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pipelines.commands import portal_client as pc
from pipelines.commands import term

PAGE = 1000


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("findings", help="a submission's findings, from the portal",
                                   description=__doc__.split(": ", 1)[1])
    parser.add_argument("submission", type=_positive_id, help="the submission id (the receipt's submission_id)")
    parser.add_argument("--rule", metavar="RULE", help="only this rule, e.g. SCH-003")
    parser.add_argument("--severity", choices=("error", "warning"))
    parser.add_argument("--limit", type=int, default=50, metavar="N",
                        help="at most N findings (default 50; 0: all); the summary by rule always counts all")
    parser.add_argument("--json", action="store_true", help="print {submission, findings} as JSON")
    pc.add_connection_arguments(parser)
    parser.set_defaults(func=run)


def _positive_id(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) < 2**63:
        raise argparse.ArgumentTypeError(f"{text!r} is not a submission id")
    return int(text)


def rule_summary(url: str, token: str, submission_id: int, body: dict[str, Any] | None = None
                 ) -> list[tuple[str, str, int, str]]:
    body = body or pc.get_json(url, token, f"/api/submissions/{submission_id}")
    return [(r["rule_id"], r["severity"], r["count"], f"{r['title_zh']} / {r['title_en']}")
            for r in body.get("findings_by_rule", [])]


def fetch(url: str, token: str, submission_id: int, rule: str | None, severity: str | None,
          limit: int) -> tuple[int, list[dict[str, Any]]]:
    items: list[dict[str, Any]] = []
    total = 0
    offset = 0
    while True:
        want = PAGE if limit == 0 else min(PAGE, limit - len(items))
        params = {"limit": want, "offset": offset, **({"rule_id": rule} if rule else {}),
                  **({"severity": severity} if severity else {})}
        page = pc.get_json(url, token, f"/api/submissions/{submission_id}/findings", params)
        total = page["total"]
        items += page["items"]
        offset += len(page["items"])
        if not page["items"] or offset >= total or (limit and len(items) >= limit):
            return total, items


def run(args: argparse.Namespace) -> int:
    try:
        url, token = pc.connection(args)
        body = pc.get_json(url, token, f"/api/submissions/{args.submission}")
        total, items = fetch(url, token, args.submission, args.rule, args.severity, args.limit)
    except pc.ClientError as exc:
        return pc.fail("findings", exc)
    if args.json:
        json.dump({"submission": body, "total": total, "findings": items}, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    pc.print_submission(body, rule_summary(url, token, args.submission, body))
    if not items:
        print("无校验结果 no findings" + (" for this filter" if args.rule or args.severity else "")
              + ("" if body["state"] in pc.FINAL_STATES else f" yet (state {body['state']})"))
        return 0
    rows = []
    for f in items:
        where = f["file"] or "整体 filing"
        if f.get("row"):
            where += f" 第{f['row']}行 row {f['row']}"
        if f.get("column"):
            where += f" · {f['column']}"
        value = "" if f.get("value") is None else str(f["value"])[:40]
        rows.append((f["rule_id"], f["severity"], where, value, f"{f['message_zh']}\n{f['message_en']}"))
    term.table(["规则 Rule", "级别 Severity", "位置 Where", "值 Value", "说明 Message"], rows,
               title=f"校验结果 Findings ({len(items)} of {total})")
    if total > len(items):
        print(f"… {total - len(items)} more: --limit 0 for all, or --rule RULE")
    return 0
