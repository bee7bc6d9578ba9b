"""The landing folder: where guarantors (or an SFTP/portal front end) drop packages for pickup.

Layout: a ``.zip`` or a package folder (one holding ``manifest.json``) directly in the landing folder,
or inside a sub-folder named after the guarantor's USCC (the guarantor is then known even when the
manifest is broken). Everything else is left alone: dot-files, ``*.part``/``*.tmp``-style temporary
names, symbolic links, other files.

A half-written upload is never picked up. A candidate must look the same (size and modification
time) in two consecutive scans and be complete: a ZIP must have its end-of-central-directory record
(written last), a folder must hold a manifest whose listed files all exist with matching SHA-256s and
no temporary files. A candidate that stays incomplete and untouched for ``stale_after`` seconds is
picked up anyway, so that a broken package gets its findings (FMT-001/002/003) instead of lying
there forever.

A package is picked up once, by its SHA-256: the scan state (the sensor's cursor) remembers the
fingerprint and digest of every package still in the folder, so the same bytes under another name, or
an unchanged file seen again, are not picked up twice. The store's own de-duplication by SHA-256 is
the second line of defence when the state is lost.
"""

from __future__ import annotations

import json
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.intake.receive import (
    MANIFEST,
    folder_sha256,
    is_uscc_shaped,
    manifest_from_folder,
    sha256_file,
)
from validations.manifest import path_problem

TEMPORARY_SUFFIXES = (".part", ".partial", ".tmp", ".temp", ".crdownload", ".filepart", ".download", ".swp", ".lock")
DEFAULT_STALE_AFTER_S = 3600.0


@dataclass(frozen=True)
class LandedPackage:
    """A package ready for pickup."""

    path: Path
    relpath: str  # relative to the landing folder, POSIX
    kind: str  # "zip" or "folder"
    sha256: str  # the bytes' SHA-256 (ZIP) or the folder digest ``connectors.intake.package`` computes
    institution_hint: str | None  # the guarantor sub-folder it was found in, if any


@dataclass
class LandingState:
    """What the previous scans saw: candidates waiting for a second look, and packages picked up.

    Serialised as the sensor's cursor. Only entries for paths still in the folder are kept, so its
    size follows the folder's content, not the history.
    """

    pending: dict[str, list[int]] = field(default_factory=dict)  # relpath → fingerprint
    done: dict[str, list[Any]] = field(default_factory=dict)  # relpath → [*fingerprint, sha256]

    def to_json(self) -> str:
        return json.dumps({"v": 1, "pending": self.pending, "done": self.done}, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> LandingState:
        """The state a cursor holds; an empty or unreadable cursor is an empty state (the store's
        de-duplication keeps a re-scan from filing anything twice)."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls(pending=dict(data.get("pending", {})), done=dict(data.get("done", {})))
        except (ValueError, TypeError, AttributeError):
            return cls()


@dataclass(frozen=True)
class _Candidate:
    path: Path
    relpath: str
    kind: str
    hint: str | None


def scan_landing(
    root: str | Path,
    state: LandingState,
    *,
    stale_after: float = DEFAULT_STALE_AFTER_S,
    now: float | None = None,
    limit: int | None = None,
) -> tuple[list[LandedPackage], LandingState]:
    """One scan: the packages ready for pickup now (at most ``limit``), and the state for the next scan.

    The ready packages are already marked done in the returned state: the caller records them and
    then saves the state; if recording fails, the caller keeps the old state and they come up again.
    Ready packages past ``limit`` stay pending, still stable, and are picked up by the next scan.
    """
    root = Path(root)
    now = time.time() if now is None else now
    new = LandingState()
    ready: list[LandedPackage] = []
    picked = {entry[-1] for entry in state.done.values()}
    if not root.is_dir():
        return ready, new
    for candidate in _candidates(root):
        try:
            fingerprint, newest_mtime_ns, clean = _fingerprint(candidate)
        except OSError:  # vanished or unreadable mid-scan: look again next time
            continue
        done = state.done.get(candidate.relpath)
        if done is not None and done[:-1] == fingerprint:
            new.done[candidate.relpath] = done
            continue
        stable = state.pending.get(candidate.relpath) == fingerprint
        stale = now - newest_mtime_ns / 1e9 >= stale_after
        full = limit is not None and len(ready) >= limit
        if full or not stable or not ((clean and _complete(candidate)) or stale):
            new.pending[candidate.relpath] = fingerprint
            continue
        try:
            digest = sha256_file(candidate.path) if candidate.kind == "zip" else folder_sha256(candidate.path)
        except OSError:
            new.pending[candidate.relpath] = fingerprint
            continue
        new.done[candidate.relpath] = [*fingerprint, digest]
        if digest in picked:  # the same bytes under another name, or back after a rename
            continue
        picked.add(digest)
        ready.append(LandedPackage(candidate.path, candidate.relpath, candidate.kind, digest, candidate.hint))
    return ready, new


def is_temporary(name: str) -> bool:
    lowered = name.lower()
    return name.startswith((".", "~$")) or lowered.endswith(TEMPORARY_SUFFIXES)


def _candidates(root: Path) -> Iterator[_Candidate]:
    for entry in _entries(root):
        if entry.is_file():
            if entry.suffix.lower() == ".zip":
                yield _Candidate(entry, entry.name, "zip", None)
        elif entry.is_dir():
            if not (entry / MANIFEST).exists() and is_uscc_shaped(entry.name):
                for inner in _entries(entry):  # a guarantor's own drop folder
                    relpath = f"{entry.name}/{inner.name}"
                    if inner.is_file() and inner.suffix.lower() == ".zip":
                        yield _Candidate(inner, relpath, "zip", entry.name)
                    elif inner.is_dir():
                        yield _Candidate(inner, relpath, "folder", entry.name)
            else:
                yield _Candidate(entry, entry.name, "folder", None)


def _entries(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if not is_temporary(p.name) and not p.is_symlink())
    except OSError:
        return []


def _fingerprint(candidate: _Candidate) -> tuple[list[int], int, bool]:
    """(fingerprint, newest mtime in ns, no temporary files inside)."""
    if candidate.kind == "zip":
        st = candidate.path.stat()
        return [st.st_size, st.st_mtime_ns], st.st_mtime_ns, True
    count = size = newest = 0
    clean = True
    for path in candidate.path.rglob("*"):
        if path.is_symlink() or (is_temporary(path.name) and path.name != ".DS_Store"):
            clean = False  # rsync and browsers write dot- or .part files until the upload is done
        if path.is_file():
            st = path.stat()
            count, size, newest = count + 1, size + st.st_size, max(newest, st.st_mtime_ns)
    newest = max(newest, candidate.path.stat().st_mtime_ns)  # a file removed changes the folder's mtime
    return [count, size, newest], newest, clean


def _complete(candidate: _Candidate) -> bool:
    if candidate.kind == "zip":
        try:
            return zipfile.is_zipfile(candidate.path)  # the central directory is written last
        except OSError:
            return False
    manifest = manifest_from_folder(candidate.path)
    files = manifest.get("files") if manifest else None
    if not isinstance(files, dict) or not files:
        return False
    try:
        root = candidate.path.resolve()
        for entry in files.values():
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or path_problem(entry["path"]):
                return True  # a manifest that is complete but wrong: FMT-001 is the finding, not a wait
            member = (root / entry["path"]).resolve()
            if not member.is_relative_to(root):
                return True  # unsafe path: reported when read
            if not member.is_file():
                return False
            expected = entry.get("sha256")
            if isinstance(expected, str) and sha256_file(member) != expected.strip().lower():
                return False
    except (OSError, ValueError, RuntimeError):  # a link loop, a NUL: reported when read (FMT-003/FMT-001)
        return True
    return True
