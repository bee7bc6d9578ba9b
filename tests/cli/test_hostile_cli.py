"""`danbao check --json` on the hostile corpus (tests/hostile.py): findings, never a traceback; the two
workbook bombs checked in a separate process within 1 GB of memory and bounded time."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.cli import main
from tests.hostile import BOMBS, CASES
from tests.packages import REGISTRY_CSV

MAX_RSS_BYTES = 1 << 30
MAX_SECONDS = 60  # generous: two shared cores; measured figures are in the README


def _check(capsys, package: Path) -> tuple[int, dict, str]:
    code = main(["check", str(package), "--registry", str(REGISTRY_CSV), "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_reports_the_hostile_case(capsys, tmp_path, name):
    case = CASES[name]
    code, doc, err = _check(capsys, case.build(tmp_path))
    assert "Traceback" not in err and not err.strip(), err
    if case.expect is None:
        assert code == 0 and doc["status"] != "rejected"
        return
    assert code == 1 and doc["status"] == "rejected"
    found = [f for f in doc["findings"] if f["rule_id"] == case.expect.rule_id and f["file"] == case.expect.file]
    assert found and re.search(case.expect.message, found[0]["message_en"]), doc["findings"]
    assert (found[0]["row"], found[0]["column"]) == (case.expect.row, case.expect.column)


_MEASURE = """
import resource, subprocess, sys, time
start = time.monotonic()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(proc.returncode, usage.ru_maxrss * 1024, time.monotonic() - start)
sys.stderr.write(proc.stderr)
sys.stdout.write(proc.stdout)
"""


def check_in_subprocess(package: Path) -> tuple[int, int, float, dict, str]:
    """(exit code, peak RSS in bytes, seconds, JSON, stderr) of ``danbao check --json`` in its own process."""
    exe = Path(sys.executable).with_name("danbao")
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(exe), "check", str(package), "--registry", str(REGISTRY_CSV), "--json"],
        capture_output=True, text=True, timeout=600,
    )
    first, _, rest = proc.stdout.partition("\n")
    code, rss, seconds = first.split()
    return int(code), int(rss), float(seconds), json.loads(rest), proc.stderr


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    root = tmp_path_factory.mktemp("bombs")
    return {name: build(root) for name, (build, _) in BOMBS.items()}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_workbook_bomb_is_fmt007_within_memory_and_time(bombs, name):
    started = time.monotonic()
    code, rss, seconds, doc, err = check_in_subprocess(bombs[name])
    expect = BOMBS[name][1]
    print(f"{name}: exit {code}, peak RSS {rss / 2**20:.0f} MiB, {seconds:.1f} s")
    assert "Traceback" not in err
    assert code == 1 and doc["status"] == "rejected"
    found = [f for f in doc["findings"] if f["rule_id"] == expect.rule_id and f["file"] == expect.file]
    assert found and re.search(expect.message, found[0]["message_en"]), doc["findings"]
    assert rss < MAX_RSS_BYTES, f"peak RSS {rss / 2**20:.0f} MiB"
    assert seconds < MAX_SECONDS and time.monotonic() - started < MAX_SECONDS + 10


_PORTAL_DOOR = """
import resource, sys
from connectors.intake import read_package_bytes
from connectors.registry import read_registry_csv
from validations.engine import validate
result = validate(read_package_bytes(open(sys.argv[1], "rb").read()), read_registry_csv(sys.argv[2]))
print(sorted({f["rule_id"] for f in result.findings.to_pylist()}))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def test_the_zipped_bomb_through_the_upload_door_stays_within_memory(bombs, tmp_path):
    """The portal and the pull connector hand the bytes of a ZIP to ``read_package_bytes``: the same
    readers, so the same bound."""
    import zipfile

    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for member in sorted(bombs["xlsx-shared-string-bomb"].iterdir()):
            out.write(member, member.name)
    proc = subprocess.run([sys.executable, "-c", _PORTAL_DOOR, str(archive), str(REGISTRY_CSV)],
                          capture_output=True, text=True, timeout=300)
    rules, rss = proc.stdout.splitlines()
    assert rules == "['FMT-007']", proc.stderr
    assert int(rss) < MAX_RSS_BYTES
