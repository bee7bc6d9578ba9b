"""Build the SCH-001..007 expectation suites from the template, as plain dicts in GX 1.x's serialized
``ExpectationSuite`` form.

The suites are generated, never hand-edited, so that the regulator's readable contract
(``validations/suites/*.json``) and the template the engine checks cannot drift apart; a test compares
the checked-in files with what this module builds. No GX import: the form is plain JSON.

Row conditions use GX 1.x ``Condition`` objects in their serialized form (``{"type": "comparison",
"column": {"name": ...}, "operator": "IN", "parameter": [...]}``); string conditions with
``condition_parser="pandas"`` are deprecated since GX Core 1.9.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from schemas import get_template
from schemas.codes import ID_TYPE_FOR_CATEGORY
from schemas.template import Column, ColumnType, FileSpec
from validations.checksums import RIC_CHECK, USCC_ALPHABET

SUITES_DIR = Path(__file__).resolve().parents[1] / "suites"
RULES_SOURCE = "docs/spec/rules.md#phase-2--schema-sch-row-level"
TEMPLATE_SOURCE = "docs/spec/filing-template.md"
SEVERITY = "critical"  # every SCH rule is an error: the filing is rejected

# Rules that schema.py applies to named columns rather than deriving from the template's Column fields.
UNIQUE_COLUMNS: dict[str, tuple[str, ...]] = {"guarantees": ("guarantee_id",), "compensations": ("compensation_id",)}
# Non-capturing groups: GX's pandas regex check (Series.str.contains) warns about capturing ones.
INDUSTRY_CODE_REGEX = r"^(?:0[1-9]|[1-8][0-9]|9[0-7])[0-9]{2}$"  # GB/T 4754-2017 class in divisions 01–97
DISTRICT_CODE_REGEX = r"^[0-9]{6}$"  # GB/T 2260
CLASSIFICATION_CODES: dict[str, dict[str, str]] = {
    "guarantees": {"industry_code": INDUSTRY_CODE_REGEX, "district_code": DISTRICT_CODE_REGEX},
}


def _char_class(chars: Iterable[str]) -> str:
    """A regex character class with runs of consecutive characters as ranges (``0-9A-HJ-N...``)."""
    codes = sorted({ord(c) for c in chars})
    parts: list[str] = []
    start = prev = codes[0]
    for code in [*codes[1:], None]:
        if code is not None and code == prev + 1:
            prev = code
            continue
        parts.append(chr(start) if start == prev else f"{chr(start)}{'-' if prev > start + 1 else ''}{chr(prev)}")
        if code is not None:
            start = prev = code
    return "[" + "".join(parts) + "]"


# SCH-003, the part a regex can say: checksums.py accepts the USCC alphabet in either case, and a RIC
# with a 19xx/20xx birth date and check character 0-9/X/x; it alone computes the check character.
USCC_FORMAT_REGEX = "^" + _char_class(USCC_ALPHABET + USCC_ALPHABET.lower()) + "{18}$"
RIC_FORMAT_REGEX = (
    r"^[0-9]{6}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}"
    + _char_class(RIC_CHECK + RIC_CHECK.lower())
    + "$"
)
PARTY_ID_FORMATS: dict[str, tuple[str, str, str]] = {  # id type: regex, standard, what the custom expectation checks
    "USCC": (USCC_FORMAT_REGEX, "GB 32100-2015", "the check character (18th, over the first 17)"),
    "RIC": (RIC_FORMAT_REGEX, "GB 11643-1999", "the check character, and a real birth date"),
}
# SCH-003's check characters: custom expectations (validations/gx/expectations.py) computing them with
# validations/checksums.py, the engine's own functions.
CHECK_CHARACTER_TYPES = {
    "USCC": "expect_column_values_to_have_valid_uscc_check_character",
    "RIC": "expect_column_values_to_have_valid_ric_check_character",
}


def suite_name(file: str, version: str) -> str:
    return f"danbao.{file}.v{version.replace('.', '_')}"


def is_in(column: str, values: Iterable[str]) -> dict[str, Any]:
    """A GX 1.x row condition ``Column(column).is_in(values)`` in serialized form."""
    return {"column": {"name": column}, "operator": "IN", "parameter": sorted(values), "type": "comparison"}


def _expectation(
    kind: str, rule_id: str, column: Column, description: str, kwargs: dict[str, Any], **meta: Any
) -> dict[str, Any]:
    return {
        "type": kind,
        "kwargs": {"column": column.name, **kwargs},
        "meta": {"rule_id": rule_id, "column": column.name, "source": RULES_SOURCE, **meta},
        "description": description,
        "severity": SEVERITY,
    }


def _required(spec: FileSpec) -> list[dict[str, Any]]:
    """SCH-001: required columns, and requirements that depend on another column of the same row."""
    out = []
    for c in spec.columns:
        if c.required:
            out.append(_expectation("expect_column_values_to_not_be_null", "SCH-001", c,
                                    f"SCH-001 {c.name}（{c.zh}）必填 / is required", {}))
        for cond in c.required_when:
            out.append(_expectation(
                "expect_column_values_to_not_be_null", "SCH-001", c,
                f"SCH-001 {cond.description_zh}{c.name}（{c.zh}）必填 / is required {cond.description_en}",
                {"row_condition": is_in(cond.column, cond.values)},
            ))
    return out


def _codes(spec: FileSpec) -> list[dict[str, Any]]:
    """SCH-002: a filled code must be in its code list (exact and case-sensitive)."""
    return [
        _expectation("expect_column_values_to_be_in_set", "SCH-002", c,
                     f"SCH-002 {c.name}（{c.zh}）应在代码表内 / must be in its code list",
                     {"value_set": list(c.codes)})
        for c in spec.columns
        if c.codes is not None
    ]


def _party_ids(spec: FileSpec) -> list[dict[str, Any]]:
    """SCH-003: the format as a regex, then the check character (and a RIC's birth date) as a custom
    expectation; only "a birth date not after the period end" needs the period, which a suite lacks."""
    if spec.name != "guarantees":
        return []
    c = spec.column("party_id")
    out = []
    for id_type, (regex, standard, rest) in PARTY_ID_FORMATS.items():
        condition = is_in("party_id_type", [id_type])
        out.append(_expectation(
            "expect_column_values_to_match_regex", "SCH-003", c,
            f"SCH-003 证件类型为 {id_type} 时 party_id 的格式（{standard}）/ party_id format for {id_type} ({standard})",
            {"regex": regex, "row_condition": condition},
            part="format",
        ))
        out.append(_expectation(
            CHECK_CHARACTER_TYPES[id_type], "SCH-003", c,
            f"SCH-003 证件类型为 {id_type} 时 party_id 的校验位（{standard}）/ party_id check character for {id_type} "
            f"({standard}: {rest})",
            {"row_condition": condition},
            part="check_character",
            **({"not_expressed": "a birth date not after the period end (the suite has no period)"}
               if id_type == "RIC" else {}),
        ))
    return out


def _id_type_fits_category(spec: FileSpec) -> list[dict[str, Any]]:
    """SCH-004: the id type a party category needs (codes.ID_TYPE_FOR_CATEGORY)."""
    if spec.name != "guarantees":
        return []
    c = spec.column("party_id_type")
    out = []
    for id_type in sorted(set(ID_TYPE_FOR_CATEGORY.values())):
        categories = sorted(k for k, v in ID_TYPE_FOR_CATEGORY.items() if v == id_type)
        out.append(_expectation(
            "expect_column_values_to_be_in_set", "SCH-004", c,
            f"SCH-004 {'/'.join(categories)} 类被担保人的证件类型应为 {id_type} / {'/'.join(categories)} parties need {id_type}",
            {"value_set": [id_type], "row_condition": is_in("party_category", categories)},
        ))
    return out


def _ranges(spec: FileSpec) -> list[dict[str, Any]]:
    """SCH-005: numeric ranges from the Column's lower/lower_open/upper."""
    out = []
    for c in spec.columns:
        if c.type not in (ColumnType.AMOUNT, ColumnType.RATE, ColumnType.DECIMAL):
            continue
        kwargs: dict[str, Any] = {}
        bounds = []
        if c.lower is not None:
            kwargs["min_value"] = float(c.lower)
            bounds.append(f"{'>' if c.lower_open else '>='} {c.lower:g}")
        if c.upper is not None:
            kwargs["max_value"] = float(c.upper)
            bounds.append(f"<= {c.upper:g}")
        if c.lower is not None and c.lower_open:
            kwargs["strict_min"] = True
        if not kwargs:
            continue
        text = " 且 / and ".join(bounds)
        out.append(_expectation("expect_column_values_to_be_between", "SCH-005", c,
                                f"SCH-005 {c.name}（{c.zh}）{text}", kwargs))
    return out


def _unique(spec: FileSpec) -> list[dict[str, Any]]:
    """SCH-006: ids that must not repeat within the file."""
    return [
        _expectation("expect_column_values_to_be_unique", "SCH-006", spec.column(name),
                     f"SCH-006 {name}（{spec.column(name).zh}）不得重复 / must not repeat", {})
        for name in UNIQUE_COLUMNS.get(spec.name, ())
    ]


def _classification_codes(spec: FileSpec) -> list[dict[str, Any]]:
    """SCH-007: industry (GB/T 4754-2017 divisions 01–97) and district (GB/T 2260) code shapes."""
    return [
        _expectation("expect_column_values_to_match_regex", "SCH-007", spec.column(name),
                     f"SCH-007 {name}（{spec.column(name).zh}）格式 / format", {"regex": regex})
        for name, regex in CLASSIFICATION_CODES.get(spec.name, {}).items()
    ]


def build_suite(spec: FileSpec, version: str) -> dict[str, Any]:
    """The SCH suite of one template file, in rule order."""
    expectations = [
        *_required(spec), *_codes(spec), *_party_ids(spec), *_id_type_fits_category(spec),
        *_ranges(spec), *_unique(spec), *_classification_codes(spec),
    ]
    return {
        "name": suite_name(spec.name, version),
        "expectations": expectations,
        "meta": {
            "file": spec.name,
            "template_version": version,
            "rules": "SCH-001..SCH-007",
            "source": RULES_SOURCE,
            "template": TEMPLATE_SOURCE,
            "generated_by": "validations/gx/suites.py (do not edit: regenerate with write_suites)",
            "empty_values": "an empty cell is null; every expectation but not_be_null ignores nulls",
        },
        "notes": None,
    }


def build_suites(version: str = "1.0") -> dict[str, dict[str, Any]]:
    """One suite per file of the template, keyed by file name."""
    template = get_template(version)
    return {spec.name: build_suite(spec, version) for spec in template.files}


def suite_json(suite: dict[str, Any]) -> str:
    """The canonical text of a suite file, so that regenerating is byte-for-byte stable."""
    return json.dumps(suite, ensure_ascii=False, indent=2) + "\n"


def write_suites(directory: Path = SUITES_DIR, version: str = "1.0") -> list[Path]:
    """Write ``{file}.json`` for every template file; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, suite in build_suites(version).items():
        path = directory / f"{name}.json"
        path.write_text(suite_json(suite), encoding="utf-8")
        paths.append(path)
    return paths


def load_suite(file: str, directory: Path = SUITES_DIR) -> dict[str, Any]:
    """The checked-in suite of ``file`` (the contract as published)."""
    return json.loads((directory / f"{file}.json").read_text(encoding="utf-8"))


if __name__ == "__main__":
    for written in write_suites():
        print(written)
