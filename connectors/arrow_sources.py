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

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def owned_buffer(data: bytes | bytearray | memoryview) -> pa.Buffer:
    """A copy of ``data`` in memory Arrow allocated (one ``memcpy``; ≈ 0.05 s for 200 MB): releasing it,
    on whichever thread, never touches Python."""
    source = memoryview(data).cast("B")
    buffer = pa.allocate_buffer(source.nbytes)
    if source.nbytes:
        with memoryview(buffer).cast("B") as target:
            target[:] = source
    source.release()
    return buffer


def parquet_schema(source: bytes | bytearray | memoryview | str | os.PathLike[str]) -> pa.Schema:
    """The schema of a Parquet file, from the same kinds of source as :func:`read_parquet`."""
    if isinstance(source, (str, os.PathLike)):
        return pq.read_schema(os.fspath(source))
    return pq.read_schema(pa.BufferReader(owned_buffer(source)))


def read_parquet(source: bytes | bytearray | memoryview | str | os.PathLike[str], **options) -> pa.Table:
    """``pq.read_table`` of a local path (Arrow opens the file) or of bytes (copied into Arrow memory)."""
    if isinstance(source, (str, os.PathLike)):
        return pq.read_table(os.fspath(source), **options)
    return pq.read_table(pa.BufferReader(owned_buffer(source)), **options)


def parquet_file(source: bytes | bytearray | memoryview, **options) -> pq.ParquetFile:
    """A ``pq.ParquetFile`` over a copy of ``source`` in Arrow memory: metadata first, row groups on demand."""
    return pq.ParquetFile(pa.BufferReader(owned_buffer(source)), **options)


def read_csv(data: bytes | bytearray | memoryview, **options) -> pa.Table:
    """``pacsv.read_csv`` of bytes, copied into Arrow memory first."""
    return pacsv.read_csv(pa.BufferReader(owned_buffer(data)), **options)
