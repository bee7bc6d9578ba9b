"""A Parquet data file as text columns, within the intake limits (FMT-007).

Parquet is compressed and encoded (dictionaries, run lengths), so a few kilobytes can declare billions of
rows or repeat a megabyte-long value millions of times: decoding first and measuring afterwards is a
decompression bomb. The file's own metadata says how many rows it holds, which is checked before any
row is decoded; text columns are then read one row group at a time *as dictionaries*, and the length
their values would have once expanded (each dictionary entry's length, taken per row) is added up
before anything is expanded, so memory stays bounded by what the limits allow.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from connectors.arrow_sources import parquet_file
from connectors.intake.headers import ReadError, check_header
from connectors.intake.limits import IntakeLimits


def read_parquet(data: bytes, limits: IntakeLimits) -> pa.Table:
    """The file's columns as text (booleans ``true``/``false``, dates ``YYYY-MM-DD``, nulls empty)."""
    try:
        names = parquet_file(data).schema_arrow.names
        source = parquet_file(data, read_dictionary=names)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ReadError("不是有效的 Parquet 文件", f"not a valid Parquet file ({str(exc)[:120]})") from None
    check_header([name.strip() for name in names])
    rows = source.metadata.num_rows
    if rows > limits.max_parquet_rows:
        raise ReadError("Parquet 文件行数超过限制", f"the Parquet file declares {rows} rows, over {limits.max_parquet_rows}",
                        rule_id="FMT-007")
    groups, expanded = [], 0
    try:
        for index in range(source.num_row_groups):
            group = source.read_row_group(index)
            expanded += sum(_expanded_bytes(column) for column in group.columns)
            if expanded > limits.max_expanded_bytes:
                raise ReadError("Parquet 文件解压后超过大小限制",
                                f"the Parquet file's values expand beyond {limits.max_expanded_bytes} bytes", rule_id="FMT-007")
            groups.append(group)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ReadError("不是有效的 Parquet 文件", f"not a valid Parquet file ({str(exc)[:120]})") from None
    table = pa.concat_tables(groups) if groups else source.schema_arrow.empty_table()
    return pa.table({name.strip(): _as_text(name, column) for name, column in zip(names, table.columns, strict=True)})


def _expanded_bytes(column: pa.ChunkedArray) -> int:
    """The bytes a column takes once its dictionaries are expanded, computed without expanding them."""
    total = 0
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type) and _has_lengths(chunk.type.value_type):
            lengths = pc.binary_length(chunk.dictionary).take(chunk.indices)
            total += (pc.sum(lengths).as_py() or 0) + 4 * len(chunk)
        else:
            total += chunk.nbytes
    return total


def _has_lengths(value_type: pa.DataType) -> bool:
    return pa.types.is_string(value_type) or pa.types.is_large_string(value_type) \
        or pa.types.is_binary(value_type) or pa.types.is_large_binary(value_type)


def _as_text(name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    t = column.type
    if pa.types.is_nested(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
        raise ReadError(f"列 {name} 的类型不受支持", f"column {name!r} has an unsupported type {t}", column=name)
    if pa.types.is_boolean(t):
        text = pc.if_else(column, "true", "false")
    elif pa.types.is_date(t):
        text = pc.strftime(column, format="%Y-%m-%d")
    else:
        text = pc.cast(column, pa.string())
    return pc.fill_null(text, "")
