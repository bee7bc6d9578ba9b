"""`danbao publish`, `danbao deliveries` and `danbao receivers serve`, on filings accepted by the rule
engine (the commands read the filed packages from the store), against loopback receivers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from connectors.receivers import Receivers
from pipelines.commands import deliveries, publish
from tests.publish.filed import Filed, file_packages
from tests.publish.helpers import DEPLOYMENT_KEY

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def filed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Filed:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    from store.db import migrate

    migrate(url)
    done = file_packages(url, tmp_path, guarantors=3, rows=25)
    monkeypatch.setenv("DANBAO_DATABASE_URL", url)
    monkeypatch.setenv("DANBAO_BLOB_ROOT", str(done.blob_root))
    monkeypatch.setenv("DANBAO_TABLES_URL", done.tables_url)
    return done


@pytest.fixture
def env_receivers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DANBAO_SIGNING_KEY", DEPLOYMENT_KEY)
    from connectors.publish.signing import SigningKeys

    with Receivers(tmp_path / "receivers", keys=SigningKeys.from_env()) as running:
        monkeypatch.setenv("DANBAO_PBOC_URL", running.pboc_url)
        monkeypatch.setenv("DANBAO_CBRC_URL", running.cbrc_url + "/")
        yield running


def test_publish_then_list_deliveries(filed: Filed, env_receivers: Receivers, capsys) -> None:
    assert publish.main(["--period", filed.period]) == 0
    out = capsys.readouterr().out
    assert out.count("feed queued") == 3 and out.count(".enc") == 6
    assert "10 delivered, 0 failed" in out and "3 feed(s) settled" in out
    assert deliveries.main(["--period", filed.period]) == 0
    listing = capsys.readouterr().out
    assert listing.count("delivered") >= 10
    assert "10 item(s): delivered 10" in listing
    assert deliveries.main(["--period", filed.period, "--json", "--kind", "pboc"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 6 and all(r["receipt"]["http_status"] == 201 for r in rows)
    assert all(r["feedback"]["state"] == "received" for r in rows)
    # the only rejections are the known gap of template 1.0: a counter-guarantee by guarantee (反担保方式 1)
    # needs the counter-guarantor's segment (R4400104/R2300105), which the template does not carry
    from store import outbox
    from store.db import make_engine, session_factory

    engine = make_engine(filed.url)
    with session_factory(engine)() as session:
        codes = {r.error_code for r in outbox.feedback_for(session)}
    engine.dispose()
    assert codes <= {"CAR003", "BAR007"}
    held = requests.get(f"{env_receivers.pboc_url}/pboc/received", timeout=5).json()
    assert sorted(i["idempotency_key"] for i in held["items"]) == sorted(r["name"] for r in rows)

    assert publish.main(["--period", filed.period, "--json"]) == 0  # again: nothing new
    again = json.loads(capsys.readouterr().out)
    assert {f["feed"] for f in again["filings"]} == {"already"} and again["delivery"]["delivered"] == 0
    assert again["outbox"] == {"delivered": 10}


def test_queue_only_then_deliver_only(filed: Filed, env_receivers: Receivers, capsys) -> None:
    assert publish.main(["--period", filed.period, "--no-deliver"]) == 0
    assert "0 delivered" in capsys.readouterr().out
    assert deliveries.main(["--period", filed.period, "--state", "pending"]) == 0
    assert "10 item(s): pending 10" in capsys.readouterr().out
    assert publish.main(["--period", filed.period, "--deliver-only"]) == 0
    assert "10 delivered" in capsys.readouterr().out


def test_failed_items_make_publish_fail_and_can_be_requeued(filed: Filed, env_receivers: Receivers, capsys,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANBAO_SIGNING_KEY", "a-key-the-receivers-do-not-know")
    assert publish.main(["--period", filed.period]) == 1
    assert "10 failed" in capsys.readouterr().out
    assert deliveries.main(["--period", filed.period, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["last_error"] for r in rows} == {"HTTP 401: SIG001: missing or invalid signature"}
    monkeypatch.setenv("DANBAO_SIGNING_KEY", DEPLOYMENT_KEY)
    assert deliveries.main(["--period", filed.period, "--requeue", *(str(r["id"]) for r in rows)]) == 0
    assert "requeued 10 of 10" in capsys.readouterr().err
    assert publish.main(["--period", filed.period, "--deliver-only"]) == 0


def test_usage_errors(filed: Filed, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        publish.main(["--period", "2026-13"])
    assert exit_.value.code == 2


def test_without_a_key_or_receivers_the_cause_is_printed_and_the_exit_is_one(
        filed: Filed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """No DANBAO_SIGNING_KEY: the embedded setup's local key is used (not "no signing key"); nobody listens
    on the receivers' ports: the cause is printed without -v and the exit status is 1, not 0."""
    monkeypatch.setenv("DANBAO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DANBAO_SIGNING_KEY", raising=False)
    monkeypatch.setenv("DANBAO_PBOC_URL", "http://127.0.0.1:9")  # discard port: connection refused
    monkeypatch.setenv("DANBAO_CBRC_URL", "http://127.0.0.1:9")
    code = publish.main(["--period", filed.period, "--max-attempts", "2", "--backoff", "0.01", "--max-wait", "1"])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert "no signing key" not in err
    assert "connection refused" in out + err
    assert "danbao receivers serve" in err
    assert (tmp_path / "home" / "secrets" / "signing.key").stat().st_mode & 0o777 == 0o600


def test_receivers_serve_runs_until_terminated(tmp_path: Path) -> None:
    env = {**os.environ, "DANBAO_SIGNING_KEY": DEPLOYMENT_KEY, "DANBAO_HOME": str(tmp_path / "home")}
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.commands.receivers", "serve", "--pboc", "0", "--cbrc", "0",
         "--data", str(tmp_path / "data"), "--fail-rate", "0.1", "--seed", "3"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        urls = dict(process.stdout.readline().strip().split(": ", 1) for _ in range(2))
        assert requests.get(urls["PBOC receiver"] + "/pboc/received", timeout=5).json()["count"] == 0
        assert requests.get(urls["CBRC receiver"] + "/cbrc/received", timeout=5).json()["count"] == 0
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert (tmp_path / "data" / "pboc" / "receiver.db").exists()


def test_dry_run_writes_the_files_and_records_nothing(filed: Filed, tmp_path: Path, capsys) -> None:
    from connectors.publish import pboc
    from tests.publish.helpers import envelope

    out = tmp_path / "dry"
    assert publish.main(["--period", filed.period, "--dry-run", "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["files"]) == 6
    for f in result["files"]:
        plain, sealed = Path(f["plain"]), Path(f["sealed"])
        assert len(plain.name) == 34 and len(sealed.name) == 34 and sealed.suffix == ".enc"
        assert envelope().open(plain.name, sealed.read_bytes()) == plain.read_bytes()
        lines = pboc.split_lines(plain.read_bytes().decode("utf-8"))
        assert int(lines[0][-7:]) == len(lines) - 1 == f["records"]
    from store import outbox
    from store.db import make_engine, session_factory

    engine = make_engine(filed.url)
    with session_factory(engine)() as session:
        assert outbox.state_counts(session) == {} and outbox.latest_feed(session, filed.institution_ids[0]) is None
    engine.dispose()
    assert publish.main(["--period", filed.period, "--dry-run"]) == 2  # --out is required
