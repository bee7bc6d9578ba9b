"""Serialising a table of strings as the file formats guarantors send (filing-template.md §1).

Each writer returns bytes, so that the package writer can hash exactly what it writes.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FORMATS = ("csv", "csv-gbk", "csv-bom", "xlsx", "parquet")
EXTENSIONS = {"csv": ".csv", "csv-gbk": ".csv", "csv-bom": ".csv", "xlsx": ".xlsx", "parquet": ".parquet"}
UTF8_BOM = b"\xef\xbb\xbf"


def csv_bytes(table: pa.Table, prefix: bytes = b"") -> memoryview:
    """UTF-8 CSV via pyarrow, unquoted like the shared samples unless a value needs quotes (RFC 4180).

    Returns a view of Arrow's buffer rather than ``bytes``: a million-row file is then held once, not twice.
    """
    header = (",".join(table.column_names) + "\n").encode()
    if not any(c in name for name in table.column_names for c in ',"\r\n'):
        try:
            return _write_csv(table, prefix + header, pacsv.WriteOptions(include_header=False, quoting_style="none"))
        except pa.ArrowInvalid:  # a value holds a comma, quote or line break
            pass
    return _write_csv(table, prefix, pacsv.WriteOptions(quoting_style="needed"))


def _write_csv(table: pa.Table, head: bytes, options: pacsv.WriteOptions) -> memoryview:
    sink = pa.BufferOutputStream()
    sink.write(head)
    pacsv.write_csv(table, sink, options)
    return memoryview(sink.getvalue())


def xlsx_bytes(table: pa.Table) -> bytes:
    """First (only) sheet, header in row 1, every value a text cell; empty strings become empty cells.

    Text cells keep what a guarantor means (``0111`` stays ``0111``, amounts keep their two decimals);
    write-only mode streams rows instead of building the sheet in memory.
    """
    import openpyxl  # only XLSX output pays for the import

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(table.column_names)
    for batch in table.to_batches(max_chunksize=65_536):
        columns = [column.to_pylist() for column in batch.columns]
        for row in zip(*columns, strict=True):
            sheet.append([value if value != "" else None for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def parquet_bytes(table: pa.Table) -> memoryview:
    """Parquet with the table's own (string) schema."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return memoryview(sink.getvalue())


def encode(table: pa.Table, fmt: str) -> bytes | memoryview:
    """The bytes of ``table`` as one of ``FORMATS``; ``csv-gbk`` is GB18030 (a superset of GBK)."""
    if fmt == "csv":
        return csv_bytes(table)
    if fmt == "csv-bom":
        return csv_bytes(table, UTF8_BOM)
    if fmt == "csv-gbk":
        return bytes(csv_bytes(table)).decode("utf-8").encode("gb18030")
    if fmt == "xlsx":
        return xlsx_bytes(table)
    if fmt == "parquet":
        return parquet_bytes(table)
    raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
