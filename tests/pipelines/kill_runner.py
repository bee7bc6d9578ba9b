"""The kill test's fork server (`tests.fork_server`) for `danbao run`: Dagster, the definitions and the
rule engine are imported once, so that the kills land in the command's own work (scanning the landing
folder, receiving packages, planning, the runs' steps and Dagster's bookkeeping) rather than in Python's
start-up.

Usage: ``python -m tests.pipelines.kill_runner run --no-pull …``.
"""

from __future__ import annotations

import sys


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
    from tests.fork_server import serve

    warm_up()
    return serve(cli.main, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
