"""Dagster's current command line on this project, as the README documents it: `dg check defs` loads the
definitions, and `dg dev` serves the code location under the name `danbao` (not `pipelines.definitions`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
DG = ROOT / ".venv" / "bin" / "dg"


def _env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "dagster").mkdir(parents=True, exist_ok=True)
    return {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster"), "DANBAO_HOME": str(tmp_path)}


def test_dg_check_defs(tmp_path):
    done = subprocess.run([str(DG), "check", "defs"], cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "All definitions loaded successfully" in done.stdout + done.stderr
    assert "does not match the virtual environment" not in done.stdout + done.stderr


def test_dg_dev_serves_the_code_location_named_danbao(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([str(DG), "dev", "--port", str(port)], cwd=ROOT, env=_env(tmp_path),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    query = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
    entries = None
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                body = requests.post(f"http://127.0.0.1:{port}/graphql", json={"query": query}, timeout=5).json()
                entries = body["data"]["workspaceOrError"]["locationEntries"]
                if entries and entries[0]["loadStatus"] == "LOADED":
                    break
            except (requests.RequestException, KeyError, TypeError, ValueError):
                pass
            time.sleep(1)
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # dg dev and the webserver and daemon it started
        process.wait(timeout=30)
    assert entries == [{"name": "danbao", "loadStatus": "LOADED"}]
