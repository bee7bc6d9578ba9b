"""`danbao run`, `danbao late`, the local instance's dagster.yaml, and `make demo`."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterInstance

from pipelines.commands import late as late_command
from pipelines.commands import run as run_command

ROOT = Path(__file__).resolve().parents[2]


def danbao(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="danbao")
    sub = parser.add_subparsers(dest="command", required=True)
    run_command.add_parser(sub)
    late_command.add_parser(sub)
    args = parser.parse_args(list(argv))
    return args.func(args)


@pytest.fixture
def dagster_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "dagster-home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def test_danbao_run_then_late(danbao_env, dagster_home, generated, capsys):
    landing = danbao_env / "landing"
    landing.mkdir(parents=True)
    shutil.copyfile(generated.clean[0], landing / generated.clean[0].name)
    shutil.copyfile(generated.rejected[1], landing / generated.rejected[1].name)

    assert danbao("run", "--registry", str(generated.registry_csv), "--no-pull", "--settle", "0", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    states = {row["institution_id"]: row["state"] for row in report["submissions"]}
    assert states == {generated.ids()[0]: "accepted", generated.ids()[1]: "rejected"}
    assert (dagster_home / "dagster.yaml").read_text() == (ROOT / "dagster.yaml").read_text()
    instance = DagsterInstance.get()
    assert len(instance.get_run_records()) == 2  # the runs are on the local instance, for `dagster dev` to show

    assert danbao("run", "--no-pull", "--settle", "0") == 0  # nothing new: each package is picked up once
    assert "nothing new to validate" in capsys.readouterr().out

    assert danbao("late", "--period", generated.period) == 0
    out = capsys.readouterr().out
    assert f"3 late filing(s) for {generated.period}" in out
    assert generated.ids()[1] in out and generated.ids()[0] not in out
    assert danbao("late", "--period", "2026-13") == 2


def test_local_instance_yaml_has_the_run_queue(tmp_path, monkeypatch):
    home = tmp_path / "dagster"
    home.mkdir()
    shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert (home / "history" / "runs.db").exists()  # storage under DAGSTER_HOME
        queue = instance.get_concurrency_config().run_queue_config  # what the run-queue daemon reads
        assert queue.max_concurrent_runs == 4
        limits = queue.tag_concurrency_limits
        assert {"key": "danbao/job", "value": "pull", "limit": 1} in limits


def test_make_demo_runs_from_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DANBAO_", "DAGSTER_"))}
    env["DANBAO_HOME"] = str(tmp_path / "var")
    done = subprocess.run([sys.executable, "-m", "pipelines.demo", "--rows", "60"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert re.search(r"pull:.*\n\s+→ #1 accepted", out)
    assert re.search(r"broken.*\n\s+→ #1 rejected; LATE", out)
    assert re.search(r"resubmitted corrected\n\s+→ #1 needs_confirmation, #2 accepted", out)
    assert re.search(r"files nothing\n\s+→ nothing filed; LATE", out)
    assert "→304" in out and "→503" in out
    assert "dagster dev -m pipelines.definitions" in out
    assert (tmp_path / "var" / "dagster" / "dagster.yaml").exists()


def test_demo_starts_from_a_clean_slate_and_never_wipes_other_data(tmp_path):
    from pipelines.demo import _fresh

    home = tmp_path / "var"
    assert _fresh(home)
    (home / "blobs").mkdir()
    (home / "danbao.db").write_text("old demo")
    (home / "mine.txt").write_text("not the demo's")
    assert _fresh(home)  # a second demo: its own data goes, anything else stays
    assert sorted(p.name for p in home.iterdir()) == [".danbao-demo", "mine.txt"]
    other = tmp_path / "other"
    other.mkdir()
    (other / "danbao.db").write_text("someone's real store")
    assert not _fresh(other)
    assert (other / "danbao.db").read_text() == "someone's real store"
