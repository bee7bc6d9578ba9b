"""Benchmark of `danbao check` against pyarrow's parse and a plain GX 1.x run, in one run, interleaved.

Every figure is a whole process measured by the kernel (wall time, peak RSS), each round running every
task once in turn so that the load of a shared machine falls on all of them alike; medians of --repeat
rounds (3 by default). Packages: --rows rows (1,000,000) as UTF-8 CSV and as GB18030 CSV, and
--xlsx-rows rows (300,000) as XLSX and as UTF-8 CSV (the same rows, for the XLSX ratio).

Each figure is also given in CPU time (user + system, from the kernel), to tell the work from the
machine's state. Targets: check ≤ 3 × pyarrow's parse of the same CSV; ≥ 5 × faster than the plain GX run; peak RSS
≤ 1 GB at 1 M rows; XLSX check ≤ 3 × the CSV check of the same rows. The last line is one JSON object.

    .venv/bin/python benchmarks/check.py [--rows N] [--xlsx-rows N] [--repeat R] [--skip-gx] [--skip-xlsx]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.measure import Run, run_measured
from connectors.synthetic import generate_period

_TIME = Path("/usr/bin/time")


def _measured(argv: list[str], scratch: Path) -> Run:
    """A whole process's wall time and peak RSS. Through /usr/bin/time when it exists: Linux carries
    a parent's peak RSS across fork and exec, so this (large) process would otherwise inflate it."""
    if not _TIME.exists():
        return run_measured(argv)
    report = scratch / "time.txt"
    run = run_measured([str(_TIME), "-f", "%M", "-o", str(report), *argv])
    lines = report.read_text().strip().splitlines()
    return Run(run.seconds, int(lines[-1]) / 1024, run.returncode, run.cpu_seconds)


_PARSE = "import sys, pyarrow.csv as c; c.read_csv(sys.argv[1], read_options=c.ReadOptions(encoding=sys.argv[2]))"


def _package(out: Path, rows: int, fmt: str) -> tuple[Path, Path]:
    t0 = time.perf_counter()
    folder = out / fmt / str(rows)
    package = generate_period(folder, 1, rows, "2026-10", fmt, seed=1)[0]
    print(f"generated {rows:,} rows as {fmt} in {time.perf_counter() - t0:.1f} s", flush=True)
    return package, folder / "registry.csv"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; medians are printed")
    parser.add_argument("--skip-gx", action="store_true")
    parser.add_argument("--skip-xlsx", action="store_true")
    args = parser.parse_args()
    python, danbao = sys.executable, str(Path(sys.executable).with_name("danbao"))
    # template 1.1 has 37 columns: 300,000 rows are 11.1 M cells, over the default XLSX cell limit (10 M)
    os.environ.setdefault("DANBAO_MAX_XLSX_CELLS", str(max(10_000_000, 40 * args.xlsx_rows)))
    gx_script = str(Path(__file__).with_name("gx_baseline.py"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        csv_pkg, csv_reg = _package(out, args.rows, "csv")
        gbk_pkg, gbk_reg = _package(out, args.rows, "csv-gbk")
        csv_file = csv_pkg / "guarantees.csv"
        print(f"guarantees.csv: {csv_file.stat().st_size / 1e6:.0f} MB", flush=True)
        tasks: dict[str, list[str]] = {
            "parse": [python, "-c", _PARSE, str(csv_file), "utf8"],
            "check": [danbao, "check", str(csv_pkg), "--registry", str(csv_reg), "--json"],
            "parse_gbk": [python, "-c", _PARSE, str(gbk_pkg / "guarantees.csv"), "gb18030"],
            "check_gbk": [danbao, "check", str(gbk_pkg), "--registry", str(gbk_reg), "--json"],
        }
        if not args.skip_xlsx:
            xlsx_pkg, xlsx_reg = _package(out, args.xlsx_rows, "xlsx")
            small_pkg, small_reg = _package(out, args.xlsx_rows, "csv")
            tasks["check_xlsx"] = [danbao, "check", str(xlsx_pkg), "--registry", str(xlsx_reg), "--json"]
            tasks["check_csv_small"] = [danbao, "check", str(small_pkg), "--registry", str(small_reg), "--json"]
        if not args.skip_gx:
            tasks["gx"] = [python, gx_script, str(csv_file)]
        runs: dict[str, list[Run]] = {name: [] for name in tasks}
        for round_ in range(args.repeat):
            for name, argv in tasks.items():
                run = _measured(argv, out)
                if run.returncode not in (0, 1):
                    raise SystemExit(f"{name} failed with exit {run.returncode}")
                runs[name].append(run)
                print(f"round {round_ + 1}: {name:16s} {run.seconds:7.2f} s  cpu {run.cpu_seconds:7.2f} s  "
                      f"peak {run.peak_rss_mb:6.0f} MB", flush=True)

    def median(name: str) -> float:
        return statistics.median(r.seconds for r in runs[name])

    def cpu(name: str) -> float:
        return statistics.median(r.cpu_seconds for r in runs[name])

    def peak(name: str) -> float:
        return statistics.median(r.peak_rss_mb for r in runs[name])

    print(f"\nmedians of {args.repeat} interleaved rounds (whole processes):")
    for name in tasks:
        print(f"  {name:16s} {median(name):7.2f} s   cpu {cpu(name):7.2f} s   peak RSS {peak(name):6.0f} MB")
    result = {
        "rows": args.rows,
        "parse_s": round(median("parse"), 3),
        "check_s": round(median("check"), 3),
        "gx_s": round(median("gx"), 3) if "gx" in runs else None,
        "check_over_parse": round(median("check") / median("parse"), 2),
        "gx_over_check": round(median("gx") / median("check"), 2) if "gx" in runs else None,
        "check_peak_mb": round(peak("check")),
        "xlsx_check_over_csv_check": (round(median("check_xlsx") / median("check_csv_small"), 2)
                                      if "check_xlsx" in runs else None),
    }
    print(f"  check / parse            {result['check_over_parse']:6.2f} ×  (target ≤ 3; in CPU time "
          f"{cpu('check') / cpu('parse'):.2f} ×)")
    print(f"  GB18030 check / parse    {median('check_gbk') / median('parse_gbk'):6.2f} ×  "
          f"(GB18030 check / UTF-8 check {median('check_gbk') / median('check'):.2f} ×)")
    if result["gx_over_check"] is not None:
        print(f"  GX / check               {result['gx_over_check']:6.2f} ×  (target ≥ 5)")
    print(f"  check peak RSS           {result['check_peak_mb']:6d} MB (target ≤ 1024)")
    if result["xlsx_check_over_csv_check"] is not None:
        print(f"  XLSX check / CSV check   {result['xlsx_check_over_csv_check']:6.2f} ×  "
              f"({args.xlsx_rows:,} rows; target ≤ 3)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
