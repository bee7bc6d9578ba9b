"""`danbao submit PACKAGE [--wait] [--url URL] [--token TOKEN]`: file a package (folder or .zip) at the portal.

A folder is zipped deterministically (sorted names, fixed times and permissions), so the same folder
always gives the same bytes and the same SHA-256, and filing it twice is recognised as one package.
The URL comes from ``--url`` or ``$DANBAO_URL`` (default http://127.0.0.1:8000), the token from
``--token`` or ``$DANBAO_TOKEN`` (better: it stays out of the process list). Prints the receipt as
JSON; with ``--wait``, follows the submission until validation has decided (rejected,
needs_confirmation, accepted) and prints the outcome with its findings by rule (``--json``: the
submission as the API gives it). Exit status, as `danbao check`: 0 received or accepted (or
needs_confirmation), 1 rejected, refused by the portal or unreachable, 2 usage error (no such package).
"""

from __future__ import annotations

import argparse
import io
import json
import zipfile
from pathlib import Path

from pipelines.commands import portal_client as pc
from pipelines.commands import term

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
STARTUP_GRACE = 15.0  # seconds a refused connection is retried: the portal may be starting


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("submit", help="file a package at the web portal",
                                   description=__doc__.split(": ", 1)[1])
    parser.add_argument("package", help="the package folder or .zip")
    pc.add_connection_arguments(parser)
    parser.add_argument("--period", help="YYYY-MM, for a package whose manifest lacks it")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds to wait for the receipt, and with --wait for the outcome (default 300)")
    parser.add_argument("--wait", action="store_true", help="follow the submission to its final state")
    parser.add_argument("--json", action="store_true", help="with --wait: print the final submission as JSON")
    parser.set_defaults(func=run)


def zip_folder(folder: Path) -> bytes:
    """The folder's regular files as a ZIP whose bytes depend on their names and content only."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix, whatever the client's system
            archive.writestr(info, path.read_bytes(), compresslevel=6)
    return buffer.getvalue()


def package_bytes(path: Path) -> bytes:
    if path.is_dir():
        if not (path / "manifest.json").is_file():
            raise ValueError(f"{path} holds no manifest.json")
        return zip_folder(path)
    if path.is_file():
        return path.read_bytes()
    raise ValueError(f"no package at {path}")


def run(args: argparse.Namespace) -> int:
    import requests

    try:
        url, token = pc.connection(args)
    except pc.ClientError as exc:
        return pc.fail("submit", exc)
    try:
        data = package_bytes(Path(args.package))
    except (OSError, ValueError) as exc:
        term.error(f"danbao submit: {exc}")
        return 2
    endpoint = url + "/api/submissions"
    from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

    # a refused connection (nothing sent yet) is retried for a while: the portal may be starting
    retrying = Retrying(stop=stop_after_delay(min(STARTUP_GRACE, args.timeout)), wait=wait_fixed(0.5),
                        retry=retry_if_exception_type(requests.ConnectionError), reraise=True)
    try:
        with term.status(f"上传 uploading {args.package} ({len(data):,} bytes) to {url} …"):
            response = retrying(
                requests.post, endpoint, data=data, params={"period": args.period} if args.period else None,
                timeout=args.timeout,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/zip"},
            )
    except requests.RequestException as exc:
        return pc.fail("submit", pc.ClientError(f"cannot reach {endpoint}: {pc._reason(exc)}"))
    try:
        body = response.json()
    except ValueError:
        body = {"error": "not_json", "message": response.text[:500]}
    if response.status_code not in (200, 201):
        term.error(f"danbao submit: refused ({response.status_code} {body.get('error', '')}): {body.get('message', '')}")
        return 1
    if not args.wait:
        print(json.dumps(body, ensure_ascii=False, indent=2))
        if body.get("state") not in pc.FINAL_STATES:
            term.note(f"received, state {body.get('state')}: the outcome comes later; "
                      f"follow it with `danbao status {body['submission_id']}` or submit with --wait")
        return pc.exit_status(body.get("state", ""))
    term.note(f"报送 submission #{body['submission_id']} received; waiting for validation …")
    try:
        with term.status("校验中 validating …") as spinner:
            final = pc.follow(url, token, body["submission_id"], args.timeout,
                              on_state=lambda st: spinner.update(f"{pc.state_text(st)} …"))
        rules = _rules(url, token, final)
    except pc.ClientError as exc:
        return pc.fail("submit", exc)
    if args.json:
        print(json.dumps(final, ensure_ascii=False, indent=2))
    else:
        pc.print_submission(final, rules)
        if final["state"] in ("rejected", "needs_confirmation"):
            print(f"findings: danbao findings {final['submission_id']}")
    return pc.exit_status(final["state"])


def _rules(url: str, token: str, submission: dict) -> list[tuple[str, str, int, str]]:
    from pipelines.commands.findings import rule_summary

    return rule_summary(url, token, submission["submission_id"])
