"""The published tables of one accepted filing, built column-wise from what the engine concluded
(``validations.results.AcceptedFiling``).

Every row carries ``institution_id``, ``period`` and ``submission_id`` (and, for row-level tables, the
filing's 1-based ``source_row``), so a published figure traces back to the bytes it came from.
Resident ID numbers are pseudonymised here, before anything is written, and natural persons' names
masked to their first character (outputs.md 2.0 §2).
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from connectors.datasets.pseudonymise import (
    mask_person_names,
    pseudonymise_party_ids,
    pseudonymise_resident_ids,
)
from schemas.codes import SUBSIDY_PROGRAMS
from validations.results import AcceptedFiling

_PROGRAMS = [p for p in SUBSIDY_PROGRAMS if p != "none"]
_PARTY_KEYS = ("max_party_id", "max_group_id")


def _stamp(table: pa.Table, institution_id: str, period: str, submission_id: int | None) -> pa.Table:
    n = table.num_rows
    stamped = [
        ("institution_id", pa.repeat(pa.scalar(institution_id, pa.string()), n)),
        ("period", pa.repeat(pa.scalar(period, pa.string()), n)),
        ("submission_id", pa.repeat(pa.scalar(submission_id, pa.int64()), n)),
    ]
    for i, (name, column) in enumerate(stamped):
        table = table.add_column(i, name, column)
    return table


def indicators_table(result: AcceptedFiling, submission_id: int | None, key: bytes) -> pa.Table:
    """One row: every scalar indicator, the subsidy per program as its own column, party ids pseudonymised."""
    values: dict[str, Any] = dict(result.indicators or {})
    by_program = values.pop("subsidy_by_program", None) or {}
    row: dict[str, Any] = {k: v for k, v in values.items() if not isinstance(v, dict | list)}
    for program in _PROGRAMS:
        row[f"subsidy_{program}"] = float(by_program.get(program, 0.0))
    row["grade"] = result.grade.grade
    table = pa.Table.from_pylist([row])
    for name in _PARTY_KEYS:
        if name in table.column_names:
            table = table.set_column(table.schema.get_field_index(name), name,
                                     pseudonymise_resident_ids(pc.cast(table[name], pa.string()), key))
    return _stamp(table, result.institution_id or "", result.period or "", submission_id)


def findings_table(result: AcceptedFiling, submission_id: int | None, key: bytes) -> pa.Table:
    """The filing's findings; a value that looks like a resident ID is pseudonymised, and a value of a
    natural person's ``party_name`` is masked as the ledger's is."""
    findings = result.findings
    values = _mask_name_values(findings, result.tables.get("guarantees"))
    findings = findings.set_column(findings.schema.get_field_index("value"), "value",
                                   pseudonymise_resident_ids(values, key))
    return _stamp(findings, result.institution_id or "", result.period or "", submission_id)


def _mask_name_values(findings: pa.Table, guarantees: pa.Table | None) -> pa.ChunkedArray:
    """``value`` with the findings about a ``party_name`` masked unless their row is an enterprise's
    (a row that cannot be found in the ledger is masked)."""
    values = findings["value"]
    on_name = pc.fill_null(pc.and_(pc.equal(findings["file"], "guarantees"),
                                   pc.equal(findings["column"], "party_name")), False)
    if findings.num_rows == 0 or not pc.any(on_name).as_py():
        return values
    if guarantees is None or "party_id_type" not in guarantees.column_names:
        types = pa.nulls(findings.num_rows, pa.string())
    else:
        index = pc.subtract(findings["row"], 1)
        inside = pc.fill_null(pc.and_(pc.greater_equal(index, 0), pc.less(index, guarantees.num_rows)), False)
        types = pc.take(guarantees["party_id_type"], pc.if_else(inside, index, pa.scalar(None, pa.int64())))
    return pc.if_else(on_name, mask_person_names(values, types), values)


def grades_table(institution_id: str, period: str, grade: str, measures_zh: str, measures_en: str,
                 reasons: list[str] | tuple[str, ...], submission_id: int | None, late: bool) -> pa.Table:
    table = pa.table({
        "grade": [grade], "measures_zh": [measures_zh], "measures_en": [measures_en],
        "reasons": [json.dumps(list(reasons), ensure_ascii=False)], "late_filing": [late],
    })
    return _stamp(table, institution_id, period, submission_id)


def subsidies_table(result: AcceptedFiling, submission_id: int | None) -> pa.Table:
    """Per-row subsidies; ``amount`` stays decimal(18,2), exact to the fen."""
    subsidies = result.subsidies
    return _stamp(subsidies, result.institution_id or "", result.period or "", submission_id)


def guarantees_table(result: AcceptedFiling, submission_id: int | None, key: bytes) -> pa.Table:
    """The accepted ledger with ``source_row``, RIC party ids replaced by their keyed hash and RIC
    party names masked to their first character (outputs.md 2.0 §2)."""
    g = mask_guarantees(result.tables["guarantees"])
    g = g.set_column(g.schema.get_field_index("party_id"), "party_id",
                     pseudonymise_party_ids(g["party_id"], g["party_id_type"], key))
    g = g.add_column(0, "source_row", pa.array(range(1, g.num_rows + 1), pa.int64()))
    return _stamp(g, result.institution_id or "", result.period or "", submission_id)


def compensations_table(result: AcceptedFiling, submission_id: int | None) -> pa.Table:
    """The period's payouts with ``source_row``, the lending bank of the guarantee each one paid
    (``lender_code``, from the ledger) and, for template 1.1, the payout delay in calendar days
    (``payout_days`` = ``compensation_date`` − ``bank_claim_date``, what BNK-001 bounds); a 1.0 filing has
    no claim date, so its ``payout_days`` is null. A filing without payouts publishes an empty table."""
    c = result.tables.get("compensations")
    if c is None:
        c = pa.table({"compensation_id": pa.array([], pa.string()), "guarantee_id": pa.array([], pa.string()),
                      "compensation_date": pa.array([], pa.date32())})
    c = c.add_column(0, "source_row", pa.array(range(1, c.num_rows + 1), pa.int64()))
    g = result.tables.get("guarantees")
    if g is not None and {"guarantee_id", "lender_code"} <= set(g.column_names) and c.num_rows:
        lenders = g.select(["guarantee_id", "lender_code"])
        c = c.join(lenders, "guarantee_id", join_type="left outer").sort_by("source_row")
    else:
        c = c.append_column("lender_code", pa.nulls(c.num_rows, pa.string()))
    if "bank_claim_date" in c.column_names:
        days = pc.days_between(c["bank_claim_date"], c["compensation_date"])
    else:
        days = pa.nulls(c.num_rows, pa.int64())
    c = c.append_column("payout_days", days)
    return _stamp(c, result.institution_id or "", result.period or "", submission_id)


def mask_guarantees(table: pa.Table) -> pa.Table:
    """Natural persons' names in a ``guarantees`` table masked (outputs.md 2.0 §2). Idempotent, so the
    portal applies it again to what it serves: versions published before 2.0 are never rewritten, and
    are never served with the names in clear either."""
    if "party_name" not in table.column_names or "party_id_type" not in table.column_names:
        return table
    return table.set_column(table.schema.get_field_index("party_name"), "party_name",
                            mask_person_names(table["party_name"], table["party_id_type"]))


def discipline_table(period: str, entries: list[tuple[str, str, str]]) -> pa.Table:
    """(institution_id, previous period, period) of every guarantor graded D twice running."""
    return pa.table({
        "period": pa.array([period] * len(entries), pa.string()),
        "institution_id": pa.array([e[0] for e in entries], pa.string()),
        "previous_period": pa.array([e[1] for e in entries], pa.string()),
        "listed_period": pa.array([e[2] for e in entries], pa.string()),
    })
