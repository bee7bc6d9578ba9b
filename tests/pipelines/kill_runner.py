"""The kill test's fork server: imports `danbao run` (Dagster, the definitions, the rule engine) once,
then for each delay read from stdin runs ``danbao ARGS…`` in a fresh child process and SIGKILLs it after
that delay (if it is still running), answering ``killed`` or ``exited <code> <seconds>``. The line
``watch`` instead answers ``pid <pid>`` at once and then waits for the child however it ends, so that the
test can kill it at the moment it chooses (when the store shows work in progress).

Forking an interpreter that has everything imported means the delay is spent in the command's own work
(scanning the landing folder, receiving packages, planning, the runs' steps and Dagster's bookkeeping)
rather than in Python's start-up. The server opens no database, instance or socket: each child opens its
own; SIGKILL gives it no chance to clean up.

Usage: ``python -m tests.pipelines.kill_runner run --no-pull …``.
"""

from __future__ import annotations

import os
import signal
import sys
import time


def warm_up() -> None:
    """Import what every child would import first and load the rule engine's reference data, on a
    throw-away package (no store, no instance)."""
    import tempfile
    from pathlib import Path

    from sqlalchemy.orm import configure_mappers

    import pipelines.commands.run
    import pipelines.definitions  # noqa: F401
    from connectors.intake import read_package
    from connectors.registry import read_registry_csv
    from connectors.synthetic import REGISTRY_FILE, generate_period
    from tests.pipelines.conftest import closed_period_past_deadline
    from validations.engine import validate

    configure_mappers()
    with tempfile.TemporaryDirectory() as tmp:
        [package] = generate_period(Path(tmp), 1, 5, closed_period_past_deadline())
        validate(read_package(package), read_registry_csv(Path(tmp) / REGISTRY_FILE))


def main() -> int:
    from pipelines import cli

    warm_up()
    argv = sys.argv[1:]
    for line in sys.stdin:
        watched = line.strip() == "watch"
        delay = 0.0 if watched else float(line)
        pid = os.fork()
        if pid == 0:  # the child: the command, with its output thrown away
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            try:
                code = cli.main(argv)
            except BaseException:
                code = 99
            os._exit(code)
        started = time.monotonic()
        if watched:
            print(f"pid {pid}", flush=True)
            _, raw = os.waitpid(pid, 0)
            killed = os.WIFSIGNALED(raw) and os.WTERMSIG(raw) == signal.SIGKILL
            print("killed" if killed else f"exited {os.waitstatus_to_exitcode(raw)} {time.monotonic() - started:.2f}",
                  flush=True)
            continue
        deadline = started + delay
        status = None
        while status is None and time.monotonic() < deadline:
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                status = raw
            else:
                time.sleep(0.002)
        if status is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            print("killed", flush=True)
        else:
            print(f"exited {os.waitstatus_to_exitcode(status)} {time.monotonic() - started:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
