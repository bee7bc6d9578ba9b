"""Helpers of the synthetic-generator tests: a whole filing in one call, and the engine's view of a package."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from connectors.intake import read_package
from connectors.synthetic import make_compensations, make_financials, make_guarantees
from validations.context import BEIJING, Institution
from validations.engine import CheckResult, validate

PERIOD = "2026-10"
NOW = dt.datetime(2026, 11, 10, 9, 0, tzinfo=BEIJING)  # the period is closed, the deadline not passed


def filing(n_rows: int, seed: int, kind: str = "government", **options) -> dict[str, pa.Table]:
    guarantees = make_guarantees(n_rows, PERIOD, seed, kind, **options)
    return {
        "guarantees": guarantees,
        "financials": make_financials(guarantees, PERIOD, seed),
        "compensations": make_compensations(guarantees, PERIOD, seed),
    }


def check(package: Path, registry: dict[str, Institution]) -> CheckResult:
    """Run a package through intake and the phase 1–3 engine, as `danbao check` does."""
    return validate(read_package(package), registry, now=NOW)


def found(result: CheckResult) -> set[tuple[str, str | None, int | None]]:
    return {(f["rule_id"], f["file"], f["row"]) for f in result.findings.to_pylist()}
