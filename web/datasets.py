"""Reading the published datasets (outputs.md §2) for the API and the dashboard.

Only what the pipeline published is read (``connectors.datasets.DatasetStore``: the latest version of
each partition), never raw filings; natural persons' names in ``guarantees`` are masked on the way out
as well (outputs.md 2.0 §2), for versions published before the names were masked at publication. A guarantor's token reads only its own rows: the rows are filtered
on ``institution_id`` whatever the request asks, and a dataset without that column is refused.
"""

from __future__ import annotations

import decimal
import io
import json
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from connectors.datasets import DATASETS, SCHEMA_VERSION, DatasetStore
from connectors.datasets.tables import mask_guarantees
from web.auth import Principal
from web.refusals import Refused, not_found

FORMATS = {"parquet": "application/vnd.apache.parquet", "csv": "text/csv; charset=utf-8",
           "json": "application/json"}


def catalog(store: DatasetStore, principal: Principal) -> list[dict[str, Any]]:
    """Each dataset with its published partitions (a guarantor sees only its own, a bank none: 403)."""
    _refuse_banks(principal)
    out = []
    for name in DATASETS:
        partitions = []
        for period, institution in store.partitions(name):
            if principal.is_guarantor and institution != principal.institution_id:
                continue
            latest = store.latest(name, period, institution)
            if latest is None:
                continue
            partitions.append({"period": period, "institution_id": institution, "version": latest.version,
                               "rows": latest.rows})
        out.append({"name": name, "schema_version": SCHEMA_VERSION, "partitions": partitions,
                    "periods": sorted({p["period"] for p in partitions})})
    return out


def read(store: DatasetStore, principal: Principal, name: str, period: str | None,
         institution_id: str | None) -> pa.Table:
    """The latest published rows of ``name``, filtered; 404 when nothing matches (also for a guarantor
    asking for another guarantor's rows, which it cannot tell from rows that do not exist)."""
    _refuse_banks(principal)
    if name not in DATASETS:
        raise not_found("no such dataset")
    if principal.is_guarantor:
        if institution_id is not None and institution_id != principal.institution_id:
            raise not_found("nothing published for this selection")
        institution_id = principal.institution_id
    table = store.read(name, period)
    if table is None:
        raise not_found("nothing published for this selection")
    if name == "guarantees":
        table = mask_guarantees(table)  # versions published before outputs.md 2.0 too
    if institution_id is not None:
        if "institution_id" not in table.column_names:
            raise Refused(403, "forbidden", f"{name} is not kept per guarantor") if principal.is_guarantor else not_found()
        table = table.filter(pc.equal(table["institution_id"], institution_id))
        if table.num_rows == 0:
            raise not_found("nothing published for this selection")
    return table


def _refuse_banks(principal: Principal) -> None:
    """The datasets hold whole ledgers and findings; a bank reads its own lending through ``web.banks``."""
    if principal.is_bank:
        raise Refused(403, "forbidden", "a bank token reads its lending at /api/bank, not the published datasets")


def encode(table: pa.Table, fmt: str) -> bytes:
    if fmt == "parquet":
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        return sink.getvalue()
    if fmt == "csv":
        sink = io.BytesIO()
        pacsv.write_csv(_defuse_formulas(table), sink)
        return b"\xef\xbb\xbf" + sink.getvalue()  # BOM: Excel reads UTF-8 Chinese text only with it
    return json.dumps(table.to_pylist(), ensure_ascii=False, default=_json_default).encode("utf-8")


def _defuse_formulas(table: pa.Table) -> pa.Table:
    """Prefix text cells that a spreadsheet would run as a formula (a party name such as
    ``=HYPERLINK(…)``) with ' in the CSV download; Parquet and JSON stay exact."""
    for i, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            column = table.column(i)
            risky = pc.fill_null(pc.match_substring_regex(column, r"^[=+\-@\t\r]"), False)
            if pc.any(risky).as_py():
                table = table.set_column(i, field, pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column))
    return table


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)  # amounts stay exact to the fen
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
