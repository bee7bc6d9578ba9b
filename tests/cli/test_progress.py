"""Progress lines: on a terminal only, never with --json or when piped."""

from __future__ import annotations

import io

from pipelines.progress import Progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_and_cleared() -> None:
    out = _Tty()
    progress = Progress.for_terminal(out=out)
    progress("phase 2: schema")
    assert "phase 2: schema" in out.getvalue()
    progress.done()
    assert out.getvalue().endswith("\r")


def test_progress_silent_when_piped_or_json() -> None:
    piped = io.StringIO()
    Progress.for_terminal(out=piped)("rows read")
    assert piped.getvalue() == ""
    tty = _Tty()
    Progress.for_terminal(quiet=True, out=tty)("rows read")
    assert tty.getvalue() == ""


def test_a_spinner_on_a_pipe_is_decided_without_rich_unless_something_could_force_one(monkeypatch) -> None:
    """A piped `danbao check` does not import rich to learn that stderr is no terminal; rich decides
    whenever one of its own switches, or DANBAO_PROGRESS=always, could make it draw a spinner anyway."""
    import sys

    from pipelines.commands import term

    monkeypatch.setattr(sys, "stderr", io.StringIO())  # no terminal
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "DANBAO_PROGRESS"):
        monkeypatch.delenv(name, raising=False)
    assert term._plainly_not_a_terminal()
    with term.status("reading") as spinner:
        assert isinstance(spinner, term.Quiet)
    for name, value in (("FORCE_COLOR", "1"), ("TTY_COMPATIBLE", "1"), ("DANBAO_PROGRESS", "always")):
        monkeypatch.setenv(name, value)
        assert not term._plainly_not_a_terminal()
        monkeypatch.delenv(name)
