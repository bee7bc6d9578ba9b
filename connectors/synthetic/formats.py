"""Serialising a table of strings as the file formats guarantors send (filing-template.md §1).

Each writer returns bytes, so that the package writer can hash exactly what it writes.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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

    Text cells keep what a guarantor means (``0111`` stays ``0111``, amounts keep their two decimals).
    The sheet is written column-wise with Arrow (``_sheet_xml``), as the inline-string cells openpyxl's
    write-only mode writes, but without a Python call per cell (openpyxl took minutes for 300,000 rows);
    text XML 1.0 cannot hold (control characters) goes through openpyxl, which refuses it as Excel would.
    """
    sheet = _sheet_xml(table)
    if sheet is None:
        return _openpyxl_xlsx(table)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, data in [*_PARTS, ("xl/worksheets/sheet1.xml", sheet)]:
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


_ZIP_TIME = (2026, 1, 1, 0, 0, 0)  # fixed, so that a seed gives the same bytes
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_PARTS = [(name, (_DECL + xml).encode()) for name, xml in [
    ("[Content_Types].xml",
     '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
     '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
     '<Default Extension="xml" ContentType="application/xml"/>'
     '<Override PartName="/xl/workbook.xml" '
     'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
     '<Override PartName="/xl/worksheets/sheet1.xml" '
     'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
     '<Override PartName="/xl/styles.xml" '
     'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'),
    ("_rels/.rels",
     f'<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" Type="{_REL}/officeDocument" '
     'Target="xl/workbook.xml"/></Relationships>'),
    ("xl/workbook.xml",
     f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets><sheet name="Sheet" sheetId="1" r:id="rId1"/>'
     "</sheets></workbook>"),
    ("xl/_rels/workbook.xml.rels",
     f'<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" Type="{_REL}/worksheet" '
     f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>'
     "</Relationships>"),
    ("xl/styles.xml",
     f'<styleSheet xmlns="{_MAIN}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
     '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
     '</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
     '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
     '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
     '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
]]


def _column_letters(index: int) -> str:
    letters, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _sheet_xml(table: pa.Table) -> bytes | None:
    """The worksheet XML, built column-wise: each cell is a string of the Arrow kernels' joining, each
    row their join, and the rows are the values buffer of that array as it stands. None when a value
    holds a character XML 1.0 cannot."""
    header = pa.Table.from_arrays([pa.array([n], pa.string()) for n in table.column_names], names=table.column_names)
    pieces = [_DECL.encode(), f'<worksheet xmlns="{_MAIN}"><sheetData>'.encode()]
    for start, part in ((1, header), (2, table)):
        for batch in part.to_batches(max_chunksize=65_536):
            rows = _rows_xml(batch, start)
            if rows is None:
                return None
            pieces.append(rows)
            start += batch.num_rows
    pieces.append(b"</sheetData></worksheet>")
    return b"".join(pieces)


def _rows_xml(batch: pa.RecordBatch, first_row: int) -> bytes | None:
    if batch.num_rows == 0:
        return b""
    numbers = pc.cast(pa.array(np.arange(first_row, first_row + batch.num_rows)), pa.string())
    cells = []
    for j, column in enumerate(batch.columns):
        text = pc.fill_null(pc.cast(column, pa.string()), "")
        if pc.any(pc.match_substring_regex(text, "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x{fffe}\\x{ffff}]")).as_py():
            return None
        escaped = pc.replace_substring(pc.replace_substring(pc.replace_substring(
            text, "&", "&amp;"), "<", "&lt;"), ">", "&gt;")
        open_t = pc.if_else(pc.equal(text, pc.utf8_trim_whitespace(text)), "<t>", '<t xml:space="preserve">')
        cell = pc.binary_join_element_wise(
            f'<c r="{_column_letters(j)}', numbers, '" t="inlineStr"><is>', open_t, escaped, "</t></is></c>", "")
        cells.append(pc.if_else(pc.equal(text, ""), "", cell))
    rows = pc.binary_join_element_wise('<row r="', numbers, '">', *cells, "</row>", "")
    return _values(rows)


def _values(strings: pa.Array) -> bytes:
    """The concatenated values of a string array without nulls: its data buffer between first and last offset."""
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32)[strings.offset: strings.offset + len(strings) + 1]
    return strings.buffers()[2].to_pybytes()[offsets[0]: offsets[-1]]


def _openpyxl_xlsx(table: pa.Table) -> bytes:
    import openpyxl  # only this rare path pays for the import

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
