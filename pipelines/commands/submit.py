"""`danbao submit PACKAGE --url URL [--token TOKEN]`: file a package (folder or .zip) at the portal.

A folder is zipped deterministically (sorted names, fixed times and permissions), so the same folder
always gives the same bytes and the same SHA-256, and filing it twice is recognised as one package.
The token comes from ``--token`` or ``$DANBAO_TOKEN`` (better: it stays out of the process list).
Prints the receipt as JSON. Exit status: 0 received (and not rejected), 1 refused by the portal,
unreachable, or rejected by validation, 2 usage error.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import zipfile
from pathlib import Path

FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("submit", help="file a package at the web portal",
                                   description=__doc__.split(": ", 1)[1])
    parser.add_argument("package", help="the package folder or .zip")
    parser.add_argument("--url", required=True, help="the portal, e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", help="API token (default $DANBAO_TOKEN)")
    parser.add_argument("--period", help="YYYY-MM, for a package whose manifest lacks it")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the receipt (default 300)")
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

    token = args.token or os.environ.get("DANBAO_TOKEN")
    if not token:
        print("danbao submit: give --token or set DANBAO_TOKEN", file=sys.stderr)
        return 2
    if not args.url.startswith(("http://", "https://")):
        print(f"danbao submit: --url must be http(s)://…, not {args.url!r}", file=sys.stderr)
        return 2
    try:
        data = package_bytes(Path(args.package))
    except (OSError, ValueError) as exc:
        print(f"danbao submit: {exc}", file=sys.stderr)
        return 2
    url = args.url.rstrip("/") + "/api/submissions"
    try:
        response = requests.post(
            url, data=data, params={"period": args.period} if args.period else None, timeout=args.timeout,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/zip"},
        )
    except requests.RequestException as exc:
        print(f"danbao submit: cannot reach {url}: {exc}", file=sys.stderr)
        return 1
    try:
        body = response.json()
    except ValueError:
        body = {"error": "not_json", "message": response.text[:500]}
    if response.status_code not in (200, 201):
        print(f"danbao submit: refused ({response.status_code} {body.get('error', '')}): {body.get('message', '')}",
              file=sys.stderr)
        return 1
    print(json.dumps(body, ensure_ascii=False, indent=2))
    return 1 if body.get("state") == "rejected" else 0
