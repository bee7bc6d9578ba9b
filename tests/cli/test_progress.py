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
