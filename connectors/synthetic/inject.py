"""Error injection: break a valid synthetic filing in named, countable ways, and say what should be found.

Each kind breaks exactly one rule of phases 1–3 on rows picked at random, and is built so that it
trips no other rule of those phases (e.g. ``maturity_before_start`` uses an ended row, so that the
new maturity cannot also make an active row overdue, BIZ-006). Different kinds never share a row.
The expected findings are (rule_id, file, row) with 1-based data rows, or row ``None`` for
file-level findings.

Validation stops after the first phase with an error (rules.md), so a mix of kinds from different
phases shows only the earliest phase's findings; each kind's expectation holds when it is applied to
an otherwise valid filing or together with kinds of its own phase.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.synthetic import text as tx
from connectors.synthetic.guarantees import day_number
from connectors.synthetic.package import MANIFEST, PACKAGE_ERRORS
from validations.catalog import rule
from validations.checksums import RIC_CHECK, USCC_ALPHABET
from validations.context import Period
from validations.findings import Severity

Tables = dict[str, pa.Table]


class Expected(NamedTuple):
    """A finding an injection should produce."""

    rule_id: str
    file: str
    row: int | None  # 1-based data row, None for a file- or package-level finding


@dataclass(frozen=True)
class Kind:
    name: str
    rule_id: str
    file: str
    what: str
    apply: Callable[[_Injector, int], list[Expected]]


KINDS: dict[str, Kind] = {}


def _kind(name: str, rule_id: str, file: str, what: str) -> Callable:
    def register(apply: Callable[[_Injector, int], list[Expected]]) -> Callable:
        KINDS[name] = Kind(name, rule_id, file, what, apply)
        return apply

    return register


@dataclass
class _Injector:
    """The tables under edit: cell edits are collected per column and applied once, column-wise."""

    tables: Tables
    period: Period
    rng: np.random.Generator
    institution_kind: str | None
    used: np.ndarray = field(init=False)
    edits: dict[tuple[str, str], dict[int, str]] = field(default_factory=dict)
    appended: list[dict[str, str]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    package_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.used = np.zeros(self.tables["guarantees"].num_rows, dtype=bool)

    # --- reading --------------------------------------------------------------------------------
    def column(self, name: str, file: str = "guarantees") -> pa.ChunkedArray:
        return self.tables[file][name]

    def equals(self, name: str, value: str) -> np.ndarray:
        return np.asarray(pc.equal(self.column(name), value).to_numpy(zero_copy_only=False), dtype=bool)

    def cell(self, name: str, row: int, file: str = "guarantees") -> str:
        return self.column(name, file)[row].as_py()

    def days(self, name: str) -> np.ndarray:
        return tx.to_numpy_days(self.column(name))

    # --- writing --------------------------------------------------------------------------------
    def rows(self, eligible: np.ndarray, count: int, kind: str) -> list[int]:
        """``count`` random 0-based rows among ``eligible`` that no other kind has touched."""
        candidates = np.flatnonzero(eligible & ~self.used)
        if len(candidates) < count:
            raise ValueError(f"{kind}: only {len(candidates)} eligible row(s) left for {count} injection(s)")
        chosen = np.sort(self.rng.choice(candidates, size=count, replace=False))
        self.used[chosen] = True
        return [int(r) for r in chosen]

    def set(self, name: str, row: int, value: str, file: str = "guarantees") -> None:
        self.edits.setdefault((file, name), {})[row] = value

    def result(self) -> Tables:
        tables = dict(self.tables)
        for (file, name), cells in self.edits.items():
            table = tables[file]
            mask = np.zeros(table.num_rows, dtype=bool)
            rows = sorted(cells)
            mask[rows] = True
            column = pc.replace_with_mask(
                table[name].combine_chunks(), pa.array(mask), pa.array([cells[r] for r in rows], pa.string())
            )
            tables[file] = table.set_column(table.column_names.index(name), name, column)
        if self.appended:
            base = tables.get("compensations")
            if base is not None and "bank_claim_date" in base.column_names:  # template 1.1
                for record in self.appended:
                    record.setdefault("bank_claim_date", record["compensation_date"])
                    record.setdefault("written_off_to_date", "0.00")
            names = _COMPENSATION_COLUMNS if base is None else tuple(base.column_names)
            extra = pa.Table.from_pylist(self.appended, schema=_string_schema(names))
            tables["compensations"] = extra if base is None else pa.concat_tables([base, extra.select(base.column_names)])
        guarantees = tables["guarantees"]
        for name in self.added:
            guarantees = guarantees.append_column(name, pa.array(["人工核对"] * guarantees.num_rows, pa.string()))
        if self.dropped:
            guarantees = guarantees.drop_columns(self.dropped)
        tables["guarantees"] = guarantees
        return tables


_COMPENSATION_COLUMNS = ("compensation_id", "guarantee_id", "compensation_date", "amount_paid", "recovered_to_date")


def _string_schema(names: Iterable[str]) -> pa.Schema:
    return pa.schema([pa.field(name, pa.string()) for name in names])


def _expect(kind: str, rows: Iterable[int]) -> list[Expected]:
    k = KINDS[kind]
    return [Expected(k.rule_id, k.file, row + 1) for row in rows]


def _date(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def _cents_text(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def _fen(text: str) -> int:
    return round(float(text) * 100)


# --- phase 1: format --------------------------------------------------------------------------------

@_kind("bad_date", "FMT-005", "guarantees", "maturity_date becomes 30 February of its year")
def _bad_date(ij: _Injector, count: int) -> list[Expected]:
    rows = ij.rows(np.ones(len(ij.used), bool), count, "bad_date")
    for row in rows:
        ij.set("maturity_date", row, f"{ij.cell('maturity_date', row)[:4]}-02-30")
    return _expect("bad_date", rows)


@_kind("bad_amount", "FMT-005", "guarantees", 'loan_amount becomes "1e309" or "NaN"')
def _bad_amount(ij: _Injector, count: int) -> list[Expected]:
    rows = ij.rows(np.ones(len(ij.used), bool), count, "bad_amount")
    for i, row in enumerate(rows):
        ij.set("loan_amount", row, ("1e309", "NaN")[i % 2])
    return _expect("bad_amount", rows)


_EXTRA_COLUMNS = ("备注", "remarks", "经办人")
_DROPPABLE = ("counter_guarantee", "guarantor_relation", "subsidy_program")


@_kind("unknown_column", "FMT-008", "guarantees", "a column the template does not know is added (warning)")
def _unknown_column(ij: _Injector, count: int) -> list[Expected]:
    names = [_EXTRA_COLUMNS[i % 3] + ("" if i < 3 else str(i)) for i in range(count)]
    ij.added.extend(names)
    return [Expected("FMT-008", "guarantees", None) for _ in names]


@_kind("missing_column", "FMT-004", "guarantees", "a required column (counter_guarantee, …) is removed")
def _missing_column(ij: _Injector, count: int) -> list[Expected]:
    if count > len(_DROPPABLE):
        raise ValueError(f"missing_column: at most {len(_DROPPABLE)}")
    ij.dropped.extend(_DROPPABLE[:count])
    return [Expected("FMT-004", "guarantees", None) for _ in range(count)]


@_kind("bad_sha", "FMT-002", "guarantees", "the manifest's SHA-256 of guarantees is wrong (applied by write_package)")
def _bad_sha(ij: _Injector, count: int) -> list[Expected]:
    ij.package_errors.append("bad_sha")
    return [Expected("FMT-002", "guarantees", None)]


@_kind("bad_manifest", "FMT-001", MANIFEST, "the manifest lacks submitted_at (applied by write_package)")
def _bad_manifest(ij: _Injector, count: int) -> list[Expected]:
    ij.package_errors.append("bad_manifest")
    return [Expected("FMT-001", MANIFEST, None)]


# --- phase 2: schema --------------------------------------------------------------------------------

@_kind("empty_required", "SCH-001", "guarantees", "party_name becomes empty")
def _empty_required(ij: _Injector, count: int) -> list[Expected]:
    rows = ij.rows(np.ones(len(ij.used), bool), count, "empty_required")
    for row in rows:
        ij.set("party_name", row, "")
    return _expect("empty_required", rows)


@_kind("bad_code", "SCH-002", "guarantees", 'five_category becomes "6", "0" or "normal"')
def _bad_code(ij: _Injector, count: int) -> list[Expected]:
    rows = ij.rows(np.ones(len(ij.used), bool), count, "bad_code")
    for i, row in enumerate(rows):
        ij.set("five_category", row, ("6", "0", "normal")[i % 3])
    return _expect("bad_code", rows)


@_kind("bad_uscc", "SCH-003", "guarantees", "a USCC party_id gets a wrong 18th character")
def _bad_uscc(ij: _Injector, count: int) -> list[Expected]:
    rows = ij.rows(ij.equals("party_id_type", "USCC"), count, "bad_uscc")
    for row in rows:
        party_id = ij.cell("party_id", row)
        right = USCC_ALPHABET.index(party_id[17].upper())
        wrong = USCC_ALPHABET[(right + 1 + int(ij.rng.integers(0, 30))) % 31]
        ij.set("party_id", row, party_id[:17] + wrong)
    return _expect("bad_uscc", rows)


@_kind("bad_ric", "SCH-003", "guarantees", "a RIC party_id gets a wrong 18th character")
def _bad_ric(ij: _Injector, count: int) -> list[Expected]:
    rows = ij.rows(ij.equals("party_id_type", "RIC"), count, "bad_ric")
    for row in rows:
        party_id = ij.cell("party_id", row)
        right = RIC_CHECK.index(party_id[17].upper())
        wrong = RIC_CHECK[(right + 1 + int(ij.rng.integers(0, 10))) % 11]
        ij.set("party_id", row, party_id[:17] + wrong)
    return _expect("bad_ric", rows)


@_kind("id_type_mismatch", "SCH-004", "guarantees", "a USCC party's party_category becomes farmer")
def _id_type_mismatch(ij: _Injector, count: int) -> list[Expected]:
    eligible = ij.equals("party_id_type", "USCC") & ~ij.equals("party_category", "farmer")
    rows = ij.rows(eligible, count, "id_type_mismatch")
    for row in rows:
        ij.set("party_category", row, "farmer")
    return _expect("id_type_mismatch", rows)


@_kind("negative_amount", "SCH-005", "guarantees", "an active row's outstanding_balance becomes negative")
def _negative_amount(ij: _Injector, count: int) -> list[Expected]:
    eligible = ij.equals("status", "active") & ~ij.equals("outstanding_balance", "0.00")
    rows = ij.rows(eligible, count, "negative_amount")
    for row in rows:
        ij.set("outstanding_balance", row, _cents_text(-_fen(ij.cell("outstanding_balance", row))))
    return _expect("negative_amount", rows)


@_kind("duplicate_id", "SCH-006", "guarantees", "an active row takes the guarantee_id of an earlier active row")
def _duplicate_id(ij: _Injector, count: int) -> list[Expected]:
    active = ij.equals("status", "active")
    rows = []
    for _ in range(count):
        source, target = ij.rows(active, 2, "duplicate_id")
        ij.set("guarantee_id", target, ij.cell("guarantee_id", source))
        rows.append(target)  # the repeat is the later row
    return _expect("duplicate_id", rows)


@_kind("bad_industry", "SCH-007", "guarantees", 'a USCC party\'s industry_code becomes "9900" or "0012"')
def _bad_industry(ij: _Injector, count: int) -> list[Expected]:
    rows = ij.rows(ij.equals("party_id_type", "USCC"), count, "bad_industry")
    for i, row in enumerate(rows):
        ij.set("industry_code", row, ("9900", "0012")[i % 2])
    return _expect("bad_industry", rows)


# --- phase 3: consistency -----------------------------------------------------------------------------

@_kind("maturity_before_start", "BIZ-001", "guarantees", "maturity_date = start_date on an ended row")
def _maturity_before_start(ij: _Injector, count: int) -> list[Expected]:
    ended = ~ij.equals("status", "active")
    rows = ij.rows(ended, count, "maturity_before_start")
    for row in rows:
        ij.set("maturity_date", row, ij.cell("start_date", row))
    return _expect("maturity_before_start", rows)


@_kind("outstanding_over_guaranteed", "BIZ-002", "guarantees", "an active row's outstanding > guaranteed")
def _outstanding_over_guaranteed(ij: _Injector, count: int) -> list[Expected]:
    rows = ij.rows(ij.equals("status", "active"), count, "outstanding_over_guaranteed")
    for row in rows:
        guaranteed = _fen(ij.cell("guaranteed_amount", row))
        ij.set("outstanding_balance", row, _cents_text(guaranteed + max(1, guaranteed // 10)))
    return _expect("outstanding_over_guaranteed", rows)


@_kind("guaranteed_over_loan", "BIZ-003", "guarantees", "loan_amount becomes 80% of guaranteed_amount (warning)")
def _guaranteed_over_loan(ij: _Injector, count: int) -> list[Expected]:
    rows = ij.rows(np.ones(len(ij.used), bool), count, "guaranteed_over_loan")
    for row in rows:
        ij.set("loan_amount", row, _cents_text(_fen(ij.cell("guaranteed_amount", row)) * 8 // 10))
    return _expect("guaranteed_over_loan", rows)


@_kind("start_after_period", "BIZ-004", "guarantees", "an active row starts the day after the period end")
def _start_after_period(ij: _Injector, count: int) -> list[Expected]:
    end = day_number(ij.period.end)
    eligible = ij.equals("status", "active") & (ij.days("maturity_date") >= end + 2)
    rows = ij.rows(eligible, count, "start_after_period")
    for row in rows:
        ij.set("start_date", row, _date(end + 1))
    return _expect("start_after_period", rows)


@_kind("ended_with_balance", "BIZ-005", "guarantees", "an ended row keeps half its guaranteed amount outstanding")
def _ended_with_balance(ij: _Injector, count: int) -> list[Expected]:
    ended = ~ij.equals("status", "active")
    end = day_number(ij.period.end)
    # prefer released rows; when too few, close an active row at the period end instead
    n_ended = int((ended & ~ij.used).sum())
    rows = ij.rows(ended, min(count, n_ended), "ended_with_balance")
    if count > len(rows):
        closable = ij.equals("status", "active") & (ij.days("start_date") < end)
        converted = ij.rows(closable, count - len(rows), "ended_with_balance")
        for row in converted:
            ij.set("status", row, "released")
            ij.set("closed_date", row, _date(end))
        rows = sorted(rows + converted)
    for row in rows:
        ij.set("outstanding_balance", row, _cents_text(max(1, _fen(ij.cell("guaranteed_amount", row)) // 2)))
    return _expect("ended_with_balance", rows)


@_kind("overdue_active", "BIZ-006", "guarantees", "an active row matured the day before the period (warning)")
def _overdue_active(ij: _Injector, count: int) -> list[Expected]:
    start = day_number(ij.period.start)
    eligible = ij.equals("status", "active") & (ij.days("start_date") < start - 1)
    rows = ij.rows(eligible, count, "overdue_active")
    for row in rows:
        ij.set("maturity_date", row, _date(start - 1))
    return _expect("overdue_active", rows)


@_kind("orphan_compensation", "BIZ-007", "compensations", "a compensation is added for an active guarantee")
def _orphan_compensation(ij: _Injector, count: int) -> list[Expected]:
    rows = ij.rows(ij.equals("status", "active"), count, "orphan_compensation")
    existing = ij.tables.get("compensations")
    first = (existing.num_rows if existing is not None else 0) + len(ij.appended)
    for i, row in enumerate(rows):
        ij.appended.append({
            "compensation_id": f"DCX{ij.period.year:04d}{ij.period.month:02d}{first + i + 1:05d}",
            "guarantee_id": ij.cell("guarantee_id", row),
            "compensation_date": _date(day_number(ij.period.start) + i % ij.period.days),
            "amount_paid": "10000.00",
            "recovered_to_date": "0.00",
        })
    return [Expected("BIZ-007", "compensations", first + i + 1) for i in range(count)]


@_kind("financials_unbalanced", "BIZ-008", "financials", "net_assets becomes total_assets + 1,000,000")
def _financials_unbalanced(ij: _Injector, count: int) -> list[Expected]:
    total = _fen(ij.cell("total_assets", 0, "financials"))
    ij.set("net_assets", 0, _cents_text(total + 100_000_000), "financials")
    return [Expected("BIZ-008", "financials", 1)]


@_kind("missing_account_type", "BIZ-009", "guarantees", "account_type becomes empty (an error for government "
       "and mixed guarantors only)")
def _missing_account_type(ij: _Injector, count: int) -> list[Expected]:
    rows = ij.rows(np.ones(len(ij.used), bool), count, "missing_account_type")
    for row in rows:
        ij.set("account_type", row, "")
    return [] if ij.institution_kind == "commercial" else _expect("missing_account_type", rows)


@_kind("party_in_two_groups", "BIZ-011", "guarantees", "a later row of a party in a related group names "
       "another group (warning)")
def _party_in_two_groups(ij: _Injector, count: int) -> list[Expected]:
    """Only parties already in a group with two or more rows qualify: one of their later rows gets the
    group id + "X", so that exactly that row differs from the party's first row. Every row of a chosen
    party is reserved, so that no other kind moves a row into or out of it."""
    encoded = pc.dictionary_encode(ij.column("party_id").combine_chunks())
    party = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    n_parties = len(encoded.dictionary)
    rows_per_party = np.bincount(party, minlength=n_parties)
    grouped = np.zeros(n_parties, dtype=bool)
    grouped[party[~ij.equals("related_group_id", "")]] = True
    touched = np.zeros(n_parties, dtype=bool)
    touched[party[ij.used]] = True
    candidates = np.flatnonzero((rows_per_party >= 2) & grouped & ~touched)
    if len(candidates) < count:
        raise ValueError(f"party_in_two_groups: only {len(candidates)} eligible part(ies) left for {count} "
                         "injection(s) (parties in a related group with two or more rows)")
    rows = []
    for chosen in np.sort(ij.rng.choice(candidates, size=count, replace=False)):
        own = np.flatnonzero(party == chosen)  # in file order: own[0] is the party's first row
        row = int(own[1 + int(ij.rng.integers(0, len(own) - 1))])
        ij.used[own] = True
        ij.set("related_group_id", row, ij.cell("related_group_id", row) + "X")
        rows.append(row)
    return _expect("party_in_two_groups", sorted(rows))


@_kind("wrong_period_end", "BIZ-012", "financials", "period_end becomes the day before the period's last day")
def _wrong_period_end(ij: _Injector, count: int) -> list[Expected]:
    ij.set("period_end", 0, _date(day_number(ij.period.end) - 1), "financials")
    return [Expected("BIZ-012", "financials", 1)]


# --- template 1.1 / rules 1.2-draft (docs/spec/rules-1.2-draft.md) ----------------------------------

TEMPLATE_1_1_KINDS = ("shares_over_one", "claim_after_payout", "written_off_over_paid", "npl_migration",
                      "slow_payout", "low_rating", "reguarantee_margin")  # fmt: skip


def _need_1_1(ij: _Injector, kind: str) -> None:
    if "bank_risk_share" not in ij.tables["guarantees"].column_names:
        raise ValueError(f"{kind}: breaks a rule of template 1.1's data; generate with --template 1.1")


def _compensation_rows(ij: _Injector, count: int, kind: str) -> list[int]:
    """``count`` random 0-based compensations rows no other kind has touched."""
    table = ij.tables.get("compensations")
    n = 0 if table is None else table.num_rows
    taken = getattr(ij, "_comp_used", set())
    candidates = [r for r in range(n) if r not in taken]
    if len(candidates) < count:
        raise ValueError(f"{kind}: only {len(candidates)} compensation row(s) left for {count} injection(s)")
    chosen = sorted(int(r) for r in ij.rng.choice(candidates, size=count, replace=False))
    ij._comp_used = taken | set(chosen)  # type: ignore[attr-defined]
    return chosen


@_kind("shares_over_one", "BIZ-013", "guarantees", "a loan's bank_risk_share becomes 1 (1.1)")
def _shares_over_one(ij: _Injector, count: int) -> list[Expected]:
    _need_1_1(ij, "shares_over_one")
    rows = ij.rows(ij.equals("business_type", "loan"), count, "shares_over_one")
    for row in rows:
        ij.set("bank_risk_share", row, "1")
    return _expect("shares_over_one", rows)


@_kind("claim_after_payout", "BIZ-014", "compensations", "bank_claim_date becomes the day after the payout (1.1)")
def _claim_after_payout(ij: _Injector, count: int) -> list[Expected]:
    _need_1_1(ij, "claim_after_payout")
    rows = _compensation_rows(ij, count, "claim_after_payout")
    for row in rows:
        paid = tx.to_numpy_days(pa.array([ij.cell("compensation_date", row, "compensations")]))[0]
        ij.set("bank_claim_date", row, _date(paid + 1), "compensations")
    return [Expected("BIZ-014", "compensations", row + 1) for row in rows]


@_kind("written_off_over_paid", "BIZ-015", "compensations", "written_off_to_date becomes amount_paid (1.1)")
def _written_off_over_paid(ij: _Injector, count: int) -> list[Expected]:
    _need_1_1(ij, "written_off_over_paid")
    rows = _compensation_rows(ij, count, "written_off_over_paid")
    for row in rows:
        paid = _fen(ij.cell("amount_paid", row, "compensations"))
        recovered = _fen(ij.cell("recovered_to_date", row, "compensations"))
        ij.set("written_off_to_date", row, _cents_text(paid - recovered + 1), "compensations")
    return [Expected("BIZ-015", "compensations", row + 1) for row in rows]


@_kind("npl_migration", "EWS-001", "guarantees", "a released row is classed 3 on the period's last day (1.1, warning)")
def _npl_migration(ij: _Injector, count: int) -> list[Expected]:
    _need_1_1(ij, "npl_migration")
    rows = ij.rows(ij.equals("status", "released"), count, "npl_migration")  # no exposure: EWS-003 unmoved
    for row in rows:
        ij.set("five_category", row, "3")
        ij.set("five_category_date", row, _date(day_number(ij.period.end)))
    return _expect("npl_migration", rows)


@_kind("slow_payout", "BNK-001", "compensations", "the bank claimed 31 days before the payout (1.1, warning)")
def _slow_payout(ij: _Injector, count: int) -> list[Expected]:
    _need_1_1(ij, "slow_payout")
    rows = _compensation_rows(ij, count, "slow_payout")
    for row in rows:
        paid = tx.to_numpy_days(pa.array([ij.cell("compensation_date", row, "compensations")]))[0]
        ij.set("bank_claim_date", row, _date(paid - 31), "compensations")
    return [Expected("BNK-001", "compensations", row + 1) for row in rows]


@_kind("low_rating", "BNK-002", "registry", "the guarantor's third-party rating becomes A in registry.csv (1.1, warning)")
def _low_rating(ij: _Injector, count: int) -> list[Expected]:
    _need_1_1(ij, "low_rating")
    # the registry is written by generate_period, which lowers the ratings when this kind is asked for
    return [Expected("BNK-002", None, None)]  # type: ignore[arg-type]


@_kind("reguarantee_margin", "BNK-003", "guarantees", "a re-guaranteed loan's bank margin becomes 20% (1.1, warning)")
def _reguarantee_margin(ij: _Injector, count: int) -> list[Expected]:
    _need_1_1(ij, "reguarantee_margin")
    eligible = ij.equals("business_type", "loan") & ~ij.equals("reguarantee_ref", "")
    rows = ij.rows(eligible, count, "reguarantee_margin")
    for row in rows:
        ij.set("bank_margin_amount", row, _cents_text(_fen(ij.cell("guaranteed_amount", row)) // 5))
    return _expect("reguarantee_margin", rows)


def parse_kinds(kinds: Iterable[str] | Mapping[str, int]) -> dict[str, int]:
    """``["bad_uscc", "bad_ric:3"]`` or ``{"bad_ric": 3}`` → counts per kind, checked against ``KINDS``."""
    counts: Counter[str] = Counter()
    items = kinds.items() if isinstance(kinds, Mapping) else (_split(k) for k in kinds)
    for name, count in items:
        if name not in KINDS:
            raise ValueError(f"unknown inject kind {name!r} (known: {', '.join(sorted(KINDS))})")
        if count < 1:
            raise ValueError(f"{name}: count must be at least 1")
        counts[name] += count
    return dict(counts)


def _split(text: str) -> tuple[str, int]:
    name, _, count = text.partition(":")
    return name.strip(), int(count) if count else 1


def inject(
    tables: Mapping[str, pa.Table | None],
    kinds: Iterable[str] | Mapping[str, int],
    seed: int = 0,
    *,
    period: str | None = None,
    institution_kind: str | None = None,
) -> tuple[Tables, list[Expected]]:
    """Return broken copies of ``tables`` and the findings the breakage should produce.

    ``kinds`` names kinds of ``KINDS``, each once or as ``"kind:count"`` (repeats add up). ``period``
    defaults to the month of the financials' ``period_end``; ``institution_kind`` decides whether an
    empty ``account_type`` is an error (BIZ-009 spares commercial guarantors). The package-level kinds
    (``bad_sha``, ``bad_manifest``) change no table: pass ``package_errors(expected)`` to
    ``write_package``.
    """
    counts = parse_kinds(kinds)
    current = {name: table for name, table in tables.items() if table is not None}
    if period is None:
        period = current["financials"]["period_end"][0].as_py()[:7]
    injector = _Injector(current, Period.parse(period), np.random.default_rng([seed, 0x1E]), institution_kind)
    expected: list[Expected] = []
    for name in KINDS:  # a fixed order: the same seed breaks the same rows whatever the argument order
        if name in counts:
            expected.extend(KINDS[name].apply(injector, counts[name]))
    return injector.result(), sorted(expected, key=lambda e: (e.file or "", e.row or 0, e.rule_id))


def reported(expected: Iterable[Expected]) -> list[Expected]:
    """The part of ``expected`` the rule engine reports: phases run in order and stop after the first
    phase with an error, so later phases' expectations stay hidden behind it (warnings do not stop)."""
    expected = list(expected)
    errors = [rule(e.rule_id).phase for e in expected if rule(e.rule_id).severity == Severity.ERROR]
    last = min(errors, default=4)  # phase 4 (1.2-draft warnings) is seen only when nothing is rejected
    return [e for e in expected if rule(e.rule_id).phase <= last]


def status(expected: Iterable[Expected]) -> str:
    """The engine's phase 1–3 verdict on a filing that is otherwise valid: rejected, needs_confirmation, accepted."""
    shown = reported(expected)
    if any(rule(e.rule_id).severity == Severity.ERROR for e in shown):
        return "rejected"
    return "needs_confirmation" if shown else "accepted"


def package_errors(expected: Iterable[Expected]) -> list[str]:
    """The ``write_package`` errors an expectation list calls for."""
    by_rule = {"FMT-002": "bad_sha", "FMT-001": "bad_manifest"}
    wanted = {by_rule[e.rule_id] for e in expected if e.rule_id in by_rule}
    return [name for name in PACKAGE_ERRORS if name in wanted]
