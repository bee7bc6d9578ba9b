"""Phase 2 — schema (SCH-001..007), row by row but computed column-wise."""

from __future__ import annotations

import datetime as dt
from functools import partial

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from schemas.codes import ID_TYPE_FOR_CATEGORY
from schemas.template import ColumnType
from validations.checksums import party_ids_valid
from validations.findings import Findings
from validations.fingerprints import all_different
from validations.parse import ParsedFile
from validations.phases.common import Check, flag, run_checks


def check_schema(files: dict[str, ParsedFile], findings: Findings, period_end: dt.date) -> None:
    """Every SCH check; the findings come in this order whichever thread ran a check first."""
    run_checks(schema_checks(files, period_end), findings, max((p.num_rows for p in files.values()), default=0))


def schema_checks(files: dict[str, ParsedFile], period_end: dt.date) -> list[Check]:
    """The SCH checks of one filing, each adding what it finds, in the order their findings are listed."""
    checks: list[Check] = []
    for parsed in files.values():
        checks += [partial(_required, parsed), partial(_codes, parsed), partial(_ranges, parsed)]
    if "guarantees" in files:
        g = files["guarantees"]
        checks += [
            partial(_party_ids, g, period_end=period_end),
            partial(_id_type_fits_category, g),
            partial(_unique, g, "guarantee_id"),
            partial(_classification_codes, g),
        ]
    if "compensations" in files:
        checks.append(partial(_unique, files["compensations"], "compensation_id"))
    return checks


def _required(parsed: ParsedFile, findings: Findings) -> None:
    """SCH-001: empty required values, and the template's row-dependent requirements."""
    for column in parsed.spec.columns:
        if not (column.required or column.required_when) or parsed.typed[column.name].null_count == 0:
            continue  # a column without an empty cell breaks no requirement
        empty = parsed.empty(column.name)
        if column.required:
            flag(findings, "SCH-001", parsed.spec.name, column.name, empty, None,
                 f"{column.name}（{column.zh}）必填", f"{column.name} is required")
        for condition in column.required_when:
            applies = parsed.text_in(condition.column, condition.values)
            flag(findings, "SCH-001", parsed.spec.name, column.name, applies & empty, None,
                 f"{condition.description_zh}{column.name}（{column.zh}）必填",
                 f"{column.name} is required {condition.description_en}")


def _codes(parsed: ParsedFile, findings: Findings) -> None:
    """SCH-002: a filled code outside its code list (exact, case-sensitive)."""
    for column in parsed.spec.columns:
        if column.codes is None:
            continue
        values = parsed.text[column.name]
        # the shared dictionary codes (phase 4 reads the same): an empty cell is a null code
        bad = ~parsed.codes.is_null(column.name) & ~parsed.codes.is_in(column.name, column.codes)
        flag(findings, "SCH-002", parsed.spec.name, column.name, bad, values,
             f"{column.name} 应为 {', '.join(column.codes)} 之一", f"{column.name} must be one of {', '.join(column.codes)}")


def _ranges(parsed: ParsedFile, findings: Findings) -> None:
    """SCH-005: numbers outside their range (negative amounts, zero guaranteed amount, shares, rates)."""
    for column in parsed.spec.columns:
        if column.type not in (ColumnType.AMOUNT, ColumnType.RATE, ColumnType.DECIMAL):
            continue
        values = parsed.typed[column.name]
        outside = []  # each bound's mask; null (an empty cell) is no finding of this rule
        bounds_zh, bounds_en = [], []
        if column.lower is not None:
            outside.append(pc.less_equal(values, column.lower) if column.lower_open else pc.less(values, column.lower))
            bounds_zh.append(f"{'>' if column.lower_open else '≥'} {column.lower:g}")
            bounds_en.append(f"{'>' if column.lower_open else '>='} {column.lower:g}")
        if column.upper is not None:
            outside.append(pc.greater(values, column.upper))
            bounds_zh.append(f"≤ {column.upper:g}")
            bounds_en.append(f"<= {column.upper:g}")
        if not outside:
            continue
        bad = pc.fill_null(outside[0] if len(outside) == 1 else pc.or_(*outside), False)
        flag(findings, "SCH-005", parsed.spec.name, column.name, bad, parsed.text[column.name],
             f"{column.name} 应 {' 且 '.join(bounds_zh)}", f"{column.name} must be {' and '.join(bounds_en)}")


def _party_ids(g: ParsedFile, findings: Findings, *, period_end: dt.date) -> None:
    """SCH-003: USCC check character (GB 32100-2015), RIC check character and birth date (GB 11643-1999)."""
    ids = g.text["party_id"]
    is_uscc, is_ric = g.text_in("party_id_type", ("USCC",)), g.text_in("party_id_type", ("RIC",))
    filled = ~g.codes.is_null("party_id")  # an empty id is null in the codes phase 1 computed
    bad = filled & ~party_ids_valid(ids, is_uscc, is_ric, np.datetime64(period_end, "D"))
    flag(findings, "SCH-003", "guarantees", "party_id", bad & is_uscc, ids,
         "统一社会信用代码校验位错误（GB 32100-2015）", "USCC check character is wrong (GB 32100-2015)")
    flag(findings, "SCH-003", "guarantees", "party_id", bad & is_ric, ids,
         "居民身份证号码校验位或出生日期错误（GB 11643-1999）",
         "resident ID check character or birth date is wrong (GB 11643-1999)")


def _id_type_fits_category(g: ParsedFile, findings: Findings) -> None:
    """SCH-004: farmer needs RIC; micro, small, medium and large need USCC."""
    types = g.text["party_id_type"]
    for id_type in sorted(set(ID_TYPE_FOR_CATEGORY.values())):
        needing = sorted(c for c, t in ID_TYPE_FOR_CATEGORY.items() if t == id_type)
        bad = g.text_in("party_category", needing) & ~g.text_in("party_id_type", (id_type, ""))
        flag(findings, "SCH-004", "guarantees", "party_id_type", bad, types,
             f"{'/'.join(needing)} 类被担保人的证件类型应为 {id_type}", f"{'/'.join(needing)} parties need {id_type}")


def _unique(parsed: ParsedFile, column: str, findings: Findings) -> None:
    """SCH-006: every occurrence of an id after its first is flagged."""
    values = parsed.text[column]
    if len(values) == 0:
        return
    if all_different(parsed.typed[column]):  # the usual case, proven without a hash table of the values
        return
    codes = parsed.codes.indices(column)
    _, first = np.unique(codes, return_index=True)
    repeat = np.ones(len(codes), dtype=bool)
    repeat[first] = False
    repeat &= ~parsed.codes.is_null(column)  # an empty id is SCH-001's business
    flag(findings, "SCH-006", parsed.spec.name, column, repeat, values,
         f"{column} 重复", f"{column} repeats an earlier row")


def _classification_codes(g: ParsedFile, findings: Findings) -> None:
    """SCH-007: industry_code is four digits in a GB/T 4754-2017 division 01–97; district_code six digits.
    Each test runs once per distinct code (the shared dictionary codes), not once per row."""
    bad_industry = g.codes.where("industry_code", _not_an_industry_class)
    flag(findings, "SCH-007", "guarantees", "industry_code", bad_industry, g.text["industry_code"],
         "应为 GB/T 4754-2017 门类 01–97 内的四位行业小类代码", "must be a four-digit GB/T 4754-2017 class in divisions 01–97")
    bad_district = g.codes.where("district_code", lambda codes: pc.invert(pc.match_substring_regex(codes, r"^[0-9]{6}$")))
    flag(findings, "SCH-007", "guarantees", "district_code", bad_district, g.text["district_code"],
         "应为六位数字行政区划代码（GB/T 2260）", "must be a six-digit GB/T 2260 code")


def _not_an_industry_class(codes: pa.Array) -> pa.Array:
    division = pc.cast(pc.utf8_slice_codeunits(pc.if_else(pc.match_substring_regex(codes, r"^[0-9]{4}$"),
                                                          codes, None), 0, 2), pa.int32())
    return pc.invert(pc.fill_null(pc.and_(pc.greater_equal(division, 1), pc.less_equal(division, 97)), False))
