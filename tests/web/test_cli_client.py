"""`danbao submit --wait`, `danbao status` and `danbao findings` against a running portal: a guarantor on
the command line learns the outcome (exit 0/1 as `danbao check`), and reads it again later."""

from __future__ import annotations

import json

import pytest

from pipelines.cli import main
from tests.packages import SAMPLES
from tests.web.conftest import fresh_package


def _run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_submit_wait_follows_a_rejected_package_to_its_end_and_exits_one(live_sqlite, tmp_path, capsys):
    code, out, err = _run(capsys, "submit", str(SAMPLES / "invalid-2026-10"), "--url", live_sqlite.url,
                          "--token", live_sqlite.tokens["a"], "--wait")
    assert code == 1, err
    assert "已退回 rejected" in out
    for rule in ("SCH-002", "SCH-003", "SCH-005"):
        assert rule in out
    assert "北京时间" in out and "findings: danbao findings" in out

    submission = int(out.split("danbao findings ")[1].split()[0])
    code, out, _ = _run(capsys, "status", str(submission), "--url", live_sqlite.url, "--token", live_sqlite.tokens["a"],
                        "--json")
    body = json.loads(out)
    assert code == 1 and body["state"] == "rejected"
    assert {r["rule_id"]: r["count"] for r in body["findings_by_rule"]} == {"SCH-002": 1, "SCH-003": 1, "SCH-005": 1}

    code, out, _ = _run(capsys, "findings", str(submission), "--url", live_sqlite.url, "--token", live_sqlite.tokens["a"],
                        "--json")
    doc = json.loads(out)
    assert code == 0 and doc["total"] == 3
    assert {(f["rule_id"], f["row"], f["column"]) for f in doc["findings"]} == {
        ("SCH-002", 15, "business_type"), ("SCH-003", 3, "party_id"), ("SCH-005", 10, "fee_rate")}
    code, out, _ = _run(capsys, "findings", str(submission), "--url", live_sqlite.url, "--token", live_sqlite.tokens["a"],
                        "--rule", "SCH-003")
    assert code == 0 and "91500113HGL236FR10" in out and "check character" in out


def test_submit_wait_json_and_status_of_a_period(live_sqlite, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DANBAO_URL", live_sqlite.url)
    monkeypatch.setenv("DANBAO_TOKEN", live_sqlite.tokens["a"])
    code, out, _ = _run(capsys, "submit", str(fresh_package(tmp_path).root), "--wait", "--json")
    body = json.loads(out)
    assert code == 0 and body["state"] == "needs_confirmation"
    code, out, _ = _run(capsys, "status", "--period", "2026-10")
    assert code == 0 and f"#{body['submission_id']}" in out and "待确认 needs_confirmation" in out
    code, out, _ = _run(capsys, "status", "--period", "2026-10", "--json")
    assert body["submission_id"] in [i["submission_id"] for i in json.loads(out)["items"]]


def test_submit_without_wait_says_how_to_follow(live_sqlite, tmp_path, capsys):
    code, out, err = _run(capsys, "submit", str(fresh_package(tmp_path).root), "--url", live_sqlite.url,
                          "--token", live_sqlite.tokens["a"])
    assert code == 0 and json.loads(out)["submission_id"]
    assert "danbao status" in err or "--wait" in err or json.loads(out)["state"] != "received"


@pytest.mark.parametrize("args, needle", [
    (["status"], "give a SUBMISSION id or --period"),
    (["status", "1", "--period", "2026-10"], "give a SUBMISSION id or --period"),
    (["findings", "1"], "give --token or set DANBAO_TOKEN"),
])
def test_usage_errors_exit_two(capsys, monkeypatch, args, needle):
    monkeypatch.delenv("DANBAO_TOKEN", raising=False)
    monkeypatch.setenv("DANBAO_TOKEN", "x") if args[0] == "status" else None
    code, _, err = _run(capsys, *args)
    assert code == 2 and needle in err


def test_another_guarantors_submission_is_not_found(live_sqlite, capsys):
    code, _, err = _run(capsys, "status", "999999", "--url", live_sqlite.url, "--token", live_sqlite.tokens["b"])
    assert code == 1 and "not found" in err


def test_a_mistyped_package_is_a_usage_error(live_sqlite, tmp_path, capsys):
    code, _, err = _run(capsys, "submit", str(tmp_path / "nope"), "--url", live_sqlite.url, "--token", "x")
    assert code == 2 and "no package at" in err


def test_submit_retries_a_refused_connection_while_the_portal_starts(tmp_path, capsys):
    """tenacity retries `danbao submit`'s upload while nothing listens (the portal is starting), once it
    listens the upload goes through; a refused connection is never taken for a refusal of the package."""
    import socket
    import threading

    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from connectors.http_server import LoopbackServer

    uploads: list[bytes] = []

    async def receive(request):
        uploads.append(await request.body())
        return JSONResponse({"submission_id": 7, "state": "accepted"}, 201)

    with socket.socket() as probe:  # a free port, nobody listening yet
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = LoopbackServer(Starlette(routes=[Route("/api/submissions", receive, methods=["POST"])]), port=port)
    starter = threading.Timer(1.2, server.start)
    starter.start()
    try:
        code, out, err = _run(capsys, "submit", str(SAMPLES / "valid-2026-10"), "--url", f"http://127.0.0.1:{port}",
                              "--token", "t")
    finally:
        starter.join()
        server.stop()
    assert code == 0, err
    assert json.loads(out)["submission_id"] == 7 and len(uploads) == 1 and uploads[0][:2] == b"PK"
