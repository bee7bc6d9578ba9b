"""The portal's commands: `danbao serve` (a real process), `danbao submit` (the command-line client) and
`danbao tokens` (the admin's token tool)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from pipelines import cli
from tests.packages import GOV_ID, REGISTRY_CSV
from tests.web.conftest import csrf_of, free_port, fresh_package

PORTAL_COMMANDS = ("serve", "submit", "tokens")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def danbao(monkeypatch):
    """``danbao …`` in-process, with the portal's commands registered (as pipelines/cli.py will list them)."""
    monkeypatch.setattr(cli, "SUBCOMMANDS", tuple(dict.fromkeys((*cli.SUBCOMMANDS, *PORTAL_COMMANDS))))
    return cli.main


def test_submit_files_a_folder_deterministically(danbao, live_sqlite, tmp_path, capsys):
    folder = fresh_package(tmp_path).root
    args = ["submit", str(folder), "--url", live_sqlite.url, "--token", live_sqlite.tokens["a"]]
    assert danbao(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["state"] == "needs_confirmation" and first["created"] is True
    assert danbao(args) == 0  # zipped again: the same bytes, so the same submission
    again = json.loads(capsys.readouterr().out)
    assert (again["submission_id"], again["sha256"], again["created"]) == (first["submission_id"], first["sha256"], False)


def test_submit_exit_codes(danbao, live_sqlite, tmp_path, capsys, monkeypatch):
    broken = fresh_package(tmp_path).set("guarantees", 3, "party_id", "91500113342F88691A")
    url, token = live_sqlite.url, live_sqlite.tokens["a"]
    assert danbao(["submit", str(broken.root), "--url", url, "--token", token]) == 1  # rejected
    assert json.loads(capsys.readouterr().out)["state"] == "rejected"
    assert danbao(["submit", str(fresh_package(tmp_path).root), "--url", url, "--token", "dbt_wrong"]) == 1
    assert "unknown_token" in capsys.readouterr().err
    assert danbao(["submit", str(fresh_package(tmp_path).root), "--url", url, "--token", live_sqlite.tokens["b"]]) == 1
    assert "wrong_guarantor" in capsys.readouterr().err
    assert danbao(["submit", str(tmp_path / "nowhere"), "--url", url, "--token", token]) == 2
    monkeypatch.delenv("DANBAO_TOKEN", raising=False)
    assert danbao(["submit", str(broken.root), "--url", url]) == 2
    monkeypatch.setenv("DANBAO_TOKEN", token)
    assert danbao(["submit", str(fresh_package(tmp_path).root), "--url", url]) == 0
    capsys.readouterr()
    assert danbao(["submit", str(broken.root), "--url", f"http://127.0.0.1:{free_port()}", "--timeout", "2"]) == 1
    monkeypatch.setenv("DANBAO_URL", url)  # --url missing: $DANBAO_URL (else http://127.0.0.1:8000)
    assert danbao(["submit", str(broken.root)]) == 1  # rejected (the same bytes: the same submission)


def test_tokens_create_list_revoke(danbao, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DANBAO_DATABASE_URL", f"sqlite:///{tmp_path / 'tokens.db'}")
    monkeypatch.setenv("DANBAO_HOME", str(tmp_path / "home"))
    from filings.intake import load_registry
    from store import portal as store_portal
    from store.db import make_engine, migrate, session_factory

    engine = make_engine()
    migrate(engine)
    with session_factory(engine)() as session, session.begin():
        load_registry(session, REGISTRY_CSV)
    assert danbao(["tokens", "create", "--role", "guarantor", "--institution", GOV_ID, "--label", "张会计",
                   "--expires-days", "30", "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["secret"].startswith("dbt_") and made["institution_id"] == GOV_ID and made["expires_at"]
    with session_factory(engine)() as session:
        token = store_portal.find_token(session, made["secret"])
        assert token is not None and token.token_hash != made["secret"] and made["secret"] not in repr(token)
    assert danbao(["tokens", "create", "--role", "regulator"]) == 0
    secret = capsys.readouterr().out.strip()
    assert secret.startswith("dbt_")
    assert danbao(["tokens", "list"]) == 0
    listing = capsys.readouterr().out
    assert "张会计" in listing and made["secret"] not in listing and secret not in listing
    assert danbao(["tokens", "revoke", str(made["id"])]) == 0
    assert danbao(["tokens", "list"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert danbao(["tokens", "create", "--role", "guarantor"]) == 2  # a guarantor token needs its guarantor
    assert danbao(["tokens", "create", "--role", "guarantor", "--institution", "91500000000000000X"]) == 2
    assert danbao(["tokens", "create", "--role", "admin", "--institution", GOV_ID]) == 2
    assert danbao(["tokens", "revoke", "424242"]) == 1
    # a lending bank's token names its lender_code (and only a bank's does)
    assert danbao(["tokens", "create", "--role", "bank", "--lender", "C4025000100", "--label", "某银行", "--json"]) == 0
    bank = json.loads(capsys.readouterr().out)
    assert (bank["role"], bank["lender_code"], bank["institution_id"]) == ("bank", "C4025000100", None)
    with session_factory(engine)() as session:
        assert store_portal.find_token(session, bank["secret"]).lender_code == "C4025000100"
    assert danbao(["tokens", "list"]) == 0
    assert "C4025000100" in capsys.readouterr().out
    assert danbao(["tokens", "create", "--role", "bank"]) == 2  # a bank token needs its lender
    assert "lender_code" in capsys.readouterr().err
    assert danbao(["tokens", "create", "--role", "regulator", "--lender", "C4025000100"]) == 2
    engine.dispose()


def test_serve_runs_the_portal_until_stopped(tmp_path):
    """`danbao serve` in its own process, with its timeouts given on the command line."""
    port = free_port()
    env = {**os.environ, "DANBAO_HOME": str(tmp_path / "home"), "DANBAO_WEB_SECRET": "s" * 40}
    env.pop("DANBAO_DATABASE_URL", None)
    code = ("import sys; from pipelines import cli; "
            f"cli.SUBCOMMANDS = tuple(dict.fromkeys((*cli.SUBCOMMANDS, *{PORTAL_COMMANDS!r}))); "
            "sys.exit(cli.main(sys.argv[1:]))")
    process = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--port", str(port), "--inline-validation", "--registry", str(REGISTRY_CSV),
         "--request-timeout", "2", "--keep-alive-timeout", "1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/api/health", timeout=1).json() == {"status": "ok"}:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "danbao serve did not answer"
            time.sleep(0.1)
        page = requests.get(f"http://127.0.0.1:{port}/login", timeout=5)
        assert page.status_code == 200 and csrf_of(page.text)
        assert (tmp_path / "home" / "danbao.db").exists()  # the store of DANBAO_HOME, migrated
        with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:  # --request-timeout 2
            slow.sendall(b"GET /api/hea")
            started = time.monotonic()
            assert slow.recv(4096).startswith(b"HTTP/1.1 408 ") and time.monotonic() - started < 6
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
    # uvicorn shuts down cleanly, then re-raises the signal it caught
    assert process.returncode in (0, -signal.SIGTERM) and "Finished server process" in output, output
    assert "registry: 3 inserted" in output and "inline validation" in output
