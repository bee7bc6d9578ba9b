"""The fork server of the kill tests: a process that has a command imported forks a fresh child per
request and SIGKILLs it on the test's terms, so that the kills land in the command's own work rather than
in Python's start-up.

Requests, one per line on stdin:

- a delay in seconds: run the command and SIGKILL it after that delay if it is still running;
- ``watch``: run the command, answer ``pid <pid>`` at once, and wait for it however it ends, so that the
  test can kill it at the moment it chooses (when the store shows work in progress).

Each request is answered ``killed`` or ``exited <code> <seconds>``. The server opens no database, instance
or socket: each child opens its own; SIGKILL gives it no chance to clean up.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable


def serve(command: Callable[[list[str]], int], argv: list[str]) -> int:
    """Answer requests from stdin until it closes; each runs ``command(argv)`` in a forked child."""
    for line in sys.stdin:
        watched = line.strip() == "watch"
        pid = os.fork()
        if pid == 0:
            _run_child(command, argv)
        started = time.monotonic()
        if watched:
            print(f"pid {pid}", flush=True)
            _, status = os.waitpid(pid, 0)
        else:
            status = _wait_or_kill(pid, started + float(line))
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        print("killed" if killed else f"exited {os.waitstatus_to_exitcode(status)} {time.monotonic() - started:.2f}",
              flush=True)
    return 0


def _run_child(command: Callable[[list[str]], int], argv: list[str]) -> None:
    """The child: the command, with its output thrown away; it never returns."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        code = command(argv)
    except BaseException:
        code = 99
    os._exit(code)


def _wait_or_kill(pid: int, deadline: float) -> int:
    """The child's wait status: as it exited before the deadline, or after a SIGKILL at the deadline."""
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.002)
    os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]
