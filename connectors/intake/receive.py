"""Say what a received package is before anything reads it in full: its identity (SHA-256) and whom
and which period its manifest says it is for.

The doors (landing folder, pull, upload) must record a submission before validation starts, and a
submission needs a guarantor and a period. Reading the whole package for that would parse every data
file twice, so this module opens only ``manifest.json``. Nothing here raises for bad input: a package
whose manifest cannot be read simply has no identity, and the caller falls back to what it knows
(the pull endpoint's guarantor, the landing sub-folder's name).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 1 << 20  # a manifest is a few hundred bytes; anything past this is not one

_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_USCC_SHAPE = re.compile(r"[0-9A-Z]{18}")


@dataclass(frozen=True)
class PackageIdentity:
    """Whom and which period a package is for, as far as can be told (``None`` where unknown)."""

    institution_id: str | None
    period: str | None

    @property
    def complete(self) -> bool:
        return self.institution_id is not None and self.period is not None


def is_period(text: object) -> bool:
    return isinstance(text, str) and _PERIOD.fullmatch(text) is not None


def is_uscc_shaped(text: object) -> bool:
    """18 digits or capital letters: the shape of a USCC (the check character is FMT/SCH business)."""
    return isinstance(text, str) and _USCC_SHAPE.fullmatch(text) is not None


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def folder_sha256(path: str | Path) -> str:
    """A package folder's identity, computed exactly as ``connectors.intake.package`` does when it reads
    the folder: SHA-256 over the sorted relative member names and each member's SHA-256."""
    root = Path(path).resolve()
    digest = hashlib.sha256()
    for name in sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()):
        digest.update(f"{name}\0{sha256_file(root / name)}\n".encode())
    return digest.hexdigest()


def manifest_from_zip(source: bytes | str | Path) -> dict[str, Any] | None:
    """The manifest of a ZIP package (at its root or in its single top-level folder), or None."""
    try:
        handle = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    with handle:
        names = {PurePosixPath(i.filename.replace("\\", "/")).as_posix(): i for i in handle.infolist()}
        info = names.get(MANIFEST)
        if info is None:
            nested = [i for n, i in names.items() if n.endswith("/" + MANIFEST) and n.count("/") == 1]
            info = nested[0] if len(nested) == 1 else None
        if info is None or info.file_size > MAX_MANIFEST_BYTES:
            return None
        try:
            data = handle.read(info)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, zipfile.LargeZipFile):
            return None
    return _parse(data)


def manifest_from_folder(path: str | Path) -> dict[str, Any] | None:
    manifest = Path(path) / MANIFEST
    try:
        if not manifest.is_file() or manifest.stat().st_size > MAX_MANIFEST_BYTES:
            return None
        return _parse(manifest.read_bytes())
    except OSError:
        return None


def identify(manifest: dict[str, Any] | None, *, institution_id: str | None = None,
             period: str | None = None) -> PackageIdentity:
    """The package's guarantor and period: the manifest's where they are usable, else the hints.

    The manifest wins because a submission records what was filed (``store.models.Submission``); a
    hint only fills a gap left by a broken manifest, so that the rejection can still be shown to the
    guarantor who sent it.
    """
    manifest = manifest or {}
    found_id = manifest.get("institution_id")
    found_id = found_id.strip() if isinstance(found_id, str) else None
    if not found_id or len(found_id) > 64:
        found_id = institution_id
    found_period = manifest.get("period")
    if not is_period(found_period):
        found_period = period if is_period(period) else None
    return PackageIdentity(found_id or None, found_period)


def _parse(data: bytes) -> dict[str, Any] | None:
    try:
        manifest = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return manifest if isinstance(manifest, dict) else None
