"""`danbao run`: run intake and validation once, in-process, for what waits in the landing folder and on the
guarantors' endpoints, through the same Dagster definitions `dagster dev` serves."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="pick up landed and published packages and validate them now (in-process Dagster runs)"
    )
    parser.add_argument("--registry", help="load this registry CSV into the store first")
    parser.add_argument("--landing", help="landing folder (default $DANBAO_LANDING or $DANBAO_HOME/landing)")
    parser.add_argument("--period", help="pull this period YYYY-MM (default: last month)")
    parser.add_argument("--no-pull", action="store_true", help="do not poll the guarantors' endpoints")
    parser.add_argument("--settle", type=float, default=1.0,
                        help="seconds between the two looks at the landing folder (default 1)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from connectors.datasets.pseudonymise import MissingKeyError
    from filings.intake import load_registry
    from pipelines.definitions import build_defs
    from pipelines.intake.pull import previous_period
    from pipelines.local import local_instance
    from pipelines.report import render, rows
    from pipelines.resources import LandingResource, StoreResource
    from pipelines.runner import InProcessRunner
    from store import repository as repo
    from store.config import danbao_home

    overrides = {"landing": LandingResource(path=args.landing)} if args.landing else {}
    defs = build_defs(overrides)
    store: StoreResource = defs.resources["store"]
    if args.registry:
        try:
            with store.session() as session:
                result = load_registry(session, args.registry)
        except (OSError, ValueError) as exc:
            print(f"danbao run: {exc}", file=sys.stderr)
            return 2
        if not args.json:
            print(f"registry: {result.inserted} new, {result.updated} updated, {result.unchanged} unchanged")
    runner = InProcessRunner(defs, local_instance(), cursor_file=danbao_home() / "intake" / "cursors.json",
                             log_level="CRITICAL")
    from pipelines.commands import term

    pulled = None
    with term.status("拉取 pulling from the guarantors' endpoints …") as spinner:
        if not args.no_pull:
            pulled = runner.pull(args.period or previous_period())
        spinner.update("接收与校验 picking up and validating what landed …")
        try:
            launched = runner.intake(settle_seconds=args.settle)
        except MissingKeyError as exc:  # outside the demo's home, every run needs the shared key
            print(f"danbao run: {exc}", file=sys.stderr)
            return 2
    ids = {i for run in launched for i in run.submission_ids}
    with store.session() as session:
        submissions = [s for s in repo.list_submissions(session) if s.id in ids]
    table = rows(store, defs.resources["archive"], submissions)
    states = {r.submission_id: r.state for r in table}
    broken = [r for r in launched if not r.success and any(states.get(i) != "rejected" for i in r.submission_ids)]
    if args.json:
        json.dump({"runs": [asdict(r) for r in launched], "submissions": [asdict(r) for r in table],
                   "pull_succeeded": None if pulled is None else pulled.success}, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        if pulled is not None and not pulled.success:
            print("pull: the pull run failed (see `dagster dev` → Runs)")
        print(render(table) if table else "nothing new to validate")
        if broken:
            print(f"{len(broken)} run(s) failed for another reason than a rejected filing: see `dagster dev` → Runs")
    return 1 if broken or (pulled is not None and not pulled.success) else 0

