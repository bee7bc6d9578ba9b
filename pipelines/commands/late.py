"""`danbao late --period YYYY-MM [--deadline YYYY-MM-DD]`: record the period's late filings now, as the
late-filing schedule does the day after the deadline (an in-process run of ``late_filings_job``)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("late", help="record the active guarantors with no accepted filing for a period")
    parser.add_argument("--period", required=True, help="YYYY-MM")
    parser.add_argument("--deadline", help="YYYY-MM-DD (default: day DANBAO_DEADLINE_DAY, 15, of the next month)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", args.period):
        print(f"danbao late: --period must be YYYY-MM, not {args.period!r}", file=sys.stderr)
        return 2
    try:
        deadline = dt.date.fromisoformat(args.deadline) if args.deadline else None
    except ValueError:
        print(f"danbao late: --deadline must be YYYY-MM-DD, not {args.deadline!r}", file=sys.stderr)
        return 2

    from dagster import DagsterEventType

    from pipelines.definitions import build_defs
    from pipelines.local import local_instance
    from pipelines.partitions import partition_periods
    from pipelines.runner import InProcessRunner
    from store import repository as repo

    if args.period not in partition_periods():
        print(f"danbao late: {args.period} is not a period of the pipeline (DANBAO_FIRST_PERIOD … this month)",
              file=sys.stderr)
        return 2
    defs = build_defs()
    result = InProcessRunner(defs, local_instance(), log_level="CRITICAL").late(args.period, deadline)
    if not result.success:
        failure = next((e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE), None)
        reason = failure.event_specific_data.error.message.strip().splitlines()[-1] if failure else "the run failed"
        print(f"danbao late: {reason}", file=sys.stderr)
        return 1
    with defs.resources["store"].session() as session:
        late = [(x.institution_id, x.deadline.isoformat()) for x in repo.list_late_filings(session, args.period)]
    if args.json:
        json.dump({"period": args.period, "late": [{"institution_id": i, "deadline": d} for i, d in late]}, sys.stdout)
        sys.stdout.write("\n")
    elif late:
        print(f"{len(late)} late filing(s) for {args.period} (deadline {late[0][1]}):")
        for institution_id, _ in late:
            print(f"  {institution_id}")
    else:
        print(f"no late filings for {args.period}")
    return 0
