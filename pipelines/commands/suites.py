"""`danbao suites run PACKAGE [--docs DIR] [--json]`: run the published GX expectation suites
(SCH-001..007, validations/suites/) on a package through Great Expectations checkpoints, on the typed
tables the engine reads, and build Data Docs into DIR (default ``$DANBAO_HOME/datadocs/<guarantor>/<period>``)
that open offline. `danbao suites list`: the suites and their expectations per rule.

Exit status: 0 every expectation passed, 1 some failed, 2 usage error (no such package, a package
whose format phase fails: its tables cannot be typed, see `danbao check`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from pipelines.commands import term


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("suites", help="the GX expectation suites: run them, build Data Docs",
                                   description=__doc__.split(": ", 1)[1])
    sub = parser.add_subparsers(dest="suites_command", required=True)
    run_ = sub.add_parser("run", help="run the suites on a package through GX and build Data Docs")
    run_.add_argument("package", nargs="?", help="the package folder or .zip")
    run_.add_argument("--submission", type=int, metavar="ID",
                      help="a filed submission instead (from the store); its Data Docs go where the portal links them")
    run_.add_argument("--docs", metavar="DIR", help="Data Docs folder (default $DANBAO_HOME/datadocs/<guarantor>/<period>)")
    run_.add_argument("--no-docs", action="store_true", help="validate only")
    run_.add_argument("--json", action="store_true", help="print the outcome as JSON")
    sub.add_parser("list", help="the suites and their expectations per rule")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.suites_command == "list":
        return _list()
    from store.config import danbao_home

    if (args.package is None) == (args.submission is None):
        term.error("danbao suites run: give a PACKAGE or --submission ID (one of them)")
        return 2
    if args.submission is not None:
        filing = _filed(args.submission)
        if filing is None:
            term.error(f"danbao suites: no submission {args.submission} in the store")
            return 2
        args.package = f"submission #{args.submission}"
        default_docs = datadocs_dir() / f"submission-{args.submission}"
    else:
        if not os.path.exists(args.package):
            term.error(f"danbao suites: no package at {args.package} (a folder with manifest.json, or a .zip)")
            return 2
        from connectors.intake import read_package
        from filings.settings import load

        filing = read_package(args.package, load().intake_limits())
        default_docs = danbao_home() / "datadocs" / (filing.institution_id or "unknown") / (filing.period or "unknown")
    docs = None
    if not args.no_docs:
        docs = Path(args.docs) if args.docs else default_docs
    with term.progress("Great Expectations", total=3) as bar:
        bar.update(description="导入 importing Great Expectations …")
        try:
            from validations.gx.datadocs import run_suites

            outcome = run_suites(filing, docs, progress=bar)
        except Exception as exc:
            from filings.settings import load

            if load().debug:
                raise
            term.error(f"danbao suites: cannot run the suites on {args.package}: {type(exc).__name__}: {str(exc)[:200]} "
                       "(is its format valid? try `danbao check`)")
            return 2
    if args.json:
        json.dump({"success": outcome.success, "files": [asdict(f) for f in outcome.files],
                   "data_docs": str(outcome.docs_index) if outcome.docs_index else None,
                   "validation_pages": {k: str(v) for k, v in outcome.validation_pages.items()}},
                  sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        rows = []
        for f in outcome.files:
            rows.append((f.file, f.suite, f.evaluated, len(f.failed), "通过 passed" if f.success else "未通过 failed"))
        term.table(["文件 File", "套件 Suite", "期望 Expectations", "失败 Failed", "结果 Result"], rows,
                   title=f"GX suites · {args.package}")
        failed = [(f.file, x["rule_id"], x["column"], x["expectation"], x["unexpected_count"], ", ".join(x["unexpected"]))
                  for f in outcome.files for x in f.failed]
        if failed:
            term.table(["文件 File", "规则 Rule", "列 Column", "期望 Expectation", "条数 Count", "例 Examples"], failed,
                       title="未通过的期望 Failed expectations")
        if outcome.docs_index:
            print(f"Data Docs: {outcome.docs_index}")
            for name, page in outcome.validation_pages.items():
                print(f"  {name}: {page}")
    return 0 if outcome.success else 1


def _list() -> int:
    from validations.gx.suites import SUITES_DIR, load_suite

    rows = []
    for path in sorted(SUITES_DIR.glob("*.json")):
        suite = load_suite(path.stem)
        by_rule = Counter(e["meta"]["rule_id"] for e in suite["expectations"])
        rows.append((path.stem, suite["name"], len(suite["expectations"]),
                     " ".join(f"{r}×{n}" for r, n in sorted(by_rule.items()))))
    term.table(["文件 File", "套件 Suite", "期望 Expectations", "按规则 By rule"], rows, title=str(SUITES_DIR))
    return 0


def datadocs_dir() -> Path:
    """Where Data Docs of filed submissions live: ``$DANBAO_DATADOCS_DIR``, else ``$DANBAO_HOME/datadocs``
    (the portal links ``submission-<id>/index.html`` there)."""
    from filings.settings import load

    return load().datadocs()


def _filed(submission_id: int):
    from filings.intake import load_filing
    from filings.settings import load
    from store import repository as repo
    from store.blobs import BlobStore
    from store.db import make_engine, migrate, session_factory

    engine = make_engine()
    try:
        migrate(engine)
        with session_factory(engine)() as session:
            submission = repo.get_submission(session, submission_id)
            if submission is None:
                return None
            return load_filing(BlobStore(load().blobs_dir()), submission)
    finally:
        engine.dispose()
