"""What Arrow reads from: a path Arrow opens itself, or memory Arrow allocated; never a Python object.

pyarrow's readers (Parquet through its dataset scanner, CSV) finish part of their work on Arrow's own
thread pools after they have returned: the last reference to the source (the parquet ``FileReader`` and
the file it wraps, the CSV input stream) is often dropped there, a few milliseconds later. When that
source wraps a Python object (a file object, ``io.BytesIO``, ``bytes`` behind ``pa.py_buffer`` or
``pa.BufferReader``), dropping it takes the GIL (``arrow::py::OwnedRefNoGIL``, ``PyBuffer``). If the
interpreter is finalizing by then, Python 3.11 ends that Arrow worker thread with ``pthread_exit`` from
inside the destructor, which is ``noexcept``: ``std::terminate``, "terminate called without an active
exception", SIGABRT and exit -6 after the program has printed its last line (apache/arrow#33975,
#34314). Handing Arrow only paths and Arrow-owned buffers leaves nothing that needs the GIL in that
late clean-up, so it can happen whenever it likes.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.csv as pacsv

if TYPE_CHECKING:
    import pyarrow.parquet as pq


def owned_buffer(data: bytes | bytearray | memoryview) -> pa.Buffer:
    """A copy of ``data`` in memory Arrow allocated (one ``memcpy``): releasing it, on whichever thread,
    never touches Python. From Arrow's system allocator, as :func:`read_file_buffer`'s: a large block
    goes back to the system once freed, and its first touch costs a quarter of the default pool's
    (0.72 s against ≈ 0.18 s for the 277 MB of a transcoded million-row ledger)."""
    source = memoryview(data).cast("B")
    buffer = pa.allocate_buffer(source.nbytes, memory_pool=pa.system_memory_pool())
    if source.nbytes:
        with memoryview(buffer).cast("B") as target:
            target[:] = source
    source.release()
    return buffer


def parquet_schema(source: bytes | bytearray | memoryview | str | os.PathLike[str]) -> pa.Schema:
    """The schema of a Parquet file, from the same kinds of source as :func:`read_parquet`."""
    import pyarrow.parquet as pq  # not on the path of a CSV or XLSX package

    if isinstance(source, (str, os.PathLike)):
        return pq.read_schema(os.fspath(source))
    return pq.read_schema(pa.BufferReader(owned_buffer(source)))


def read_parquet(source: bytes | bytearray | memoryview | str | os.PathLike[str], **options) -> pa.Table:
    """``pq.read_table`` of a local path (Arrow opens the file) or of bytes (copied into Arrow memory)."""
    import pyarrow.parquet as pq

    if isinstance(source, (str, os.PathLike)):
        return pq.read_table(os.fspath(source), **options)
    return pq.read_table(pa.BufferReader(owned_buffer(source)), **options)


def parquet_file(source: bytes | bytearray | memoryview, **options) -> pq.ParquetFile:
    """A ``pq.ParquetFile`` over a copy of ``source`` in Arrow memory: metadata first, row groups on demand."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(pa.BufferReader(owned_buffer(source)), **options)


def read_csv(data: bytes | bytearray | memoryview | pa.Buffer, **options) -> pa.Table:
    """``pacsv.read_csv`` of bytes, copied into Arrow memory first, or of a buffer from
    :func:`read_file_buffer` (already Arrow's: no copy)."""
    source = data if isinstance(data, pa.Buffer) else owned_buffer(data)
    return pacsv.read_csv(pa.BufferReader(source), **options)


def read_file_buffer(path: str | os.PathLike[str], size: int) -> pa.Buffer | None:
    """A file's ``size`` bytes read straight into memory Arrow allocated, for readers that then need no
    copy; None when the file does not hold exactly ``size`` bytes (the caller reads it its own way).

    The buffer comes from Arrow's system allocator, which hands a block this large back to the system
    when it is freed: the file's bytes are not kept once parsed. (On the machines measured, the first
    touch of a fresh 277 MB block also cost 0.73–0.88 s through Arrow's default mimalloc pool against
    0.18–0.19 s through the system allocator.) A large file is read as two halves on two threads: the
    copy from the page cache and the first touch of each page are the kernel's work, on both cores."""
    buffer = pa.allocate_buffer(size, memory_pool=pa.system_memory_pool())
    with open(path, "rb") as handle, memoryview(buffer).cast("B") as target:
        fd = handle.fileno()
        half = size // 2 if size >= _SPLIT_READ else size
        second: list[bool | BaseException] = []

        def read_second_half() -> None:
            try:
                second.append(_read_into(fd, target, half, size))
            except BaseException as exc:  # raised on the caller's thread below
                second.append(exc)

        helper = threading.Thread(target=read_second_half, daemon=True) if half < size else None
        if helper is not None:
            helper.start()
        try:
            complete = _read_into(fd, target, 0, half)
        finally:
            if helper is not None:
                helper.join()
        if helper is not None:
            if isinstance(second[0], BaseException):
                raise second[0]
            complete = complete and second[0]
        if not complete or os.pread(fd, 1, size):
            return None
    return buffer


_SPLIT_READ = 64 << 20  # from this size a file is read on two threads


def _read_into(fd: int, target: memoryview, start: int, stop: int) -> bool:
    """Fill ``target[start:stop]`` from the file's same offsets; False when the file ends first."""
    filled = start
    while filled < stop:
        with target[filled:stop] as part:
            n = os.preadv(fd, [part], filled)
        if not n:
            return False
        filled += n
    return True
