"""Benchmark of `danbao check`: a 1,000,000-row UTF-8 CSV package.

Prints (each timing the median of --repeat runs, 3 by default): wall time and peak RSS of `danbao check --json`; the time pyarrow alone takes to
parse the same CSV; the time a plain GX 1.x pandas run of the same SCH expectations takes.
Targets: check ≤ 5 × pyarrow parse, ≥ 3 × faster than GX, peak RSS ≤ 2 GB.

    .venv/bin/python benchmarks/check.py [--rows N] [--skip-gx]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.measure import run_measured
from connectors.synthetic import generate_period


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-gx", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timing; the median is printed")
    args = parser.parse_args()
    danbao = str(Path(sys.executable).with_name("danbao"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        t0 = time.perf_counter()
        package = generate_period(out, 1, args.rows, "2026-10", "csv", seed=1)[0]
        print(f"generated {args.rows:,} rows in {time.perf_counter() - t0:.2f} s: {package}")
        csv_path = package / "guarantees.csv"
        print(f"guarantees.csv: {csv_path.stat().st_size / 1e6:.1f} MB")

        parse = statistics.median(_timed(lambda: pacsv.read_csv(csv_path)) for _ in range(args.repeat))
        print(f"pyarrow parse alone:           {parse:7.2f} s   (median of {args.repeat})")

        argv = [danbao, "check", str(package), "--registry", str(out / "registry.csv"), "--json"]
        runs = [run_measured(argv) for _ in range(args.repeat)]
        check = sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]
        print(f"danbao check --json:           {check.seconds:7.2f} s   peak RSS {check.peak_rss_mb:,.0f} MB"
              f"   exit {check.returncode}   (median of {args.repeat})")
        print(f"  ratio to pyarrow parse:      {check.seconds / parse:7.2f} ×  (target ≤ 5)")
        if not args.skip_gx:
            from benchmarks.gx_baseline import time_gx_pandas

            gx = time_gx_pandas(csv_path)
            print(f"plain GX 1.x pandas, SCH suite: {gx:6.2f} s")
            print(f"  danbao check is faster by:   {gx / check.seconds:7.2f} ×  (target ≥ 3)")


if __name__ == "__main__":
    main()
