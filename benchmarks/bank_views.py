"""How long the bank views and the bulletin take over a period's published datasets: G guarantors with R
ledger rows each are generated (template 1.1), validated and published as the pipeline publishes them,
then ``web.banks.overview`` (one lender's page) and ``web.bulletin.build`` are timed in-process (median of
--repeat runs). Prints figures and asserts nothing; the last line is one JSON object.

    .venv/bin/python benchmarks/bank_views.py [--guarantors G] [--rows R] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.datasets import DatasetStore
from connectors.intake import read_package
from connectors.registry import read_registry_csv
from connectors.synthetic import generate_period
from filings.datasets import publish_datasets
from store.models import TokenRole
from validations.engine import validate
from validations.results import AcceptedFiling
from web import banks, bulletin
from web.auth import Principal

PERIOD = "2026-10"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--guarantors", type=int, default=20)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        packages = generate_period(root / "gen", args.guarantors, args.rows, PERIOD, seed=11)
        registry = read_registry_csv(root / "gen" / "registry.csv")
        store = DatasetStore(root / "datasets")
        started = time.perf_counter()
        for n, package in enumerate(packages, 1):
            checked = validate(read_package(package), registry)
            publish_datasets(store, b"bench-key-0123456789abcdef012345", AcceptedFiling.of(
                checked, submission_id=n, sequence=1, period=PERIOD, accepted_at=None))
        published = time.perf_counter() - started
        entries = [SimpleNamespace(institution_id=k, name=v.name, kind=v.kind, status="active", systemic=False,
                                   rating_agency=v.rating_agency, rating_grade=v.rating_grade, rating_date=v.rating_date)
                   for k, v in registry.items()]
        bank = Principal(1, TokenRole.BANK, None, "bench", "bearer", "C4025000100")

        def timed(call) -> tuple[float, object]:
            times, value = [], None
            for _ in range(args.repeat):
                t = time.perf_counter()
                value = call()
                times.append(time.perf_counter() - t)
            return statistics.median(times), value

        overview_s, view = timed(lambda: banks.overview(store, bank, entries, PERIOD))
        bulletin_s, built = timed(lambda: bulletin.build(store, entries, PERIOD))
    lent = sum(line["guarantees"] for line in view["by_guarantor"])
    print(f"{args.guarantors} guarantors × {args.rows} rows: published in {published:.1f} s")
    print(f"bank overview ({lent} guarantees of one lender): {overview_s * 1000:.0f} ms (median of {args.repeat})")
    print(f"bulletin ({len(built.grades)} grades): {bulletin_s * 1000:.0f} ms (median of {args.repeat})")
    print(json.dumps({"guarantors": args.guarantors, "rows": args.rows, "lent": lent,
                      "overview_ms": round(overview_s * 1000, 1), "bulletin_ms": round(bulletin_s * 1000, 1)}))


if __name__ == "__main__":
    main()
