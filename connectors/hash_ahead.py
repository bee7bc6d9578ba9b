"""The large files of a package folder hashed ahead, while the process is still importing its libraries.

A `danbao check` spends its first fifth of a second importing pyarrow, numpy, pydantic and the rules on
one core while the other has nothing to do, then reads the package on both: Arrow's parse on two
threads, the SHA-256 of every file (FMT-002) on a third. Started before those imports, the hashes are
done, or nearly, when the reading starts, and the parse has both cores (a million-row ledger: the
check ≈ 0.1 s shorter, the time a core spent hashing during the parse).

Only the standard library is used here, since this runs before pyarrow is imported. Each file is held
under a read lease (``connectors.leased_map``, which takes it the same way), so that no process can
write or truncate it from the moment it is hashed until the package has been read: the bytes hashed
are the bytes parsed. The reader asks for a file's hash by its path and identity (device, inode, size);
a file that was replaced meanwhile, or was not hashed ahead, is hashed as it is read, as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import signal
import stat
import threading
from concurrent.futures import Future
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: nothing is hashed ahead
    fcntl = None  # type: ignore[assignment]

SMALLEST = 1 << 20  # smaller files cost less to hash than to hand over
LARGEST_PACKAGE = 1 << 30  # a folder larger than this (the default intake limit) is not hashed ahead
MOST_ENTRIES = 256  # nor one with more files and folders than this

Identity = tuple[int, int, int]  # st_dev, st_ino, st_size


def take_read_lease(descriptor: int) -> bool:
    """A read lease on an open file (Linux ``F_SETLEASE``): until it is given back, a process that opens
    the file for writing or truncates it waits (at most ``/proc/sys/fs/lease-break-time``, 45 s by
    default). The kernel's notice that one waits is SIGURG, which a process ignores. False when no
    lease is granted: the file is open for writing somewhere, is not the process's own, or lives on a
    file system without leases."""
    if fcntl is None or not hasattr(fcntl, "F_SETLEASE"):
        return False
    try:
        fcntl.fcntl(descriptor, fcntl.F_SETSIG, signal.SIGURG)
        fcntl.fcntl(descriptor, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    except OSError:
        return False
    return True


def open_leased(path: str | os.PathLike[str]) -> int | None:
    """A file opened for reading (not through a symbolic link) under a read lease; None when it cannot
    be opened or no lease is granted."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    if not take_read_lease(descriptor):
        os.close(descriptor)
        return None
    return descriptor


def give_back(descriptor: int) -> None:
    """Give a read lease back (a waiting writer goes on) and close the file."""
    if fcntl is not None and hasattr(fcntl, "F_SETLEASE"):
        with contextlib.suppress(OSError):
            fcntl.fcntl(descriptor, fcntl.F_SETLEASE, fcntl.F_UNLCK)
    os.close(descriptor)


class _Held:
    """One file: its descriptor (holding the lease), its identity and its hash to come."""

    def __init__(self, descriptor: int, identity: Identity) -> None:
        self.descriptor = descriptor
        self.identity = identity
        self.digest: Future[str] = Future()


class HashedAhead:
    """The SHA-256s of a folder's large files, computed on one thread from the moment it is made."""

    def __init__(self, held: dict[str, _Held]) -> None:
        self._held = held
        self._lock = threading.Lock()
        threading.Thread(target=self._hash_all, name="hash-ahead", daemon=True).start()

    def _hash_all(self) -> None:
        for file in list(self._held.values()):
            try:
                file.digest.set_result(_sha256(file.descriptor, file.identity[2]))
            except BaseException as exc:  # an I/O error: the reader reports the file as unreadable
                file.digest.set_exception(exc)

    def digest(self, path: str | os.PathLike[str], identity: Identity) -> Future[str] | None:
        """The hash to come of the file at ``path`` if it is the file hashed ahead (same device, inode
        and size, under a lease held since), else None."""
        with self._lock:
            file = self._held.get(os.path.realpath(path))
        if file is None or file.identity != identity:
            return None
        return file.digest

    def release(self) -> None:
        """Give every lease back, once the hashes are done (a hash still reading a file finishes first)."""
        with self._lock:
            held, self._held = self._held, {}
        for file in held.values():
            with contextlib.suppress(Exception):
                file.digest.exception()  # waits for the hash
            give_back(file.descriptor)


_current: HashedAhead | None = None


def start(folder: str | os.PathLike[str]) -> HashedAhead | None:
    """Start hashing the large regular files under ``folder`` (not following links), each under a read
    lease; None when there is nothing to hash ahead, the folder is larger than :data:`LARGEST_PACKAGE`,
    or this system grants no lease. The reader of this process finds it with :func:`current`."""
    global _current
    if fcntl is None or not hasattr(fcntl, "F_SETLEASE"):
        return None
    files = _large_files(Path(folder))
    if not files or sum(size for _, size in files) > LARGEST_PACKAGE:
        return None
    held: dict[str, _Held] = {}
    for path, size in files:
        leased = _leased(path, size)
        if leased is not None:
            held[os.path.realpath(path)] = leased
    if not held:
        return None
    _current = HashedAhead(held)
    return _current


def current() -> HashedAhead | None:
    return _current


def stop() -> None:
    """Give back the leases of the files hashed ahead (the reader calls it once the package is read)."""
    global _current
    ahead, _current = _current, None
    if ahead is not None:
        ahead.release()


def _sha256(descriptor: int, size: int) -> str:
    """The SHA-256 of a file's ``size`` bytes: mapped (hashlib then reads the page cache in place,
    without the interpreter's lock), or read in pieces where it cannot be mapped."""
    try:
        with mmap.mmap(descriptor, size, access=mmap.ACCESS_READ) as mapped:
            return hashlib.sha256(mapped).hexdigest()
    except (OSError, ValueError):
        digest, offset = hashlib.sha256(), 0
        while offset < size:
            piece = os.pread(descriptor, min(1 << 22, size - offset), offset)
            if not piece:
                raise OSError(f"the file ended at {offset} of {size} bytes") from None
            digest.update(piece)
            offset += len(piece)
        return digest.hexdigest()


def _large_files(folder: Path) -> list[tuple[Path, int]]:
    """The regular files of at least :data:`SMALLEST` bytes under ``folder``, with their sizes; none when
    it holds more than :data:`MOST_ENTRIES` entries (a package holds a manifest and a few data files: a
    folder like that is no package, and walking it would delay the command) or cannot be walked."""
    found: list[tuple[Path, int]] = []
    entries = 0
    try:
        for current_dir, directories, names in os.walk(folder, followlinks=False):
            entries += len(directories) + len(names)
            if entries > MOST_ENTRIES:
                return []
            for name in names:
                path = Path(current_dir) / name
                st = path.lstat()
                if stat.S_ISREG(st.st_mode) and st.st_size >= SMALLEST:
                    found.append((path, st.st_size))
    except OSError:
        return []
    return found


def _leased(path: Path, size: int) -> _Held | None:
    descriptor = open_leased(path)
    if descriptor is None:
        return None
    st = os.fstat(descriptor)  # under the lease: what is hashed is what the file holds until it is given back
    if not stat.S_ISREG(st.st_mode) or st.st_size != size:
        give_back(descriptor)
        return None
    return _Held(descriptor, (st.st_dev, st.st_ino, st.st_size))
