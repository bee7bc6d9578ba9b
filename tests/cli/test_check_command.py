"""`danbao check`: the JSON contract of outputs.md §1, exit codes 0/1/2, readable text, no tracebacks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.cli import main
from tests.packages import REGISTRY_CSV, SAMPLES, Package

KEYS = {"institution_id", "period", "template_version", "status", "findings", "indicators", "grade"}
FINDING_KEYS = {"rule_id", "severity", "file", "row", "column", "value", "message_zh", "message_en"}


def _check(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(["check", *args])
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_json_for_the_invalid_sample(capsys):
    code, out, _ = _check(capsys, str(SAMPLES / "invalid-2026-10"), "--registry", str(REGISTRY_CSV), "--json")
    doc = json.loads(out)
    assert code == 1
    assert set(doc) == KEYS
    assert doc["status"] == "rejected" and doc["indicators"] is None and doc["grade"] is None
    assert all(set(f) == FINDING_KEYS for f in doc["findings"])
    first = next(f for f in doc["findings"] if f["rule_id"] == "SCH-003")
    assert (first["file"], first["row"], first["column"], first["value"]) == (
        "guarantees", 3, "party_id", "91500113HGL236FR10")
    assert first["message_zh"] and first["message_en"]


def test_json_for_the_valid_sample_exits_zero(capsys):
    code, out, _ = _check(capsys, str(SAMPLES / "valid-2026-10"), "--registry", str(REGISTRY_CSV), "--json")
    doc = json.loads(out)
    assert code == 0
    assert doc["status"] in ("accepted", "needs_confirmation")
    assert doc["institution_id"] == "91500113095M34E68F" and doc["period"] == "2026-10"


def test_text_summary_counts_by_rule_and_shows_both_languages(capsys):
    code, out, _ = _check(capsys, str(SAMPLES / "invalid-2026-10"), "--registry", str(REGISTRY_CSV))
    assert code == 1
    assert re.search(r"SCH-003  error  1  证件号码校验位错误  party_id fails its check character", out)
    assert "校验位" in out and "check character" in out
    assert "guarantees:row 3:party_id" in out


def test_usage_errors_exit_two(capsys, tmp_path):
    assert _check(capsys)[0] == 2
    code, _, err = _check(capsys, str(SAMPLES / "valid-2026-10"), "--registry", str(tmp_path / "none.csv"))
    assert code == 2 and "cannot read the registry" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("institution_id,name\nX,Y\n", encoding="utf-8")
    code, _, err = _check(capsys, str(SAMPLES / "valid-2026-10"), "--registry", str(bad))
    assert code == 2 and "missing column" in err and "'kind'" in err
    lines = REGISTRY_CSV.read_text(encoding="utf-8").splitlines()
    bad.write_text("\n".join([lines[0], lines[1].replace("government", "state")]), encoding="utf-8")
    code, _, err = _check(capsys, str(SAMPLES / "valid-2026-10"), "--registry", str(bad))
    assert code == 2 and "row 1" in err and "'kind'" in err and "'state'" in err


def _corpus(tmp_path: Path) -> list[Path]:
    """One package per malformed input; each must come back as findings and exit 1."""
    cases = []

    def case(name: str) -> Package:
        p = Package.copy(tmp_path, name=name)
        cases.append(p.root)
        return p

    case("truncated-zip")
    data = cases[-1].parent.joinpath("truncated-zip.zip")
    Package(cases[-1]).zip(data)
    data.write_bytes(data.read_bytes()[:400])
    cases[-1] = data
    case("garbage").write_bytes("guarantees.csv", bytes(range(256)) * 10, "guarantees")
    case("utf16").write_bytes("guarantees.csv", "a,b\n1,2\n".encode("utf-16"), "guarantees")
    case("empty").write_bytes("guarantees.csv", b"", "guarantees")
    case("nan").set("guarantees", 1, "loan_amount", "NaN")
    case("inf").set("guarantees", 1, "loan_amount", "1e309")
    case("feb30").set("guarantees", 1, "start_date", "2026-02-30")
    case("long-line").write_bytes("guarantees.csv", b"x" * (10 << 20), "guarantees")
    p = case("no-manifest")
    (p.root / "manifest.json").unlink()
    p = case("dup-header")
    header, rows = p.rows("guarantees")
    p.write_rows("guarantees", [*header[:-1], header[0]], rows)
    return cases


def test_bad_input_corpus_never_tracebacks(capsys, tmp_path):
    for package in _corpus(tmp_path):
        code, out, err = _check(capsys, str(package), "--registry", str(REGISTRY_CSV), "--json")
        assert code == 1, package
        doc = json.loads(out)
        assert doc["status"] == "rejected" and doc["findings"], package
        assert "Traceback" not in err


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_console_script_runs_as_a_process(json_flag):
    exe = Path(sys.executable).with_name("danbao")
    proc = subprocess.run(
        [str(exe), "check", str(SAMPLES / "invalid-2026-10"), "--registry", str(REGISTRY_CSV), *json_flag],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr


def test_valid_sample_reproduces_its_expected_json(capsys):
    """tests/data/samples/valid-2026-10.expected.json: status, grade, warnings, indicators (1e-6 relative,
    amounts to the fen)."""
    expected = json.loads((SAMPLES / "valid-2026-10.expected.json").read_text())
    code, out, _ = _check(capsys, str(SAMPLES / "valid-2026-10"), "--registry", str(REGISTRY_CSV), "--json")
    doc = json.loads(out)
    assert code == 0
    assert doc["status"] == expected["status"] and doc["grade"] == expected["grade"]
    assert sorted({f["rule_id"] for f in doc["findings"] if f["severity"] == "warning"}) == sorted(expected["warnings"])
    assert not [f for f in doc["findings"] if f["severity"] == "error"]
    for key, want in expected["indicators"].items():
        got = doc["indicators"][key]
        if isinstance(want, dict):
            assert got == pytest.approx(want, abs=0.005), key
        elif isinstance(want, str):
            assert got == want, key
        else:
            assert got == pytest.approx(want, rel=1e-6, abs=0.005 if key.endswith(("amount", "period")) else 0), key


def test_without_registry_the_store_is_used(capsys, tmp_path, monkeypatch):
    from store import repository
    from store.db import make_engine, migrate, session_factory

    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("DANBAO_DATABASE_URL", url)
    engine = make_engine(url)
    migrate(engine)
    code, out, _ = _check(capsys, str(SAMPLES / "valid-2026-10"), "--json")
    assert code == 1 and json.loads(out)["findings"][0]["rule_id"] == "FMT-006"  # empty registry
    with session_factory(engine)() as session, session.begin():
        repository.upsert_institutions(session, repository.load_registry_csv(REGISTRY_CSV))
    engine.dispose()
    code, out, _ = _check(capsys, str(SAMPLES / "valid-2026-10"), "--json")
    assert code == 0 and json.loads(out)["grade"] == "B"


def test_an_empty_store_and_a_mistyped_path_are_readable_usage_errors(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("DANBAO_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")  # never migrated: no tables
    code, out, err = _check(capsys, str(SAMPLES / "valid-2026-10"))
    assert code == 2 and out == ""
    assert "has no registry yet" in err and "--registry" in err
    assert "SELECT" not in err and "sqlite3" not in err and "Traceback" not in err
    code, out, err = _check(capsys, str(SAMPLES / "valid-2026-1O"), "--registry", str(REGISTRY_CSV))
    assert code == 2 and out == "" and "no package at" in err


def test_summary_columns_line_up_with_chinese_titles(capsys):
    from pipelines.commands.check import display_width

    _, out, _ = _check(capsys, str(SAMPLES / "invalid-2026-10"), "--registry", str(REGISTRY_CSV))
    rows = [line for line in out.splitlines() if re.match(r"\s+SCH-00\d  error", line)]
    assert len(rows) == 3
    # the English title starts at the same display column on every row, whatever the Chinese before it
    starts = {display_width(line[: line.index(en)]) for line, en in zip(
        rows, ("a code is not", "party_id fails", "a number is"), strict=True)}
    assert len(starts) == 1


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("danbao 0.")


def test_unreachable_store_is_a_usage_error(capsys, monkeypatch):
    monkeypatch.setenv("DANBAO_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    code, _, err = _check(capsys, str(SAMPLES / "valid-2026-10"))
    assert code == 2 and "cannot read the registry from the store" in err


def test_long_work_shows_progress_on_a_terminal_and_nothing_on_a_pipe(tmp_path):
    """rich's spinner on stderr while reading and validating (forced here as on a terminal); a pipe gets
    no control characters, and stdout stays the JSON."""
    import os

    args = [sys.executable, "-m", "pipelines.cli", "check", str(SAMPLES / "valid-2026-10"), "--registry",
            str(REGISTRY_CSV), "--json"]
    shown = subprocess.run(args, capture_output=True, text=True, timeout=120,
                           env={**os.environ, "DANBAO_PROGRESS": "always"})
    assert shown.returncode == 0 and "校验 validating" in shown.stderr
    json.loads(shown.stdout)
    piped = subprocess.run(args, capture_output=True, text=True, timeout=120,
                           env={k: v for k, v in os.environ.items() if k != "DANBAO_PROGRESS"})
    assert piped.returncode == 0 and piped.stderr == ""
