"""The `danbao` command: a thin layer over the library; each subcommand lives in pipelines/commands/."""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import os
import sys

SUBCOMMANDS = ("check", "generate", "run", "late", "serve", "submit", "status", "findings", "tokens", "publish",
               "deliveries", "receivers", "suites", "config")
WITHOUT_PANDAS = ("check",)  # commands whose process never needs pandas (see console)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors exit 2 with one line, as argparse does
        self.print_usage(sys.stderr)
        self.exit(2, f"danbao: {message}\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, just that subcommand's module is imported (some pull in SQLAlchemy and
    the publishing stack, seconds that `danbao check` should not pay)."""
    parser = _Parser(prog="danbao", description="Danbao (担保): filings of financing guarantee institutions")
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in [only] if only in SUBCOMMANDS else SUBCOMMANDS:
        module = importlib.import_module(f"pipelines.commands.{name}")
        module.add_parser(sub)
    return parser


class _Version(argparse.Action):
    """``--version``, looking the installed version up only when asked (the lookup reads every installed
    distribution's metadata: 40 ms that each `danbao check` paid)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        print(f"danbao {version()}")
        parser.exit()


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("danbao")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree that was never installed
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    if not gc.isenabled():  # the console script imported the command without the collector (see console)
        gc.freeze()
        gc.enable()
    from connectors.arrow_memory import use_returning_pool

    use_returning_pool()  # before the command allocates its first Arrow buffer
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except ValueError as exc:
        if not _is_settings_error(exc):
            raise
        print(f"danbao: configuration error: {exc}", file=sys.stderr)  # a DANBAO_* variable that does not parse
        return 2


def _is_settings_error(exc: BaseException) -> bool:
    """Whether ``exc`` is ``filings.settings.SettingsError`` (without importing the module when no command
    has: then it cannot be one)."""
    module = sys.modules.get("filings.settings")
    return module is not None and isinstance(exc, module.SettingsError)


def console() -> int:
    """The console script. pyarrow imports pandas (about 0.4 s) at its first Python-to-Arrow conversion
    when pandas is installed (GX needs it); a `danbao check` process needs neither, so it tells pyarrow
    that pandas is absent before anything is imported. The imports run without the cyclic collector,
    which then starts with what they created frozen (never traversed again)."""
    if sys.argv[1:2] and sys.argv[1] in WITHOUT_PANDAS and "pandas" not in sys.modules:
        sys.meta_path.insert(0, _NoPandas())
    if sys.argv[1:2] and sys.argv[1] in HASHES_AHEAD:
        _hash_ahead(sys.argv[2:])
    gc.disable()  # importing a command creates objects that all live on: collecting them cost ≈ 60 ms
    # no command multiplies float matrices: numpy's OpenBLAS would start a thread that polls for work
    # (1–2 % of a check's CPU on two cores)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    code = main()
    if sys.argv[1:2] and sys.argv[1] in ENDS_AT_ONCE:
        _end_now(code)
    return code


HASHES_AHEAD = ("check",)  # commands that read a package folder: its large files are hashed from the start


def _hash_ahead(arguments: list[str]) -> None:
    """Start hashing the package folder's large files (``connectors.hash_ahead``) while the command's
    libraries are imported, on the core that would otherwise wait: the folder is the first argument
    that names one (a wrong guess costs a hash nobody asks for, never a wrong one)."""
    folder = next((a for a in arguments if not a.startswith("-") and os.path.isdir(a)), None)
    if folder is not None:
        from connectors import hash_ahead

        hash_ahead.start(folder)


ENDS_AT_ONCE = ("check",)  # commands that hold nothing to close once their output is written (see _end_now)


def _end_now(code: int) -> None:
    """Leave without the interpreter's teardown: a million-row check would spend ≈ 70 ms freeing its
    tables and modules one object at a time for a process that is ending anyway. It holds no file,
    connection or lock open by then; only its output is flushed."""
    for stream in (sys.stdout, sys.stderr):
        # the reader went away (main already said 0), or the stream is closed
        with contextlib.suppress(BrokenPipeError, ValueError):
            stream.flush()
    os._exit(code)


class _NoPandas:
    """A meta-path finder under which `import pandas` raises ImportError, as if it were not installed."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("pandas is not loaded in a `danbao check` process")
        return None


if __name__ == "__main__":
    sys.exit(console())
