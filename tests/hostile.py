"""The hostile-package corpus: each case the mutation run of "Trustworthy at the edges" found, rebuilt by
code from the valid sample (small and deterministic), with the finding ``danbao check`` must give.

``CASES`` maps a name to a builder ``(tmp_path) -> package path`` and the expected finding: its rule,
file, row and column, and a regular expression its English message must match. ``BOMBS`` are the two
large workbooks, built once per session; their cases also bound memory and time (tests/cli).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import struct
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from tests.packages import Package

FIXED_TIME = (2026, 11, 1, 0, 0, 0)  # ZIP timestamps, so that every build is byte-identical


@dataclass(frozen=True)
class Expect:
    rule_id: str
    file: str | None
    row: int | None
    column: str | None
    message: str  # a regular expression the English message must match (re.search)


@dataclass(frozen=True)
class Case:
    build: Callable[[Path], Path]
    expect: Expect | None  # None: the package must not be rejected for format


# --- building blocks -------------------------------------------------------------------------------

def zip_members(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A ZIP of the members in order (duplicates allowed), with fixed timestamps."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": the corpus means it
        for name, data in members:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = compression
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def package_members(pkg: Package) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(pkg.root.iterdir())]


def corrupt_deflate(data: bytes, member: str) -> bytes:
    """The ZIP with the named member's deflate stream made invalid (first block of the reserved type 3),
    so that zlib raises while inflating it; the headers are untouched."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
    out = bytearray(data)
    name_len, extra_len = struct.unpack_from("<HH", out, info.header_offset + 26)
    out[info.header_offset + 30 + name_len + extra_len] = 0xFF
    return bytes(out)


def mark_encrypted(data: bytes, member: str) -> bytes:
    """The ZIP with the member's "encrypted" flag set in both headers (zipfile cannot write encryption)."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
    struct.pack_into("<H", out, info.header_offset + 6, info.flag_bits | 0x1)
    central = out.find(b"PK\x01\x02")
    while central >= 0:
        name_len = struct.unpack_from("<H", out, central + 28)[0]
        if bytes(out[central + 46: central + 46 + name_len]) == member.encode():
            struct.pack_into("<H", out, central + 8, info.flag_bits | 0x1)
            break
        central = out.find(b"PK\x01\x02", central + 4)
    return bytes(out)


def _cell(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>' if value != "" else ""


def _ref(column: int, row: int) -> str:
    letters = ""
    n = column + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return f"{letters}{row}"


def sheet_xml(rows: list[list[str]]) -> bytes:
    body = "".join(
        f'<row r="{r + 1}">' + "".join(_cell(_ref(c, r + 1), v) for c, v in enumerate(row)) + "</row>"
        for r, row in enumerate(rows)
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>{body}</sheetData>'
            "</worksheet>").encode()


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def workbook(sheets: list[tuple[str, str, bytes]], shared_strings: bytes | None = None,
             extra: list[tuple[str, bytes]] | None = None) -> list[tuple[str, bytes]]:
    """The parts of a minimal workbook: sheets as (name, state, sheet XML), in tab order."""
    sheet_entries = "".join(
        f'<sheet name="{escape(name)}" sheetId="{i + 1}" state="{state}" r:id="rId{i + 1}"/>'
        for i, (name, state, _) in enumerate(sheets)
    )
    rels = "".join(
        f'<Relationship Id="rId{i + 1}" Type="{_REL}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
        for i in range(len(sheets))
    )
    if shared_strings is not None:
        rels += f'<Relationship Id="rIdS" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
    parts = [
        ("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships"><Relationship Id="rId1" Type="{_REL}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>').encode()),
        ("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{_REL}"><sheets>'
            f"{sheet_entries}</sheets></workbook>").encode()),
        ("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships">{rels}</Relationships>').encode()),
    ]
    parts += [(f"xl/worksheets/sheet{i + 1}.xml", xml) for i, (_, _, xml) in enumerate(sheets)]
    if shared_strings is not None:
        parts.append(("xl/sharedStrings.xml", shared_strings))
    return parts + (extra or [])


def sample_rows(pkg: Package, file: str = "guarantees") -> list[list[str]]:
    header, rows = pkg.rows(file)
    return [header, *rows]


def with_xlsx(pkg: Package, parts: list[tuple[str, bytes]], file: str = "guarantees",
              mutate: Callable[[bytes], bytes] | None = None) -> Path:
    data = zip_members(parts)
    if mutate is not None:
        data = mutate(data)
    pkg.write_bytes(f"{file}.xlsx", data, file)
    (pkg.root / f"{file}.csv").unlink()
    return pkg.root


def csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def set_manifest_text(pkg: Package, text: str) -> Path:
    (pkg.root / "manifest.json").write_text(text, encoding="utf-8")
    return pkg.root


def zipped(pkg: Package, members: list[tuple[str, bytes]], mutate: Callable[[bytes], bytes] | None = None) -> Path:
    data = zip_members(members)
    if mutate is not None:
        data = mutate(data)
    path = pkg.root.with_suffix(".zip")
    path.write_bytes(data)
    return path


# --- the cases -------------------------------------------------------------------------------------

def _copy(tmp: Path, name: str) -> Package:
    return Package.copy(tmp, name=name)


def _deflate_in_package(member: str) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        pkg = _copy(tmp, f"deflate-{member}")
        return zipped(pkg, package_members(pkg), lambda data: corrupt_deflate(data, member))
    return build


def _deflate_in_xlsx(part: str) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        pkg = _copy(tmp, f"xlsx-deflate-{part.replace('/', '_')}")
        strings = f'<?xml version="1.0"?><sst xmlns="{MAIN}"><si><t>x</t></si></sst>'.encode()
        parts = workbook([("guarantees", "visible", sheet_xml(sample_rows(pkg)))], strings)
        return with_xlsx(pkg, parts, mutate=lambda data: corrupt_deflate(data, part))
    return build


def _cr_only(tmp: Path) -> Path:
    pkg = _copy(tmp, "cr-only")
    data = (pkg.root / "guarantees.csv").read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r")
    pkg.write_bytes("guarantees.csv", data, "guarantees")
    return pkg.root


def _nested_manifest(tmp: Path) -> Path:
    pkg = _copy(tmp, "nested-manifest")
    manifest = json.dumps(pkg.manifest)
    return set_manifest_text(pkg, manifest[:-1] + ', "x": ' + "[" * 50_000 + "]" * 50_000 + "}")


def _long_number(tmp: Path) -> Path:
    pkg = _copy(tmp, "long-number")
    return set_manifest_text(pkg, json.dumps(pkg.manifest)[:-1] + ', "sequence": ' + "7" * 100_000 + "}")


def _nul_in_path(tmp: Path) -> Path:
    pkg = _copy(tmp, "nul-path")
    manifest = pkg.manifest
    manifest["files"]["guarantees"]["path"] = "guarantees.csv\x00.txt"
    pkg.write_manifest(manifest)
    return pkg.root


def _symlink_loop(tmp: Path) -> Path:
    pkg = _copy(tmp, "symlink-loop")
    os.symlink("loop", pkg.root / "loop")
    manifest = pkg.manifest
    manifest["files"]["compensations"]["path"] = "loop"
    pkg.write_manifest(manifest)
    return pkg.root


def _malformed_sheet(tmp: Path) -> Path:
    pkg = _copy(tmp, "malformed-sheet")
    xml = sheet_xml(sample_rows(pkg)).replace(b"</row>", b"</rowx>", 3)
    return with_xlsx(pkg, workbook([("guarantees", "visible", xml)]))


def _bad_shared_string_index(tmp: Path) -> Path:
    pkg = _copy(tmp, "bad-sst-index")
    rows = sample_rows(pkg)
    xml = re.sub(rb'<c r="E3" t="inlineStr"><is><t>[^<]*</t></is></c>', b'<c r="E3" t="s"><v>99</v></c>', sheet_xml(rows))
    strings = f'<?xml version="1.0"?><sst xmlns="{MAIN}"><si><t>x</t></si></sst>'.encode()
    return with_xlsx(pkg, workbook([("guarantees", "visible", xml)], strings))


def _invalid_utf8_short_row(tmp: Path) -> Path:
    pkg = _copy(tmp, "invalid-utf8-short-row")
    data = (pkg.root / "guarantees.csv").read_bytes()
    lines = data.split(b"\n")
    lines[5] = b"G\xff\xfe,short"  # data row 5: two fields, invalid UTF-8 (and not GB18030)
    pkg.write_bytes("guarantees.csv", b"\n".join(lines), "guarantees")
    return pkg.root


def _shift_jis(tmp: Path) -> Path:
    pkg = _copy(tmp, "shift-jis")
    rows = sample_rows(pkg)
    i = rows[0].index("party_name")
    names = ["株式会社やまだ商事", "山田太郎", "鈴木花子", "佐藤健", "日本電気株式会社"]
    for k, row in enumerate(rows[1:]):
        row[i] = names[k % len(names)]
    pkg.write_bytes("guarantees.csv", csv_text(rows).encode("shift_jis"), "guarantees")
    return pkg.root


def _utf8_read_as_latin1(tmp: Path) -> Path:
    pkg = _copy(tmp, "utf8-as-latin1")
    text = (pkg.root / "guarantees.csv").read_bytes().decode("utf-8")
    pkg.write_bytes("guarantees.csv", text.encode("utf-8").decode("latin-1").encode("utf-8"), "guarantees")
    return pkg.root


def _full_width_period(tmp: Path) -> Path:
    pkg = _copy(tmp, "full-width-period")
    manifest = pkg.manifest
    manifest["period"] = "２０２６-10"
    pkg.write_manifest(manifest)
    return pkg.root


def _hidden_first_sheet(tmp: Path) -> Path:
    pkg = _copy(tmp, "hidden-first-sheet")
    garbage = sheet_xml([["not", "the", "filing"], ["x", "y", "z"]])
    return with_xlsx(pkg, workbook([("Sheet0", "hidden", garbage), ("guarantees", "visible",
                                                                     sheet_xml(sample_rows(pkg)))]))


def _only_hidden_sheets(tmp: Path) -> Path:
    pkg = _copy(tmp, "only-hidden-sheets")
    xml = sheet_xml(sample_rows(pkg))
    return with_xlsx(pkg, workbook([("a", "hidden", xml), ("b", "veryHidden", xml)]))


def _duplicate_member(tmp: Path) -> Path:
    pkg = _copy(tmp, "duplicate-member")
    members = package_members(pkg)
    return zipped(pkg, [*members, ("financials.csv", b"period_end\n2026-10-31\n")])


def _encrypted_member(tmp: Path) -> Path:
    pkg = _copy(tmp, "encrypted-member")
    return zipped(pkg, package_members(pkg), lambda data: mark_encrypted(data, "guarantees.csv"))


def _duplicate_json_key(tmp: Path) -> Path:
    pkg = _copy(tmp, "duplicate-json-key")
    text = json.dumps(pkg.manifest, ensure_ascii=False)
    return set_manifest_text(pkg, text.replace('"period": "2026-10"', '"period": "2026-10", "period": "2026-09"'))


def _unterminated_quote(tmp: Path) -> Path:
    pkg = _copy(tmp, "unterminated-quote")
    data = (pkg.root / "guarantees.csv").read_bytes()
    lines = data.split(b"\n")
    lines[7] = b'"' + lines[7]  # data row 7 opens a quote that never closes
    pkg.write_bytes("guarantees.csv", b"\n".join(lines), "guarantees")
    return pkg.root


def _encrypted_workbook(tmp: Path) -> Path:
    pkg = _copy(tmp, "encrypted-workbook")
    pkg.write_bytes("guarantees.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "guarantees")
    (pkg.root / "guarantees.csv").unlink()
    return pkg.root


def _dtd_in_sheet(tmp: Path) -> Path:
    pkg = _copy(tmp, "dtd-in-sheet")
    xml = sheet_xml(sample_rows(pkg)).replace(
        b"<worksheet", b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><worksheet', 1)
    return with_xlsx(pkg, workbook([("guarantees", "visible", xml)]))


def _huge_row_number(tmp: Path) -> Path:
    pkg = _copy(tmp, "huge-row-number")
    xml = sheet_xml(sample_rows(pkg)).replace(b"</sheetData>", b'<row r="1048576"><c r="A1048576" '
                                              b't="inlineStr"><is><t>x</t></is></c></row></sheetData>')
    return with_xlsx(pkg, workbook([("guarantees", "visible", xml)]))


def _unknown_xml_encoding(tmp: Path) -> Path:
    """Found by the fuzz harness: an XML declaration naming an encoding expat does not know."""
    pkg = _copy(tmp, "unknown-xml-encoding")
    parts = workbook([("guarantees", "visible", sheet_xml(sample_rows(pkg)))])
    return with_xlsx(pkg, [(n, d.replace(b'encoding="UTF-8"', b'encoding="UTG-8"')) for n, d in parts])


CASES: dict[str, Case] = {
    # eight corrupt deflate streams: three package members, the manifest, and four parts of a workbook
    **{f"deflate-{m}": Case(_deflate_in_package(m), Expect("FMT-003", f, None, None, rf"ZIP member '{m}' is damaged"))
       for m, f in [("guarantees.csv", "guarantees"), ("financials.csv", "financials"),
                    ("compensations.csv", "compensations"), ("manifest.json", "manifest.json")]},
    **{f"xlsx-deflate-{p}": Case(_deflate_in_xlsx(p), Expect("FMT-003", "guarantees", None, None,
                                                             rf"corrupt XLSX: the part {p} is damaged"))
       for p in ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml", "_rels/.rels"]},
    "cr-only-line-ends": Case(_cr_only, Expect("FMT-003", "guarantees", None, None, r"bare CR \(classic Mac OS\)")),
    "nested-manifest": Case(_nested_manifest, Expect("FMT-001", "manifest.json", None, None,
                                                     r"nests objects or arrays more than 16 levels deep")),
    "100000-digit-number": Case(_long_number, Expect("FMT-001", "manifest.json", None, None,
                                                     r"holds a 100000-character number")),
    "nul-in-manifest-path": Case(_nul_in_path, Expect("FMT-001", "manifest.json", None, "files.guarantees.path",
                                                      r"not a relative path inside the package \(it holds a control")),
    "symlink-loop": Case(_symlink_loop, Expect("FMT-003", None, None, None, r"holds a symbolic link, 'loop'")),
    "malformed-sheet-xml": Case(_malformed_sheet, Expect("FMT-003", "guarantees", None, None,
                                                         r"malformed XML in xl/worksheets/sheet1\.xml \(line 1, column \d+")),
    "bad-shared-string-index": Case(_bad_shared_string_index, Expect("FMT-003", "guarantees", 2, "party_name",
                                                                     r"shared-string index '99' does not exist")),
    "invalid-utf8-short-row": Case(_invalid_utf8_short_row, Expect("FMT-003", "guarantees", 5, None,
                                                                   r"unknown encoding .*not UTF-8 \(line 6\)")),
    "shift-jis": Case(_shift_jis, Expect("FMT-003", "guarantees", 1, None,
                                         r"read as GB18030, \d+ of its \d+ Chinese characters are outside GB2312.*Shift-JIS")),
    "utf8-read-as-latin1": Case(_utf8_read_as_latin1, Expect("FMT-003", "guarantees", 1, "party_name",
                                                             r"mojibake: .* would be '.*[\u4e00-\u9fff]")),
    "full-width-period": Case(_full_width_period, Expect("FMT-001", "manifest.json", None, "period",
                                                         r"period must be YYYY-MM in ASCII digits")),
    "hidden-first-sheet": Case(_hidden_first_sheet, None),
    "only-hidden-sheets": Case(_only_hidden_sheets, Expect("FMT-003", "guarantees", None, None, r"no visible sheet")),
    "duplicate-zip-member": Case(_duplicate_member, Expect("FMT-003", "financials", None, None,
                                                           r"duplicate ZIP member: the ZIP holds 2 members named 'financials\.csv'")),
    "encrypted-zip-member": Case(_encrypted_member, Expect("FMT-003", "guarantees", None, None,
                                                           r"'guarantees\.csv' is encrypted \(password-protected\)")),
    "duplicate-json-key": Case(_duplicate_json_key, Expect("FMT-001", "manifest.json", None, "period",
                                                           r"key 'period' appears twice in manifest\.json")),
    "unterminated-quote": Case(_unterminated_quote, Expect("FMT-003", "guarantees", 7, None,
                                                           r"row\(s\) do not have the header's 28 columns")),
    "encrypted-workbook": Case(_encrypted_workbook, Expect("FMT-003", "guarantees", None, None,
                                                           r"encrypted \(password-protected\) or a legacy \.xls")),
    "dtd-in-sheet": Case(_dtd_in_sheet, Expect("FMT-003", "guarantees", None, None, r"declares a DTD or entities")),
    "unknown-xml-encoding": Case(_unknown_xml_encoding, Expect("FMT-003", "guarantees", None, None,
                                                               r"_rels/\.rels cannot be decoded \(unknown encoding: UTG-8\)")),
    "row-1048576": Case(_huge_row_number, Expect("FMT-007", "guarantees", None, None,
                                                 r"more than 10000000 cells \(104857\d rows × 28 columns\)")),
}


# --- the bombs -------------------------------------------------------------------------------------

def _streamed_part(archive: zipfile.ZipFile, name: str, pieces: Callable[[], object]) -> None:
    info = zipfile.ZipInfo(name, FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as out:
        for piece in pieces():  # type: ignore[attr-defined]
            out.write(piece)


def bomb_workbook(path: Path, strings: Callable[[], object], header: list[str]) -> None:
    """A workbook whose shared strings come from ``strings`` (an iterator of XML bytes), streamed to disk."""
    sheet = sheet_xml([header])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in workbook([("guarantees", "visible", sheet)], b""):
            if name == "xl/sharedStrings.xml":
                continue
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
        _streamed_part(archive, "xl/sharedStrings.xml", strings)


def shared_string_bomb(tmp: Path, gigabytes: float = 1.2) -> Path:
    """≈1.2 MB of XLSX whose shared strings inflate to ≈1.2 GB (1,200 strings of 1 MiB of "A")."""
    pkg = _copy(tmp, "xlsx-bomb")
    header = sample_rows(pkg)[0]
    count = int(gigabytes * 1000)

    def strings():
        yield f'<?xml version="1.0"?><sst xmlns="{MAIN}" count="{count}" uniqueCount="{count}">'.encode()
        block = b"A" * (1 << 20)
        for _ in range(count):
            yield b"<si><t>" + block + b"</t></si>"
        yield b"</sst>"

    return _bomb_package(pkg, strings, header)


def many_shared_strings(tmp: Path, count: int = 2_000_000) -> Path:
    """A workbook whose shared-string table holds two million distinct strings."""
    pkg = _copy(tmp, "xlsx-2m-strings")
    header = sample_rows(pkg)[0]

    def strings():
        yield f'<?xml version="1.0"?><sst xmlns="{MAIN}" count="{count}" uniqueCount="{count}">'.encode()
        for start in range(0, count, 10_000):
            yield "".join(f"<si><t>s{i}</t></si>" for i in range(start, min(count, start + 10_000))).encode()
        yield b"</sst>"

    return _bomb_package(pkg, strings, header)


def csv_zip_bomb(tmp: Path) -> Path:
    """≈1.2 MB of ZIP whose guarantees.csv (the sample's rows 33,000 times) inflates to ≈190 MB (158:1)."""
    pkg = _copy(tmp, "csv-zip-bomb")
    header, _, body = (pkg.root / "guarantees.csv").read_bytes().partition(b"\n")
    data = header + b"\n" + body * 33_000
    manifest = pkg.manifest
    manifest["files"]["guarantees"]["sha256"] = hashlib.sha256(data).hexdigest()
    members = [(n, d) for n, d in package_members(pkg) if n not in ("guarantees.csv", "manifest.json")]
    path = tmp / "csv-zip-bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, member in [*members, ("guarantees.csv", data),
                             ("manifest.json", json.dumps(manifest, ensure_ascii=False).encode())]:
            archive.writestr(zipfile.ZipInfo(name, FIXED_TIME), member, zipfile.ZIP_DEFLATED)
    return path


def _bomb_package(pkg: Package, strings: Callable[[], object], header: list[str]) -> Path:
    target = pkg.root / "guarantees.xlsx"
    bomb_workbook(target, strings, header)
    (pkg.root / "guarantees.csv").unlink()
    manifest = pkg.manifest
    manifest["files"]["guarantees"] = {"path": "guarantees.xlsx",
                                       "sha256": hashlib.sha256(target.read_bytes()).hexdigest()}
    pkg.write_manifest(manifest)
    return pkg.root


BOMBS: dict[str, tuple[Callable[[Path], Path], Expect]] = {
    "xlsx-shared-string-bomb": (shared_string_bomb, Expect(
        "FMT-007", "guarantees", None, None, r"shared strings hold more than 67108864 characters")),
    "xlsx-2m-shared-strings": (many_shared_strings, Expect(
        "FMT-007", "guarantees", None, None, r"shared-string table holds more than 1000000 strings")),
    "csv-zip-bomb": (csv_zip_bomb, Expect(
        "FMT-007", "guarantees", None, None, r"guarantees\.csv expands past the limit \(ratio 50\)")),
}
