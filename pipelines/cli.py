"""The `danbao` command: a thin layer over the library; each subcommand lives in pipelines/commands/."""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = ("check", "generate")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors exit 2 with one line, as argparse does
        self.print_usage(sys.stderr)
        self.exit(2, f"danbao: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="danbao", description="Danbao (担保): filings of financing guarantee institutions")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"pipelines.commands.{name}")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
