"""The README's examples run as shown: the portal block (a guarantor's day on the command line) and the
publication block, in one shell, in order, each line's exit status checked against what its comment
says (``exit 1`` where the README says so, else 0).

Only what would collide with other processes on this machine is changed: ``DANBAO_HOME`` is a fresh
folder, and the portal and receivers get free ports instead of 8000/8441/8442 (``DANBAO_URL``,
``DANBAO_PBOC_URL``, ``DANBAO_CBRC_URL`` point the commands at them). Background commands (``&``) run
in the shell's own process group, which is ended at the end.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def example(name: str) -> list[str]:
    """The commands of the ``sh`` block after ``<!-- readme-example: NAME -->``, continuation lines joined."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(rf"<!-- readme-example: {name} -->\s*```sh\n(.*?)```", text, re.S)
    assert block, name
    return block.group(1).replace("\\\n", " ").strip().splitlines()


def expected_exit(line: str) -> int:
    comment = line.split("#", 1)[1] if "#" in line else ""
    found = re.search(r"\bexit (\d)\b", comment)
    return int(found.group(1)) if found else 0


def test_readme_examples_run_as_shown(tmp_path):
    lines = example("portal") + example("publication")
    assert any("submit" in line and "--wait" in line for line in lines)
    web, pboc, cbrc = free_port(), free_port(), free_port()
    script = ["set -u", "cd " + str(ROOT)]
    for i, line in enumerate(lines):
        command = line.split("  #", 1)[0].rstrip()
        command = command.replace("--port 8000", f"--port {web}")
        command = command.replace("receivers serve &", f"receivers serve --pboc {pboc} --cbrc {cbrc} &")
        if command.endswith("&"):
            script.append(f"{command[:-1]} > {tmp_path}/bg{i}.log 2>&1 &")
            continue
        want = expected_exit(line)
        script.append(f"echo '>>> {i}'; {command}; code=$?; echo \"<<< {i} $code\"; "
                      f"if [ $code -ne {want} ]; then echo 'README line {i} exited '$code', not {want}: {command}' >&2; exit 90; fi")
    script.append("exit 0")
    env = {**os.environ, "DANBAO_HOME": str(tmp_path / "home"), "DANBAO_URL": f"http://127.0.0.1:{web}",
           "DANBAO_PBOC_URL": f"http://127.0.0.1:{pboc}", "DANBAO_CBRC_URL": f"http://127.0.0.1:{cbrc}",
           "PYTHONUNBUFFERED": "1"}
    for name in ("DANBAO_TOKEN", "DANBAO_SIGNING_KEY", "DANBAO_DATABASE_URL", "DANBAO_BLOB_ROOT", "DANBAO_TABLES_URL",
                 "DANBAO_DATASETS_DIR"):
        env.pop(name, None)
    shell = subprocess.Popen(["bash", "-c", "\n".join(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
    try:
        out, err = shell.communicate(timeout=240)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(shell.pid, signal.SIGTERM)  # the background portal and receivers this test started
    logs = "".join(p.read_text(errors="replace")[-2000:] for p in tmp_path.glob("bg*.log"))
    assert shell.returncode == 0, f"{out[-6000:]}\n--- stderr\n{err[-4000:]}\n--- background\n{logs}"
    # what a person reads at each step
    assert "已退回 rejected" in out and "SCH-003" in out
    assert "待确认 needs_confirmation" in out
    assert "已接受 accepted" in out
    assert re.search(r"发送 delivery: (\d+) delivered, 0 failed, \d+ retried, 0 still open", out)
    assert "no signing key" not in err


@pytest.mark.parametrize("name", ["portal", "publication"])
def test_readme_examples_use_only_commands_that_exist(name):
    from pipelines.cli import SUBCOMMANDS

    for line in example(name):
        for used in re.findall(r"\.venv/bin/danbao (\w+)", line):
            assert used in SUBCOMMANDS, line
