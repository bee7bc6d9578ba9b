"""Baseline for the performance bar: a plain GX 1.x pandas run of the published SCH guarantees suite.

What a GX user without our engine would do: read the CSV with pandas as strings, convert the typed
columns, and validate the checked-in suite (validations/suites/guarantees.json) with GX's pandas engine
and its default result format. The clock starts at the CSV read and stops at the validation result;
importing GX and creating its context are excluded, so the baseline is the fastest honest GX figure.

    .venv/bin/python benchmarks/gx_baseline.py guarantees.csv [--repeat-sample ROWS]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schemas import get_template
from schemas.template import ColumnType

if TYPE_CHECKING:
    import pandas as pd

SAMPLE_CSV = Path(__file__).resolve().parents[1] / "tests" / "data" / "samples" / "valid-2026-10" / "guarantees.csv"
_NUMERIC = (ColumnType.AMOUNT, ColumnType.RATE, ColumnType.DECIMAL)


def read_as_plain_gx_user(csv_path: str | Path, version: str = "1.0") -> pd.DataFrame:
    """pandas ``dtype=str`` read, then the template's numbers, dates and booleans converted column-wise."""
    import pandas as pd

    spec = get_template(version).file("guarantees")
    df = pd.read_csv(csv_path, dtype=str, encoding="utf-8-sig")
    df = df.rename(columns=spec.header_aliases)  # Chinese headers are accepted aliases
    for column in spec.columns:
        if column.name not in df.columns:
            continue
        if column.type in _NUMERIC:
            df[column.name] = pd.to_numeric(df[column.name], errors="coerce")
        elif column.type == ColumnType.DATE:
            df[column.name] = pd.to_datetime(df[column.name], format="%Y-%m-%d", errors="coerce")
        elif column.type == ColumnType.BOOL:
            df[column.name] = df[column.name].str.lower().map({"true": True, "false": False})
    return df


def time_gx_pandas(
    csv_path: str | Path, *, result_format: str = "SUMMARY", breakdown: dict[str, Any] | None = None
) -> float:
    """Seconds for read + convert + GX validation of the guarantees suite on ``csv_path``.

    ``breakdown``, when given, receives the parts (and the import/context time kept off the clock)
    and whether every expectation passed.
    """
    from validations.gx.runner import gx_context, import_gx, run_suite_with_gx
    from validations.gx.suites import load_suite

    t0 = time.perf_counter()
    import_gx()
    context = gx_context()
    suite = load_suite("guarantees")
    t1 = time.perf_counter()
    df = read_as_plain_gx_user(csv_path)
    t2 = time.perf_counter()
    outcome = run_suite_with_gx(df, suite, context, result_format=result_format)
    t3 = time.perf_counter()
    if breakdown is not None:
        breakdown.update(
            import_and_context=t1 - t0, read_and_convert=t2 - t1, validate=t3 - t2, rows=len(df),
            expectations=len(outcome), failed=sum(not ok for ok in outcome.values()),
        )
    return t3 - t1


def write_repeated_sample(out: str | Path, rows: int, sample: str | Path = SAMPLE_CSV) -> Path:
    """A ``rows``-row guarantees CSV: the sample's rows repeated, each with a unique guarantee_id."""
    with open(sample, encoding="utf-8-sig", newline="") as f:
        header, *records = list(csv.reader(f))
    id_at = header.index("guarantee_id")
    out = Path(out)
    with open(out, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for i in range(rows):
            record = list(records[i % len(records)])
            record[id_at] = f"BN{i:010d}"
            writer.writerow(record)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv_path", type=Path)
    parser.add_argument("--repeat-sample", type=int, metavar="ROWS",
                        help="first write CSV_PATH from the shared sample repeated to ROWS rows")
    parser.add_argument("--result-format", default="SUMMARY", choices=["BOOLEAN_ONLY", "BASIC", "SUMMARY", "COMPLETE"])
    args = parser.parse_args(argv)
    if args.repeat_sample:
        write_repeated_sample(args.csv_path, args.repeat_sample)
    parts: dict[str, Any] = {}
    seconds = time_gx_pandas(args.csv_path, result_format=args.result_format, breakdown=parts)
    print(", ".join(f"{k} {v:.2f} s" if isinstance(v, float) else f"{k} {v}" for k, v in parts.items()),
          file=sys.stderr)
    print(f"{seconds:.2f}")


if __name__ == "__main__":
    main()
