"""Progress of long work on a terminal: one line on stderr, rewritten in place, and nothing at all when
stderr is not a terminal (piped, redirected, in CI) or when the command prints JSON."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, enabled: bool, out: TextIO | None = None) -> None:
        self.out = out or sys.stderr
        self.enabled = enabled
        self.start = time.perf_counter()
        self._width = 0

    @classmethod
    def for_terminal(cls, quiet: bool = False, out: TextIO | None = None) -> Progress:
        out = out or sys.stderr
        try:
            tty = out.isatty()
        except (AttributeError, ValueError):
            tty = False
        return cls(tty and not quiet, out)

    def __call__(self, message: str) -> None:
        if not self.enabled:
            return
        line = f"[{time.perf_counter() - self.start:6.1f} s] {message}"
        self.out.write("\r" + line.ljust(self._width))
        self.out.flush()
        self._width = len(line)

    def done(self) -> None:
        if self.enabled and self._width:
            self.out.write("\r" + " " * self._width + "\r")
            self.out.flush()
            self._width = 0


def silent(message: str) -> None:
    """A progress callback that says nothing (the default of the library functions)."""
