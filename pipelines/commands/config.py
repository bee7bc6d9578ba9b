"""`danbao config [--json | --markdown]`: the effective configuration, every setting with its value and
where it comes from (the environment or the default); secrets (database password, keys, tokens) are
masked. ``--markdown`` prints the table of every setting and its default (the README's)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from pipelines.commands import term


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help="print the effective configuration (secrets masked)",
                                   description=__doc__.split(": ", 1)[1])
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print a JSON list")
    shape.add_argument("--markdown", action="store_true", help="print every setting and its default as a Markdown table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from filings.settings import effective, markdown_table

    if args.markdown:
        sys.stdout.write(markdown_table())
        return 0
    settings = effective()
    if args.json:
        json.dump([asdict(s) for s in settings], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    rows = [(s.group, s.name, "—" if s.value is None else s.value, "环境 env" if s.source == "environment" else "默认 default",
             s.meaning) for s in settings]
    term.table(["组 Group", "变量 Variable", "值 Value", "来源 Source", "含义 Meaning"], rows,
               title="生效配置 Effective configuration (secrets masked)")
    return 0
