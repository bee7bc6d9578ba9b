"""Benchmark of phase 4: on a 1,000,000-row filing, the time of phases 1–3 and of phase 4 in
one process (target: phase 4 adds no more than phases 1–3), with peak RSS; then the per-period roll-up
over 1,000 guarantors (each a real 100-row filing through the engine).

    .venv/bin/python benchmarks/phase4.py [--rows N] [--guarantors N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import time
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.synthetic import make_compensations, make_financials, make_guarantees, make_registry
from validations.context import BEIJING, Institution, Period
from validations.engine import validate
from validations.filing import RawFile, RawFiling
from validations.findings import Findings
from validations.phases.format import parse_files
from validations.prudential import evaluate
from validations.prudential.rollup import period_rollup

NOW = dt.datetime(2026, 11, 10, tzinfo=BEIJING)
PERIOD = "2026-10"


def filing_for(institution_id: str, kind: str, rows: int, seed: int) -> RawFiling:
    g = make_guarantees(rows, PERIOD, seed=seed, institution_kind=kind)
    files = {"guarantees": g, "financials": make_financials(g, PERIOD, seed), "compensations": make_compensations(g, PERIOD, seed)}
    manifest = {"template_version": "1.0", "institution_id": institution_id, "institution_name": "bench",
                "period": PERIOD, "submitted_at": "2026-11-05T10:00:00+08:00",
                "files": {name: {"path": f"{name}.csv", "sha256": "-"} for name in files}}
    return RawFiling(manifest, {name: RawFile(name, f"{name}.csv", t, "csv") for name, t in files.items()})


def registry(n: int) -> dict:
    table = make_registry(n, seed=3)
    rows = table.to_pylist()
    for row in rows:
        row["focus_small_micro_agri"] = row["focus_small_micro_agri"] == "true"
    return {row["institution_id"]: Institution.from_record(row) for row in rows}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--guarantors", type=int, default=1000)
    args = parser.parse_args()

    reg = registry(3)
    institution = next(i for i in reg.values() if i.kind == "government")
    filing = filing_for(institution.institution_id, institution.kind, args.rows, seed=11)
    print(f"{args.rows:,}-row filing generated; peak RSS so far {peak_mb():,.0f} MB")

    t0 = time.perf_counter()
    result = validate(filing, reg, now=NOW)
    total = time.perf_counter() - t0
    # phases 1–3 alone, the same way the engine runs them, for the comparison the issue asks for
    t0 = time.perf_counter()
    parsed = parse_files(filing, Findings())
    tables = {name: p.typed for name, p in parsed.items()}
    t_parse = time.perf_counter() - t0
    t0 = time.perf_counter()
    evaluate(tables["guarantees"], tables["financials"], tables.get("compensations"), institution, Period.parse(PERIOD))
    phase4 = time.perf_counter() - t0
    print(f"engine, phases 1–4:            {total:6.2f} s  (status {result.status}, grade {result.grade})")
    print(f"phase 4 alone:                 {phase4:6.2f} s")
    print(f"phases 1–3 (engine − phase 4): {total - phase4:6.2f} s   (of which parse {t_parse:.2f} s)")
    print(f"  phase 4 / phases 1–3:        {phase4 / (total - phase4):6.2f}   (target ≤ 1)")
    print(f"peak RSS:                      {peak_mb():6.0f} MB")

    reg = registry(args.guarantors)
    t0 = time.perf_counter()
    rows, grades = [], []
    for i, inst in enumerate(reg.values()):
        r = validate(filing_for(inst.institution_id, inst.kind, 100, seed=i), reg, now=NOW)
        rows.append({"institution_id": inst.institution_id, **{k: v for k, v in (r.indicators or {}).items()
                                                               if not isinstance(v, dict)},
                     **{f"subsidy_{k}": v for k, v in ((r.indicators or {}).get("subsidy_by_program") or {}).items()}})
        grades.append({"institution_id": inst.institution_id, "grade": r.grade, "late_filing": False})
    build = time.perf_counter() - t0
    indicators, grade_table = pa.Table.from_pylist(rows), pa.Table.from_pylist(grades)
    governments = [i.institution_id for i in reg.values() if i.kind == "government"]
    t0 = time.perf_counter()
    summary = period_rollup(indicators, grade_table, government_ids=governments)
    rollup = time.perf_counter() - t0
    print(f"{args.guarantors:,} filings × 100 rows through the engine: {build:6.2f} s")
    print(f"per-period roll-up over {args.guarantors:,} guarantors:   {rollup * 1000:6.1f} ms"
          f"   (grades {summary['grade_distribution']}, share {summary['small_micro_agri_household_share']:.3f})")


if __name__ == "__main__":
    main()
