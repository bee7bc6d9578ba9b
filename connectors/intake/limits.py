"""Configured intake limits (FMT-007): package size, ZIP expansion, line length, inside an XLSX
workbook its expanded size, shared strings and cells, and a Parquet file's rows (its expanded values count
against the expanded size)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class IntakeLimits:
    max_package_bytes: int = 1 << 30  # 1 GiB as received
    max_expanded_bytes: int = 4 << 30  # a ZIP's members, uncompressed, together
    max_expansion_ratio: float = 50.0  # uncompressed / compressed, per member (real CSV compresses 5-10:1)
    max_line_bytes: int = 64 << 10  # one CSV line
    max_members: int = 64
    max_xlsx_expanded_bytes: int = 1 << 30  # the workbook's parts that are read, uncompressed, together
    max_xlsx_expansion_ratio: float = 200.0  # per part: sheet XML of empty styled cells compresses well
    max_xlsx_cells: int = 10_000_000  # cells of the sheet (rows × header columns, and <c> elements)
    max_xlsx_shared_strings: int = 1_000_000  # entries of the shared-string table
    max_xlsx_shared_string_chars: int = 64 << 20  # characters of all shared strings together
    max_parquet_rows: int = 20_000_000  # rows a Parquet file declares in its metadata

    @classmethod
    def from_env(cls) -> IntakeLimits:
        """Limits from ``DANBAO_MAX_*`` environment variables, defaults otherwise."""
        d = cls()
        return cls(
            max_package_bytes=int(os.environ.get("DANBAO_MAX_PACKAGE_BYTES", d.max_package_bytes)),
            max_expanded_bytes=int(os.environ.get("DANBAO_MAX_EXPANDED_BYTES", d.max_expanded_bytes)),
            max_expansion_ratio=float(os.environ.get("DANBAO_MAX_EXPANSION_RATIO", d.max_expansion_ratio)),
            max_line_bytes=int(os.environ.get("DANBAO_MAX_LINE_BYTES", d.max_line_bytes)),
            max_xlsx_expanded_bytes=int(os.environ.get("DANBAO_MAX_XLSX_EXPANDED_BYTES", d.max_xlsx_expanded_bytes)),
            max_xlsx_expansion_ratio=float(
                os.environ.get("DANBAO_MAX_XLSX_EXPANSION_RATIO", d.max_xlsx_expansion_ratio)),
            max_xlsx_cells=int(os.environ.get("DANBAO_MAX_XLSX_CELLS", d.max_xlsx_cells)),
            max_xlsx_shared_strings=int(os.environ.get("DANBAO_MAX_XLSX_SHARED_STRINGS", d.max_xlsx_shared_strings)),
            max_xlsx_shared_string_chars=int(
                os.environ.get("DANBAO_MAX_XLSX_SHARED_STRING_CHARS", d.max_xlsx_shared_string_chars)),
            max_parquet_rows=int(os.environ.get("DANBAO_MAX_PARQUET_ROWS", d.max_parquet_rows)),
        )
