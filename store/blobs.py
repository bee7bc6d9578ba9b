"""Append-only, content-addressed storage for the packages guarantors file.

"Nothing filed is ever deleted or overwritten" (filing-template.md §1): a blob's key is the SHA-256 of
its bytes, a blob is published by hard-linking a finished temporary file into place (which fails,
rather than replaces, if the key exists), and published files are read-only (0400, in 0700
directories: a package holds resident ID numbers, so only the store's owner reads it).

``root`` may also be any fsspec URL (``s3://bucket/blobs``), so that workers on several hosts share one
store (``RemoteBlobStore``). There the same key is written with a conditional create (S3's
``If-None-Match: *``, through s3fs' ``mode="create"``), which an object store refuses, rather than
performs, when the key exists; file systems without one fall back to check-then-put, where only a
concurrent put of the *same* bytes (same key) can slip in. Reads check the bytes against the key.
What an object store cannot do is make an object read-only: that is the bucket's policy (deny
``DeleteObject`` and overwrites to the workers' role, or S3 Object Lock), see docs/pipeline.md.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from store.config import danbao_home, private_dir

_KEY = re.compile(r"sha256/([0-9a-f]{2})/([0-9a-f]{64})")
_CHUNK = 1 << 20
# Marks a folder index so that it can be told from a filed blob that happens to be JSON.
_FOLDER_FORMAT = "danbao.folder/1"
#: Blobs are read-only, and readable by the store's owner only (directories are 0700, store.config).
BLOB_MODE = 0o400
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK}


class BlobError(Exception):
    """The blob store is not in the state its contract promises."""


class BlobCorruptedError(BlobError):
    """A stored blob's bytes no longer match its key."""


def blob_key(digest: str) -> str:
    return f"sha256/{digest[:2]}/{digest}"


def is_remote(location: str | Path) -> bool:
    """An fsspec URL other than a local file (``file://`` and plain paths are local folders)."""
    text = str(location)
    return "://" in text and not text.startswith("file://")


class BlobStore:
    """Blobs under ``root`` (default ``$DANBAO_HOME/blobs``), keyed ``sha256/ab/<hex>``.

    ``BlobStore("s3://…")`` (any remote fsspec URL) is a ``RemoteBlobStore``, so that every door that
    opens the store by its configured location works on shared storage unchanged."""

    def __new__(cls, root: Path | str | None = None) -> BlobStore:
        if cls is BlobStore and root is not None and is_remote(root):
            return super().__new__(RemoteBlobStore)
        return super().__new__(cls)

    def __init__(self, root: Path | str | None = None) -> None:
        if root is not None and str(root).startswith("file://"):
            root = str(root).removeprefix("file://")
        self.root = private_dir(Path(root) if root is not None else danbao_home() / "blobs")

    @property
    def location(self) -> str:
        """Where the blobs are: an absolute folder, or the URL."""
        return str(self.root.resolve())

    # -- writing ---------------------------------------------------------------------------------

    def put(self, data: bytes) -> str:
        """Store ``data``; returns its key. Storing the same bytes again is a no-op."""
        key = blob_key(hashlib.sha256(data).hexdigest())
        existing = self.root / key
        if existing.exists():
            self._check_existing(key, existing, len(data))
            return key
        return self._put_stream(_iter_bytes(data))

    def put_file(self, path: Path | str) -> str:
        """Store a file's bytes, streaming (a package may be larger than memory should hold)."""
        with open(path, "rb") as source:
            return self._put_stream(_iter_file(source))

    def put_folder(self, path: Path | str) -> str:
        """Store every regular file under ``path`` as a blob, then a JSON index blob mapping each
        POSIX relative path to its blob's key; returns the index's key.

        Symbolic links are refused: following them could file bytes from outside the package.
        The index is canonical JSON, so the same folder always yields the same key.
        """
        folder = Path(path)
        if not folder.is_dir():
            raise NotADirectoryError(f"not a folder: {folder}")
        files: dict[str, str] = {}
        for current, dirnames, filenames in os.walk(folder):
            dirnames.sort()
            here = Path(current)
            for name in [*dirnames, *filenames]:
                if (here / name).is_symlink():
                    raise ValueError(f"{here / name} is a symbolic link; packages may hold only files")
            for name in sorted(filenames):
                file_path = here / name
                if not file_path.is_file():
                    raise ValueError(f"{file_path} is not a regular file")
                files[file_path.relative_to(folder).as_posix()] = self.put_file(file_path)
        index = {"format": _FOLDER_FORMAT, "files": dict(sorted(files.items()))}
        return self.put(json.dumps(index, ensure_ascii=False, sort_keys=True).encode("utf-8"))

    def _put_stream(self, chunks: Iterator[bytes | memoryview]) -> str:
        fd, tmp_name = tempfile.mkstemp(prefix=".incoming-", dir=self.root)
        tmp = Path(tmp_name)
        try:
            digest = hashlib.sha256()
            size = 0
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            key = blob_key(digest.hexdigest())
            final = self.root / key
            if final.exists():
                self._check_existing(key, final, size)
                return key
            private_dir(final.parent)
            os.chmod(tmp, BLOB_MODE)  # read-only from the moment it is visible under its key
            try:
                os.link(tmp, final)  # atomic, and never replaces an existing file
            except FileExistsError:
                self._check_existing(key, final, size)  # stored concurrently by someone else
                return key
            except OSError as exc:
                if exc.errno not in _NO_HARD_LINKS:
                    raise
                # A file system without hard links: rename, after checking that the key is free.
                # Only a concurrent put of the *same* bytes can slip in between, so a lost race
                # replaces a blob with identical content.
                if final.exists():
                    self._check_existing(key, final, size)
                    return key
                os.rename(tmp, final)
            _fsync_dir(final.parent)
            return key
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    @staticmethod
    def _check_existing(key: str, path: Path, size: int) -> None:
        # A cheap check only: re-hashing every duplicate would cost a full read per re-upload.
        if path.stat().st_size != size:
            raise BlobCorruptedError(f"blob {key} exists with a different size; refusing to overwrite it")

    # -- reading ---------------------------------------------------------------------------------

    def open_path(self, key: str) -> Path:
        """The file holding blob ``key`` (read-only: never write through it)."""
        path = self.root / _check_key(key)
        if not path.is_file():
            raise FileNotFoundError(f"no blob {key} in {self.root}")
        return path

    def exists(self, key: str) -> bool:
        return (self.root / _check_key(key)).is_file()

    def get(self, key: str) -> bytes:
        """Blob ``key``'s bytes, checked against the key (a regulator's copy must be the filed one)."""
        data = self._read(key)
        if hashlib.sha256(data).hexdigest() != key.rsplit("/", 1)[1]:
            raise BlobCorruptedError(f"blob {key} does not match its hash")
        return data

    def _read(self, key: str) -> bytes:
        return self.open_path(key).read_bytes()

    def _head(self, key: str) -> bytes:
        with open(self.open_path(key), "rb") as f:
            return f.read(64)

    def is_folder(self, key: str) -> bool:
        """Whether ``key`` is a folder index made by :meth:`put_folder`."""
        head = self._head(key)
        if not head.lstrip().startswith(b"{"):
            return False
        try:
            self.folder_index(key)
        except ValueError:
            return False
        return True

    def folder_index(self, key: str) -> dict[str, str]:
        """The relative path → blob key mapping of a folder stored by :meth:`put_folder`."""
        try:
            index = json.loads(self.get(key))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"blob {key} is not a folder index") from exc
        if not isinstance(index, dict) or index.get("format") != _FOLDER_FORMAT:
            raise ValueError(f"blob {key} is not a folder index")
        files = index["files"]
        for rel, file_key in files.items():
            pure = PurePosixPath(rel)
            if pure.is_absolute() or ".." in pure.parts:
                raise ValueError(f"folder index {key} holds an unsafe path {rel!r}")
            _check_key(file_key)
        return files

    def restore_folder(self, key: str, destination: Path | str) -> Path:
        """Write the folder stored under ``key`` into the (new or empty) ``destination``, byte for byte."""
        dest = Path(destination)
        dest.mkdir(parents=True, exist_ok=True)
        if any(dest.iterdir()):
            raise FileExistsError(f"{dest} is not empty")
        for rel, file_key in self.folder_index(key).items():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.get(file_key))
        return dest


class RemoteBlobStore(BlobStore):
    """Blobs on any fsspec file system (``s3://bucket/blobs``, ``memory://…``), keyed as locally.

    A put hashes first (streaming from a file), so the key is known before anything is sent; it then
    creates the object only if the key is free (conditional create), and a key already there must
    have the same size. Nothing is ever replaced or deleted through this class."""

    def __init__(self, root: Path | str | None = None) -> None:
        import fsspec

        self.url = str(root).rstrip("/")
        self.fs, path = fsspec.core.url_to_fs(self.url)
        self.base = path.rstrip("/")

    @property
    def location(self) -> str:
        return self.url

    def _full(self, key: str) -> str:
        return f"{self.base}/{_check_key(key)}"

    def put(self, data: bytes) -> str:
        key = blob_key(hashlib.sha256(data).hexdigest())
        full = self._full(key)
        if self._present(key, full, len(data)):
            return key
        try:
            self.fs.pipe_file(full, bytes(data), mode="create")
        except FileExistsError:
            self._present(key, full, len(data))  # stored concurrently by someone else: must be the same
        return key

    def put_file(self, path: Path | str) -> str:
        digest, size = hashlib.sha256(), 0
        with open(path, "rb") as source:
            for chunk in _iter_file(source):
                digest.update(chunk)
                size += len(chunk)
        key = blob_key(digest.hexdigest())
        full = self._full(key)
        if self._present(key, full, size):
            return key
        try:
            self.fs.put_file(str(path), full, mode="create")
        except FileExistsError:
            self._present(key, full, size)
        except TypeError:  # a file system whose put_file takes no mode: check-then-put (same key, same bytes)
            with open(path, "rb") as source:
                self.fs.pipe_file(full, source.read(), mode="create")
        if self.fs.size(full) != size:  # the file changed while it was sent: never keep it under this key
            raise BlobCorruptedError(f"{path} changed while it was stored as {key}")
        return key

    def _present(self, key: str, full: str, size: int) -> bool:
        try:
            stored = self.fs.size(full)
        except FileNotFoundError:
            return False
        if stored != size:
            raise BlobCorruptedError(f"blob {key} exists with a different size; refusing to overwrite it")
        return True

    def open_path(self, key: str) -> Path:
        raise BlobError(f"blob {key} is in {self.url}, not a local file: read it with get()")

    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(self._full(key)))

    def _read(self, key: str) -> bytes:
        try:
            return self.fs.cat_file(self._full(key))
        except FileNotFoundError:
            raise FileNotFoundError(f"no blob {key} in {self.url}") from None

    def _head(self, key: str) -> bytes:
        with self.fs.open(self._full(key), "rb") as f:
            return f.read(64)


def _check_key(key: str) -> str:
    match = _KEY.fullmatch(key)
    if match is None or not match.group(2).startswith(match.group(1)):
        raise ValueError(f"not a blob key: {key!r}")
    return key


def _iter_bytes(data: bytes) -> Iterator[bytes | memoryview]:
    view = memoryview(data)
    for start in range(0, len(view), _CHUNK):
        yield view[start : start + _CHUNK]


def _iter_file(source: BinaryIO) -> Iterator[bytes | memoryview]:
    while chunk := source.read(_CHUNK):
        yield chunk


def _fsync_dir(path: Path) -> None:
    """Make the new directory entry durable (the blob's bytes were synced before linking)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
