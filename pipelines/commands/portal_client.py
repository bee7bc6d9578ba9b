"""What `danbao submit`, `danbao status` and `danbao findings` share: the portal's URL and token, one
authenticated GET, following a submission to its final state, and how a submission is printed."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from pipelines.commands import term

FINAL_STATES = ("rejected", "needs_confirmation", "accepted", "published")
STATE_ZH = {"received": "已接收", "validating": "校验中", "rejected": "已退回", "needs_confirmation": "待确认",
            "accepted": "已接受", "published": "已发布"}


class ClientError(Exception):
    """Refused, unreachable or not found: one line for stderr, with the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="the portal (default $DANBAO_URL, else http://127.0.0.1:8000)")
    parser.add_argument("--token", help="API token (default $DANBAO_TOKEN; better: it stays out of the process list)")


def connection(args: argparse.Namespace) -> tuple[str, str]:
    from filings.settings import load

    settings = load()
    token = args.token or (settings.token.get_secret_value() if settings.token else None)
    if not token:
        raise ClientError("give --token or set DANBAO_TOKEN (an admin makes one: danbao tokens create)", 2)
    url = (args.url or settings.url).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ClientError(f"--url must be http(s)://…, not {url!r}", 2)
    return url, token


def get_json(url: str, token: str, path: str, params: dict[str, Any] | None = None, timeout: float = 30.0) -> Any:
    import requests

    try:
        response = requests.get(url + path, params=params, timeout=timeout,
                                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    except requests.RequestException as exc:
        raise ClientError(f"cannot reach {url}: {_reason(exc)}") from None
    try:
        body = response.json()
    except ValueError:
        body = {"error": "not_json", "message": response.text[:300]}
    if response.status_code == 404:
        raise ClientError(f"not found: {path} (no such submission, or not your guarantor's)")
    if response.status_code != 200:
        raise ClientError(f"refused ({response.status_code} {body.get('error', '')}): {body.get('message', '')}")
    return body


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "Connection refused" in text or "Failed to establish" in text:
        return "connection refused (is `danbao serve` running there?)"
    return text[:200]


def follow(url: str, token: str, submission_id: int, timeout: float, interval: float = 0.5,
           on_state: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Poll the submission until its state is final (or ``timeout`` seconds pass); returns it."""
    deadline = time.monotonic() + timeout
    delay = interval
    while True:
        body = get_json(url, token, f"/api/submissions/{submission_id}")
        if on_state is not None:
            on_state(body["state"])
        if body["state"] in FINAL_STATES:
            return body
        if time.monotonic() + delay > deadline:
            raise ClientError(f"submission #{submission_id} still {body['state']} after {timeout:g} s "
                              f"(follow it with: danbao status {submission_id})")
        time.sleep(delay)
        delay = min(delay * 1.5, 5.0)


def exit_status(state: str) -> int:
    """As `danbao check`: 1 rejected, 0 otherwise."""
    return 1 if state == "rejected" else 0


def state_text(state: str) -> str:
    return f"{STATE_ZH.get(state, state)} {state}"


def print_submission(body: dict[str, Any], rules: list[tuple[str, str, int]] | None = None) -> None:
    counts = body.get("finding_counts") or {}
    rows = [
        ("报送 Submission", f"#{body['submission_id']}"),
        ("机构 Guarantor", body["institution_id"]),
        ("期间 Period", body["period"]),
        ("序号 Sequence", str(body["sequence"])),
        ("状态 State", state_text(body["state"])),
        ("错误 Errors / 警告 Warnings", f"{counts.get('error', 0)} / {counts.get('warning', 0)}"),
    ]
    warnings = body.get("warnings") or {}
    if warnings.get("outstanding"):
        rows.append(("待确认警告 Outstanding warnings", str(warnings["outstanding"])))
    if body.get("received_at"):
        rows.append(("接收时间 Received", term.beijing(body["received_at"])))
    if "filing_of_record" in body:
        rows.append(("有效报送 Filing of record", "本报送 this one" if body["filing_of_record"]
                     else (f"#{body['filing_of_record_id']}" if body.get("filing_of_record_id") else "—")))
    term.key_values(rows)
    if rules:
        term.table(["规则 Rule", "级别 Severity", "条数 Count", "说明 Title"], rules, title="按规则 By rule")


def fail(command: str, exc: ClientError) -> int:
    term.error(f"danbao {command}: {exc}")
    return exc.code


def stderr_is_tty() -> bool:
    return sys.stderr.isatty()
