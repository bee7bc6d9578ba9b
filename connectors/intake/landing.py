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

The landing folder is a local folder or any fsspec URL (``s3://bucket/landing``), so that intake on one
host sees what an SFTP or portal front end on another drops. A local scan lists each folder once with
``os.scandir`` and stats only candidates; a remote one lists the whole prefix in one call (one paginated
LIST on an object store) and reads nothing but the packages that are ready. A scan can be cut short
(``limit``, ``deadline``): what it did not look at closely stays pending with its fingerprint, so the
next scan resumes with it (a deadline-day burst is picked up in a tick or two, not in many).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from connectors.intake.receive import (
    MANIFEST,
    folder_sha256,
    is_uscc_shaped,
    manifest_from_folder,
    parse_manifest,
    sha256_file,
)
from validations.manifest import path_problem

TEMPORARY_SUFFIXES = (".part", ".partial", ".tmp", ".temp", ".crdownload", ".filepart", ".download", ".swp", ".lock")
DEFAULT_STALE_AFTER_S = 3600.0
_CHUNK = 1 << 20


@dataclass(frozen=True)
class LandedPackage:
    """A package ready for pickup."""

    path: Path | str  # a local path, or the package's fsspec URL when the landing folder is remote
    relpath: str  # relative to the landing folder, POSIX
    kind: str  # "zip" or "folder"
    sha256: str  # the bytes' SHA-256 (ZIP) or the folder digest ``connectors.intake.package`` computes
    institution_hint: str | None  # the guarantor sub-folder it was found in, if any
    fingerprint: tuple[int, ...] = ()  # what the scan saw: put back as pending when not received this tick


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

    def put_back(self, package: LandedPackage) -> None:
        """Forget that ``package`` was picked up (it was not received): the next scan finds it pending
        and, still unchanged, ready at once."""
        self.done.pop(package.relpath, None)
        if package.fingerprint:
            self.pending[package.relpath] = list(package.fingerprint)


@dataclass(frozen=True)
class _Candidate:
    relpath: str
    kind: str
    hint: str | None
    fingerprint: tuple[int, ...] | None = None  # a ZIP's (size, mtime), known from the listing


def scan_landing(
    root: str | Path,
    state: LandingState,
    *,
    stale_after: float = DEFAULT_STALE_AFTER_S,
    now: float | None = None,
    limit: int | None = None,
    deadline: float | None = None,
) -> tuple[list[LandedPackage], LandingState]:
    """One scan: the packages ready for pickup now (at most ``limit``), and the state for the next scan.

    The ready packages are already marked done in the returned state: the caller records them and
    then saves the state; if recording fails, the caller puts them back (``LandingState.put_back``)
    and they come up again. Ready packages past ``limit``, or not checked because ``deadline`` (a
    ``time.monotonic()`` value) passed, stay pending, still stable, and are picked up by the next scan.
    """
    tree = landing_tree(root)
    now = time.time() if now is None else now
    new = LandingState()
    ready: list[LandedPackage] = []
    picked = {entry[-1] for entry in state.done.values()}
    if not tree.is_dir():
        return ready, new
    for candidate in _candidates(tree):
        try:
            fingerprint, newest_mtime_ns, clean = tree.fingerprint(candidate)
        except OSError:  # vanished or unreadable mid-scan: look again next time
            continue
        done = state.done.get(candidate.relpath)
        if done is not None and done[:-1] == fingerprint:
            new.done[candidate.relpath] = done
            continue
        stable = state.pending.get(candidate.relpath) == fingerprint
        stale = now - newest_mtime_ns / 1e9 >= stale_after
        full = (limit is not None and len(ready) >= limit) or (deadline is not None and time.monotonic() >= deadline)
        if full or not stable or not ((clean and tree.complete(candidate)) or stale):
            new.pending[candidate.relpath] = fingerprint
            continue
        try:
            digest = tree.digest(candidate)
        except OSError:
            new.pending[candidate.relpath] = fingerprint
            continue
        new.done[candidate.relpath] = [*fingerprint, digest]
        if digest in picked:  # the same bytes under another name, or back after a rename
            continue
        picked.add(digest)
        ready.append(LandedPackage(tree.location(candidate.relpath), candidate.relpath, candidate.kind, digest,
                                   candidate.hint, tuple(fingerprint)))
    return ready, new


@contextlib.contextmanager
def local_copy(package: LandedPackage) -> Iterator[Path]:
    """The package as a local path, for ``filings.intake.receive_package``: itself when the landing folder
    is local, else a copy downloaded into a temporary folder (removed afterwards)."""
    if isinstance(package.path, Path):
        yield package.path
        return
    import fsspec

    fs, path = fsspec.core.url_to_fs(package.path)
    with tempfile.TemporaryDirectory(prefix="danbao-landing-") as tmp:
        target = Path(tmp) / PurePosixPath(package.relpath).name
        if package.kind == "zip":
            fs.get_file(path, str(target))
        else:
            prefix = path.rstrip("/") + "/"
            for member in sorted(fs.find(path)):
                local = target / member[len(prefix):]
                local.parent.mkdir(parents=True, exist_ok=True)
                fs.get_file(member, str(local))
        yield target


def is_temporary(name: str) -> bool:
    lowered = name.lower()
    return name.startswith((".", "~$")) or lowered.endswith(TEMPORARY_SUFFIXES)


def is_remote(location: str | Path) -> bool:
    """Whether ``location`` is an fsspec URL other than a local file (``file://`` and plain paths are local)."""
    text = str(location)
    return "://" in text and not text.startswith("file://")


def landing_tree(root: str | Path) -> _Tree:
    return _RemoteTree(str(root)) if is_remote(root) else _LocalTree(Path(str(root).removeprefix("file://")))


@dataclass(frozen=True)
class _Entry:
    name: str
    is_dir: bool
    fingerprint: tuple[int, int] | None  # (size, mtime_ns) of a file


class _Tree:
    """What a scan needs from where packages land."""

    def is_dir(self) -> bool: raise NotImplementedError
    def children(self, relpath: str) -> list[_Entry]: raise NotImplementedError
    def has_manifest(self, relpath: str) -> bool: raise NotImplementedError
    def folder_fingerprint(self, relpath: str) -> tuple[list[int], int, bool]: raise NotImplementedError
    def complete(self, candidate: _Candidate) -> bool: raise NotImplementedError
    def digest(self, candidate: _Candidate) -> str: raise NotImplementedError
    def location(self, relpath: str) -> Path | str: raise NotImplementedError

    def fingerprint(self, candidate: _Candidate) -> tuple[list[int], int, bool]:
        """(fingerprint, newest mtime in ns, no temporary files inside)."""
        if candidate.kind == "zip" and candidate.fingerprint is not None:
            return list(candidate.fingerprint), candidate.fingerprint[1], True
        return self.folder_fingerprint(candidate.relpath)


def _candidates(tree: _Tree) -> Iterator[_Candidate]:
    for entry in tree.children(""):
        if not entry.is_dir:
            if entry.name.lower().endswith(".zip"):
                yield _Candidate(entry.name, "zip", None, entry.fingerprint)
        elif not tree.has_manifest(entry.name) and is_uscc_shaped(entry.name):
            for inner in tree.children(entry.name):  # a guarantor's own drop folder
                relpath = f"{entry.name}/{inner.name}"
                if not inner.is_dir and inner.name.lower().endswith(".zip"):
                    yield _Candidate(relpath, "zip", entry.name, inner.fingerprint)
                elif inner.is_dir:
                    yield _Candidate(relpath, "folder", entry.name)
        else:
            yield _Candidate(entry.name, "folder", None)


class _LocalTree(_Tree):
    """A local folder: one ``os.scandir`` per folder listed (the entry type comes with the listing), a
    ``stat`` per candidate ZIP, a walk per candidate folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def is_dir(self) -> bool:
        return self.root.is_dir()

    def location(self, relpath: str) -> Path:
        return self.root / relpath

    def children(self, relpath: str) -> list[_Entry]:
        entries: list[_Entry] = []
        try:
            with os.scandir(self.root / relpath) as listing:
                for entry in listing:
                    if is_temporary(entry.name) or entry.is_symlink():
                        continue
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            entries.append(_Entry(entry.name, True, None))
                        elif entry.is_file(follow_symlinks=False) and entry.name.lower().endswith(".zip"):
                            st = entry.stat(follow_symlinks=False)
                            entries.append(_Entry(entry.name, False, (st.st_size, st.st_mtime_ns)))
                    except OSError:  # vanished mid-scan
                        continue
        except OSError:
            return []
        return sorted(entries, key=lambda e: e.name)

    def has_manifest(self, relpath: str) -> bool:
        return (self.root / relpath / MANIFEST).exists()

    def folder_fingerprint(self, relpath: str) -> tuple[list[int], int, bool]:
        folder = self.root / relpath
        count = size = newest = 0
        clean = True
        for path in folder.rglob("*"):
            if path.is_symlink() or (is_temporary(path.name) and path.name != ".DS_Store"):
                clean = False  # rsync and browsers write dot- or .part files until the upload is done
            if path.is_file():
                st = path.stat()
                count, size, newest = count + 1, size + st.st_size, max(newest, st.st_mtime_ns)
        newest = max(newest, folder.stat().st_mtime_ns)  # a file removed changes the folder's mtime
        return [count, size, newest], newest, clean

    def complete(self, candidate: _Candidate) -> bool:
        path = self.root / candidate.relpath
        if candidate.kind == "zip":
            try:
                return zipfile.is_zipfile(path)  # the central directory is written last
            except OSError:
                return False
        manifest = manifest_from_folder(path)
        files = manifest.get("files") if manifest else None
        if not isinstance(files, dict) or not files:
            return False
        try:
            root = path.resolve()
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

    def digest(self, candidate: _Candidate) -> str:
        path = self.root / candidate.relpath
        return sha256_file(path) if candidate.kind == "zip" else folder_sha256(path)


class _RemoteTree(_Tree):
    """A landing folder on any fsspec file system (``s3://…``, ``memory://…``): listed once per scan
    (``find``), read only for the packages that are ready. An object store has no symbolic links and no
    half-written objects (a put is whole); a folder package can still be half-uploaded, which the manifest
    check catches as on a local disk."""

    def __init__(self, url: str) -> None:
        import fsspec

        self.url = url.rstrip("/")
        self.fs, path = fsspec.core.url_to_fs(self.url)
        self.path = path.rstrip("/")
        self.fs.invalidate_cache(self.path)  # a scan must see what landed since the last one
        self._files: dict[str, tuple[int, int]] | None = None

    def files(self) -> dict[str, tuple[int, int]]:
        """Every object under the landing prefix: relative POSIX path → (size, mtime in ns)."""
        if self._files is None:
            prefix = self.path + "/"
            found = self.fs.find(self.path, detail=True) if self.fs.exists(self.path) else {}
            self._files = {name[len(prefix):]: (int(info.get("size") or 0), _mtime_ns(info))
                           for name, info in found.items() if name.startswith(prefix) and info.get("type") != "directory"}
        return self._files

    def is_dir(self) -> bool:
        return bool(self.files())

    def location(self, relpath: str) -> str:
        return f"{self.url}/{relpath}"

    def _under(self, relpath: str) -> dict[str, tuple[int, int]]:
        prefix = f"{relpath}/" if relpath else ""
        return {name[len(prefix):]: info for name, info in self.files().items() if name.startswith(prefix)}

    def children(self, relpath: str) -> list[_Entry]:
        entries: dict[str, _Entry] = {}
        for name, info in self._under(relpath).items():
            head, _, rest = name.partition("/")
            if is_temporary(head):
                continue
            if rest:
                entries.setdefault(head, _Entry(head, True, None))
            elif head.lower().endswith(".zip"):
                entries[head] = _Entry(head, False, info)
        return sorted(entries.values(), key=lambda e: e.name)

    def has_manifest(self, relpath: str) -> bool:
        return f"{relpath}/{MANIFEST}" in self.files()

    def folder_fingerprint(self, relpath: str) -> tuple[list[int], int, bool]:
        members = self._under(relpath)
        if not members:
            raise FileNotFoundError(relpath)
        clean = not any(is_temporary(part) and part != ".DS_Store" for name in members for part in name.split("/"))
        newest = max(mtime for _, mtime in members.values())
        return [len(members), sum(size for size, _ in members.values()), newest], newest, clean

    def _full(self, relpath: str) -> str:
        return f"{self.path}/{relpath}"

    def _sha256(self, relpath: str) -> str:
        digest = hashlib.sha256()
        with self.fs.open(self._full(relpath), "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def complete(self, candidate: _Candidate) -> bool:
        if candidate.kind == "zip":
            return True  # an object appears whole, or not at all
        try:
            manifest = parse_manifest(self.fs.cat_file(self._full(f"{candidate.relpath}/{MANIFEST}")))
        except (OSError, ValueError):  # ManifestError is a ValueError
            return False
        files = manifest.get("files") if manifest else None
        if not isinstance(files, dict) or not files:
            return False
        members = self._under(candidate.relpath)
        for entry in files.values():
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or path_problem(entry["path"]):
                return True  # complete but wrong: FMT-001 is the finding, not a wait
            member = PurePosixPath(entry["path"]).as_posix()
            if member not in members:
                return False
            expected = entry.get("sha256")
            try:
                if isinstance(expected, str) and self._sha256(f"{candidate.relpath}/{member}") != expected.strip().lower():
                    return False
            except OSError:
                return False
        return True

    def digest(self, candidate: _Candidate) -> str:
        if candidate.kind == "zip":
            return self._sha256(candidate.relpath)
        digest = hashlib.sha256()  # as connectors.intake.receive.folder_sha256 computes it on a local copy
        for name in sorted(self._under(candidate.relpath)):
            digest.update(f"{name}\0{self._sha256(f'{candidate.relpath}/{name}')}\n".encode())
        return digest.hexdigest()


def _mtime_ns(info: dict[str, Any]) -> int:
    """An object's modification time in ns from an fsspec listing (``LastModified`` on S3, ``mtime`` on a
    local disk, ``created`` in memory); 0 when the file system gives none."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if value is None:
            continue
        if hasattr(value, "timestamp"):
            return int(value.timestamp() * 1e9)
        try:
            return int(float(value) * 1e9)
        except (TypeError, ValueError):
            continue
    return 0


def copy_tree(source: Path, url: str) -> None:
    """Upload a local package (ZIP or folder) to ``url`` (tests, and a front end dropping packages)."""
    import fsspec

    fs, path = fsspec.core.url_to_fs(url)
    if source.is_dir():
        for member in sorted(p for p in source.rglob("*") if p.is_file()):
            fs.put_file(str(member), f"{path}/{member.relative_to(source).as_posix()}")
    else:
        fs.put_file(str(source), path)

