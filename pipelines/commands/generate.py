"""`danbao generate OUT_DIR [--guarantors N] [--rows N] [--period YYYY-MM] [--format F] [--zip] [--inject KIND]…`:
write a registry and synthetic filing packages for the demo, tests and benchmarks."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from connectors.synthetic import FORMATS, KINDS, REGISTRY_FILE, generate_period, parse_kinds
from pipelines.commands import term
from validations.context import Period, now_beijing


def _period(text: str) -> str:
    try:
        return str(Period.parse(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month YYYY-MM") from None


def _kind(text: str) -> str:
    try:
        parse_kinds([text])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _at_least(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text} is less than {minimum}")
        return value

    return parse


def previous_month() -> str:
    """The default period: the last closed month in Beijing time, which is what a guarantor files now."""
    return str(Period(now_beijing().year, now_beijing().month).previous())


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="write a registry and synthetic filing packages",
        description="Write registry.csv and one synthetic filing package per guarantor into OUT_DIR. The data are "
        "valid under phases 1-3 and plausible under phase 4 unless --inject breaks them.",
        epilog="inject kinds: " + ", ".join(f"{name} ({kind.rule_id})" for name, kind in KINDS.items())
        + ". Append :N for N instances, e.g. --inject bad_uscc:5.",
    )
    parser.add_argument("out_dir", metavar="OUT_DIR", help="output folder (created if missing)")
    parser.add_argument("--guarantors", type=_at_least(1), default=3, metavar="N", help="guarantors (default 3)")
    parser.add_argument("--rows", type=_at_least(0), default=1000, metavar="N", help="guarantees rows per guarantor (default 1000)")
    parser.add_argument("--period", type=_period, default=None, metavar="YYYY-MM",
                        help="reporting month (default: the previous month)")
    parser.add_argument("--format", choices=FORMATS, default="csv", dest="fmt", help="data file format (default csv)")
    parser.add_argument("--zip", action="store_true", help="write each package as a .zip")
    parser.add_argument("--inject", type=_kind, action="append", default=[], metavar="KIND",
                        help="break every package this way (repeatable; KIND or KIND:N)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    period = args.period or previous_month()
    started = time.perf_counter()
    try:
        with term.status(f"生成 generating {args.guarantors} package(s) of {args.rows:,} rows …"):
            packages = generate_period(Path(args.out_dir), args.guarantors, args.rows, period, args.fmt, args.seed,
                                       inject_kinds=args.inject, zip=args.zip)
    except ValueError as exc:  # e.g. too few eligible rows for an injection
        print(f"danbao generate: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    print(f"registry: {Path(args.out_dir) / REGISTRY_FILE}")
    for package in packages:
        print(f"package:  {package}")
        if args.inject:
            print(f"expected: {package.parent / (package.name.removesuffix('.zip') + '.expected.json')}")
    print(f"{len(packages)} package(s) of {args.rows:,} rows for {period}, format {args.fmt}"
          f"{' (zip)' if args.zip else ''}, seed {args.seed}, in {elapsed:.1f} s")
    return 0
