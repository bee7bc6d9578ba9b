"""The fuzz harness: mutate the bytes of a valid package (the ZIP itself, a CSV, the manifest, an XLSX
or one XML part inside it) and assert that checking it gives findings and never raises.

``test_fuzz_check.py`` runs a few seconds of it in ``make test``; ``DANBAO_FUZZ_EXAMPLES=N`` asks for
more, and ``python -m tests.fuzz.longrun`` runs a long campaign and prints its figures.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from functools import cache

from hypothesis import strategies as st

from connectors.intake import IntakeLimits, read_package_bytes
from connectors.intake.package import UNEXPECTED
from pipelines.commands.check import render_summary
from tests.hostile import sample_rows, sheet_xml, workbook, zip_members
from tests.packages import SAMPLES, Package, registry
from tests.validations.vcheck import NOW
from validations.engine import CheckResult, FilingStatus, validate

FILES = ("guarantees.csv", "financials.csv", "compensations.csv")
TARGETS = ("zip", "manifest", "guarantees.csv", "financials.csv", "compensations.csv", "xlsx", "xlsx-part")
XLSX_PARTS = ("xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "_rels/.rels")
# small limits, so that a mutation that grows a file meets them quickly (and a run stays fast)
LIMITS = IntakeLimits(max_line_bytes=4096, max_xlsx_cells=20_000, max_xlsx_shared_strings=1000,
                      max_xlsx_shared_string_chars=100_000, max_xlsx_expanded_bytes=8 << 20)

OUTCOMES: Counter[str] = Counter()  # what the examples came to, for the long run's figures

_TOKENS = [b"\x00", b"\xff", b"\xfe\xff", b"\r", b"\n", b"\r\n", b'"', b",", b"{", b"}", b"[", b"]", b":",
           b"9" * 60, b"\xe4\xb8", b"\x81\x40", b"<", b">", b"&", b"</", b"<!DOCTYPE x>", b"PK\x03\x04", b"-",
           "２".encode(), b"\xef\xbb\xbf", b"NaN", b"1e309", b"\\u0000", b"\\ud800"]

mutations = st.lists(
    st.tuples(
        st.sampled_from(["flip", "insert", "delete", "duplicate", "truncate", "overwrite"]),
        st.integers(min_value=0, max_value=2**31),
        st.one_of(st.sampled_from(_TOKENS), st.binary(min_size=1, max_size=16)),
    ),
    min_size=1, max_size=4,
)


def mutate(data: bytes, ops: list[tuple[str, int, bytes]]) -> bytes:
    out = bytearray(data)
    for op, at, blob in ops:
        n = len(out)
        i = at % (n + 1)
        if op == "flip" and n:
            out[i % n] ^= blob[0] or 0x01
        elif op == "insert":
            out[i:i] = blob
        elif op == "delete":
            del out[i: i + 1 + blob[0] % 64]
        elif op == "duplicate":
            out[i:i] = out[i: i + 1 + blob[0] * 4]
        elif op == "truncate":
            del out[i:]
        elif op == "overwrite":
            out[i: i + len(blob)] = blob
    return bytes(out)


@cache
def _base() -> tuple[dict[str, bytes], list[tuple[str, bytes]]]:
    """The valid sample's files, and the parts of its guarantees as a workbook."""
    files = {p.name: p.read_bytes() for p in sorted((SAMPLES / "valid-2026-10").iterdir())}
    pkg = Package(SAMPLES / "valid-2026-10")
    parts = workbook([("guarantees", "visible", sheet_xml(sample_rows(pkg)))])
    return files, parts


def package_bytes(target: str, ops: list[tuple[str, int, bytes]], resign: bool) -> bytes:
    """The ZIP of the sample with ``target`` mutated; data files re-signed in the manifest when ``resign``
    (so that the mutation reaches the readers instead of stopping at FMT-002)."""
    files, parts = _base()
    files = dict(files)
    manifest = json.loads(files["manifest.json"])
    if target in FILES:
        files[target] = mutate(files[target], ops)
    elif target in ("xlsx", "xlsx-part"):
        if target == "xlsx":
            xlsx = mutate(zip_members(parts), ops)
        else:
            chosen = XLSX_PARTS[ops[0][1] % len(XLSX_PARTS)]
            xlsx = zip_members([(n, mutate(d, ops) if n == chosen else d) for n, d in parts])
        del files["guarantees.csv"]
        files["guarantees.xlsx"] = xlsx
        manifest["files"]["guarantees"]["path"] = "guarantees.xlsx"
        resign = True
    if resign:
        for entry in manifest["files"].values():
            entry["sha256"] = hashlib.sha256(files[entry["path"]]).hexdigest()
        files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
    if target == "manifest":
        files["manifest.json"] = mutate(files["manifest.json"], ops)
    data = zip_members(sorted(files.items()))
    return mutate(data, ops) if target == "zip" else data


def check_never_raises(data: bytes) -> CheckResult:
    """What ``danbao check --json`` does with the bytes, in-process: read, validate, render the JSON and
    the summary as UTF-8. Any exception is a failure of the harness."""
    result = validate(read_package_bytes(data, LIMITS), registry(), now=NOW)
    assert result.status in tuple(FilingStatus)
    json.dumps(result.to_json_dict(), ensure_ascii=False, default=str).encode("utf-8")
    render_summary(result, "fuzz").encode("utf-8")
    findings = result.findings.to_pylist()
    bugs = [f["message_en"] for f in findings if UNEXPECTED in f["message_en"]]
    assert not bugs, f"a reader failed unexpectedly (contained as FMT-003, still a bug): {bugs}"
    errors = sorted({f["rule_id"] for f in findings if f["severity"] == "error"})
    if result.status == FilingStatus.REJECTED:
        assert errors, "a rejection names its rule"
    OUTCOMES[f"{result.status}" + (f" {errors[0]}" if errors else "")] += 1
    return result
