"""Run a package through the engine and pick findings apart."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from connectors.intake import IntakeLimits, read_package
from tests.packages import registry
from validations.context import BEIJING
from validations.engine import CheckResult, validate

NOW = dt.datetime(2026, 11, 10, 9, 0, tzinfo=BEIJING)


def run(path: Path, *, reg=None, now=NOW, limits: IntakeLimits | None = None) -> CheckResult:
    return validate(read_package(path, limits), reg if reg is not None else registry(), now=now)


def hits(result: CheckResult, rule_id: str) -> list[dict]:
    return [f for f in result.findings.to_pylist() if f["rule_id"] == rule_id]


def where(result: CheckResult, rule_id: str) -> list[tuple]:
    return sorted((f["file"], f["row"], f["column"]) for f in hits(result, rule_id))


def rule_ids(result: CheckResult) -> set[str]:
    return {f["rule_id"] for f in result.findings.to_pylist()}
