"""A file's bytes mapped into memory under a read lease, for readers that must not copy them.

Reading a 277 MB ledger into memory of its own costs the process a quarter of a gigabyte of fresh pages
(the kernel zeroes each one, then copies the page cache into it); mapping the file reads the page cache
in place. But a mapped file that another process truncates kills the reader with SIGBUS at its next
access. So a file is mapped only under a Linux read lease (``fcntl(F_SETLEASE, F_RDLCK)``): while the
lease is held, a process that opens the file for writing or truncates it waits until the reading is
over and the lease released (at most the kernel's lease-break time, ``/proc/sys/fs/lease-break-time``,
45 s by default: far longer than a read). The kernel grants no lease when the file is already open for
writing anywhere, is not the process's own, or lives on a file system without leases; the caller then
reads the file as before. The kernel's notice that a writer waits is SIGURG here, which a process
ignores by default (SIGIO, the default notice, would end it).
"""

from __future__ import annotations

import os

import pyarrow as pa

from connectors.hash_ahead import Identity, give_back, open_leased


class LeasedMap:
    """The mapped bytes of one file (``buffer``) and the lease that keeps writers away from them; the
    lease is given back by :meth:`release`, once nothing reads the bytes any more."""

    def __init__(self, descriptor: int, buffer: pa.Buffer) -> None:
        self._descriptor: int | None = descriptor
        self.buffer: pa.Buffer | None = buffer
        self.identity: Identity | None = None  # the file mapped: device, inode, size

    def take(self) -> pa.Buffer:
        """The bytes, which this object then no longer holds: the mapping goes as soon as the reader
        drops them (a GB18030 file's own bytes, once transcoded), while the lease stays."""
        buffer, self.buffer = self.buffer, None
        if buffer is None:
            raise RuntimeError("the mapped bytes were taken already")
        return buffer

    def release(self) -> None:
        """Drop this object's reference to the bytes and give the lease back (a waiting writer goes on)."""
        self.buffer = None
        if self._descriptor is not None:
            descriptor, self._descriptor = self._descriptor, None
            give_back(descriptor)


def map_leased(path: str | os.PathLike[str], size: int) -> LeasedMap | None:
    """The file's ``size`` bytes mapped under a read lease, or None when no lease is granted, the file
    is not that long, or the path no longer names the file leased (the caller then reads it)."""
    descriptor = open_leased(path) if size > 0 else None
    if descriptor is None:
        return None
    leased = LeasedMap(descriptor, pa.py_buffer(b""))
    try:
        mapped = pa.memory_map(os.fspath(path), "r")
        try:
            ours, theirs = os.fstat(descriptor), os.fstat(mapped.fileno())
            if (ours.st_dev, ours.st_ino) != (theirs.st_dev, theirs.st_ino) or ours.st_size != size:
                leased.release()  # replaced, grown or shrunk since it was listed
                return None
            leased.buffer = mapped.read_buffer(size)  # the mapping lives on with the buffer
            leased.identity = (ours.st_dev, ours.st_ino, ours.st_size)
        finally:
            mapped.close()
    except (OSError, pa.ArrowException):
        leased.release()
        return None
    return leased
