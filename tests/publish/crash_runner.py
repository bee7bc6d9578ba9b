"""The crash test's fork server: imports `danbao publish` once, then for each delay read from stdin runs
the command in a fresh child process and SIGKILLs it after that delay (if it is still running),
answering as `tests.fork_server` says.

Forking an interpreter that has already imported everything means the delay is spent in the command's
own work (queuing, claiming, sending, recording receipts) rather than in Python's start-up, so that
twenty kills take seconds and land all over the delivery. The child is a separate process with its own
database connections and sockets (the server opens none); SIGKILL gives it no chance to clean up.

Usage: ``python -m tests.publish.crash_runner --period YYYY-MM [publish options]``.
"""

from __future__ import annotations

import sys


def warm_up() -> None:
    """Do once, here, what every child would otherwise do first: load the rule engine's reference data,
    compile the JSON Schemas, write a feed file and a Parquet state, configure the ORM. No database is
    opened and no socket: the children open their own."""
    import datetime as dt
    import tempfile
    from pathlib import Path

    from sqlalchemy.orm import configure_mappers

    from connectors.archive import FilingArchive
    from connectors.intake import read_package
    from connectors.publish import cbrc, pboc
    from connectors.registry import read_registry_csv
    from connectors.synthetic import REGISTRY_FILE, generate_period
    from tests.publish.filed import closed_period
    from validations.engine import validate
    from validations.results import AcceptedFiling

    configure_mappers()
    with tempfile.TemporaryDirectory() as tmp:
        [package] = generate_period(Path(tmp), 1, 5, closed_period())
        result = validate(read_package(package), read_registry_csv(Path(tmp) / REGISTRY_FILE))
    filing = AcceptedFiling.of(result, submission_id=1, sequence=1, period=result.period, accepted_at=None)
    cbrc.check(cbrc.build_summary(filing.period, [cbrc.build_report(filing)]), cbrc.SUMMARY)
    archive = FilingArchive(Path(tmp) / "tables")  # the archive's reader (fsspec, Parquet) warmed up
    archive.latest("none")
    plan = pboc.plan(None, filing.guarantees, filing.institution.pboc_area_code, dt.date(2026, 1, 31))
    pboc.state_to_parquet(plan.state)
    pboc.render_files(plan, filing.institution.pboc_area_code, dt.datetime.now(dt.UTC), lambda prefix: 1)


def main() -> int:
    from pipelines.commands import publish
    from tests.fork_server import serve

    warm_up()
    return serve(publish.main, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
