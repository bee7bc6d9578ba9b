"""`danbao status [SUBMISSION | --period YYYY-MM] [--wait] [--json]`: a submission's state and its
findings by rule, or every submission of a period (newest first), read from the portal with the
guarantor's token. Exit status: 0 shown (and not rejected, for one submission), 1 rejected, refused,
unreachable or no such submission, 2 usage error."""

from __future__ import annotations

import argparse
import json
import sys

from pipelines.commands import portal_client as pc
from pipelines.commands import term
from pipelines.commands.findings import _positive_id, rule_summary


def _period(text: str) -> str:
    import re

    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a month YYYY-MM")
    return text


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("status", help="a submission's state, or a period's submissions, from the portal",
                                   description=__doc__.split(": ", 1)[1])
    parser.add_argument("submission", nargs="?", type=_positive_id, help="the submission id")
    parser.add_argument("--period", type=_period, metavar="YYYY-MM", help="every submission of this period")
    parser.add_argument("--wait", action="store_true", help="follow the submission until its state is final")
    parser.add_argument("--timeout", type=float, default=300.0, help="with --wait: seconds (default 300)")
    parser.add_argument("--json", action="store_true", help="print the API's JSON")
    pc.add_connection_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if (args.submission is None) == (args.period is None):
        term.error("danbao status: give a SUBMISSION id or --period YYYY-MM (one of them)")
        return 2
    try:
        url, token = pc.connection(args)
        if args.submission is None:
            return _period_listing(url, token, args)
        if args.wait:
            with term.status("校验中 validating …") as spinner:
                body = pc.follow(url, token, args.submission, args.timeout,
                                 on_state=lambda st: spinner.update(f"{pc.state_text(st)} …"))
        else:
            body = pc.get_json(url, token, f"/api/submissions/{args.submission}")
    except pc.ClientError as exc:
        return pc.fail("status", exc)
    if args.json:
        json.dump(body, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        pc.print_submission(body, rule_summary(url, token, args.submission, body))
    return pc.exit_status(body["state"])


def _period_listing(url: str, token: str, args: argparse.Namespace) -> int:
    items = []
    offset = 0
    while True:
        page = pc.get_json(url, token, "/api/submissions", {"period": args.period, "limit": 1000, "offset": offset})
        items += page["items"]
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            break
    if args.json:
        json.dump({"period": args.period, "items": items}, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    if not items:
        print(f"期间 {args.period}: 暂无报送 no submissions")
        return 0
    rows = [(f"#{s['submission_id']}", s["institution_id"], s["sequence"], pc.state_text(s["state"]),
             f"{(s.get('finding_counts') or {}).get('error', 0)} / {(s.get('finding_counts') or {}).get('warning', 0)}",
             term.beijing(s["received_at"])) for s in items]
    term.table(["报送 Id", "机构 Guarantor", "序号 Seq.", "状态 State", "错误/警告 Errors/warnings", "接收 Received"], rows,
               title=f"期间 Period {args.period}")
    return 0
