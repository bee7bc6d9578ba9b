"""The layer contract (pyproject.toml ``[tool.importlinter]``): schemas ← validations ← connectors | store
← filings ← web ← pipelines, no Dagster outside pipelines, no HTTP framework in the application, and
no import cycles. It runs here so that ``make test`` fails on a violation."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("schemas", "validations", "connectors", "store", "filings", "pipelines", "web")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"})


def test_the_layers_hold():
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "BROKEN" not in done.stdout


def test_a_forbidden_import_breaks_the_contract(tmp_path):
    """The contract is not vacuous: ``connectors`` importing ``store``, and a cycle inside ``web``, fail it."""
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.parquet"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / "connectors" / "registry.py").open("a", encoding="utf-8") as handle:
        handle.write("\nfrom store import repository  # noqa: E402,F401\n")
    with (tmp_path / "web" / "refusals.py").open("a", encoding="utf-8") as handle:
        handle.write("\nfrom web import errors  # noqa: E402,F401\n")
    done = lint(tmp_path)
    assert done.returncode != 0
    assert "connectors is not allowed to import store" in done.stdout
    assert "No cycles are allowed in web" in done.stdout
