"""The terminal: tables that measure Chinese characters as two columns, progress on long work, readable
errors, Beijing time. Built on rich; every helper degrades to plain text when the output is a pipe (no
colour codes, no spinners), so scripts and tests read the same words."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def _console(stderr: bool = False) -> Any:
    """stdout or stderr; ``DANBAO_PROGRESS=always`` shows progress on stderr even when it is not a
    terminal (a CI log), ``never`` hides it on a terminal too."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    from filings.settings import load

    forced = load().progress
    force = True if (stderr and forced == "always") else False if forced == "never" else None
    # width: a pipe gets a wide virtual terminal so that rows are not folded into several lines
    return Console(file=stream, highlight=False, soft_wrap=False, force_terminal=force,
                   width=None if stream.isatty() else 160, emoji=False)


def beijing(value: str | dt.datetime | None) -> str:
    """An ISO time (``…Z`` or with an offset) as Beijing time, ``2026-11-27 19:17:41 北京时间``."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") + " 北京时间"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None,
          stderr: bool = False) -> None:
    """A table whose columns line up whatever mix of Chinese and Latin text it holds."""
    from rich import box
    from rich.table import Table

    t = Table(*headers, title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    _console(stderr).print(t)


def key_values(rows: Sequence[tuple[str, str]]) -> None:
    from rich.table import Table

    t = Table(box=None, show_header=False, pad_edge=False)
    t.add_column(style="bold")
    t.add_column()
    for key, value in rows:
        t.add_row(key, value)
    _console().print(t)


def error(message: str) -> None:
    """One readable line on stderr (red on a terminal)."""
    console = _console(stderr=True)
    if console.is_terminal:
        from rich.markup import escape

        console.print(f"[bold red]✗[/] {escape(message)}")
    else:
        print(message, file=sys.stderr)


def note(message: str) -> None:
    console = _console(stderr=True)
    if console.is_terminal:
        from rich.markup import escape

        console.print(f"[dim]{escape(message)}[/]")
    else:
        print(message, file=sys.stderr)


@contextlib.contextmanager
def status(message: str) -> Iterator[Any]:
    """A spinner on stderr while something runs (nothing on a pipe); ``.update(text)`` changes it."""
    if _plainly_not_a_terminal():  # rich is not even imported (≈ 20 ms of a `check --json`)
        yield Quiet()
        return
    console = _console(stderr=True)
    if not console.is_terminal:
        yield Quiet()
        return
    with console.status(message) as live:
        yield live


def _plainly_not_a_terminal() -> bool:
    """stderr is no terminal and nothing could make rich treat it as one: no ``DANBAO_PROGRESS=always``,
    no ``FORCE_COLOR`` or ``TTY_COMPATIBLE`` (rich's own switches)."""
    if any(name in os.environ for name in ("FORCE_COLOR", "TTY_COMPATIBLE")):
        return False
    isatty = getattr(sys.stderr, "isatty", None)
    if isatty is not None and isatty():
        return False
    from filings.settings import load

    return load().progress != "always"


class Quiet:
    def update(self, *args: Any, **kwargs: Any) -> None:
        pass

    def advance(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextlib.contextmanager
def progress(description: str, total: int | None) -> Iterator[Any]:
    """A progress bar on stderr (nothing on a pipe): ``advance(n)``, ``update(description=…)``."""
    console = _console(stderr=True)
    if not console.is_terminal:
        yield Quiet()
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)

        class _Task:
            def advance(self, n: int = 1) -> None:
                bar.advance(task, n)

            def update(self, **kwargs: Any) -> None:
                bar.update(task, **kwargs)

        yield _Task()
