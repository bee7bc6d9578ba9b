"""`danbao generate`: options, defaults, output, and usage errors."""

from __future__ import annotations

import argparse
import json
from unittest import mock

import pytest

from pipelines.commands import generate as command
from validations.context import BEIJING


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="danbao")
    command.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["generate", *argv])


def test_defaults():
    args = parse(["out"])
    assert (args.out_dir, args.guarantors, args.rows, args.period, args.fmt, args.zip, args.inject, args.seed) == (
        "out", 3, 1000, None, "csv", False, [], 0)
    assert args.func is command.run


def test_default_period_is_the_previous_month_in_beijing():
    import datetime as dt

    for now, expected in [((2027, 1, 3), "2026-12"), ((2026, 11, 1), "2026-10")]:
        with mock.patch.object(command, "now_beijing", return_value=dt.datetime(*now, 0, 30, tzinfo=BEIJING)):
            assert command.previous_month() == expected


def test_writes_what_it_prints(tmp_path, capsys):
    out = tmp_path / "demo"
    args = parse([str(out), "--guarantors", "2", "--rows", "50", "--period", "2026-09", "--format", "parquet",
                  "--zip", "--inject", "bad_uscc", "--inject", "bad_code:2", "--seed", "4"])
    assert command.run(args) == 0
    printed = capsys.readouterr().out
    zips = sorted(out.glob("*.zip"))
    assert len(zips) == 2 and (out / "registry.csv").is_file()
    for path in [out / "registry.csv", *zips]:
        assert str(path) in printed
    for path in zips:
        sidecar = json.loads(path.with_name(path.stem + ".expected.json").read_text(encoding="utf-8"))
        assert sorted(f["rule_id"] for f in sidecar["findings"]) == ["SCH-002", "SCH-002", "SCH-003"]
    assert "2 package(s) of 50 rows for 2026-09, format parquet (zip), seed 4" in printed


@pytest.mark.parametrize("argv", [["--period", "2026-13"], ["--format", "xls"], ["--inject", "nope"],
                                  ["--inject", "bad_code:x"], ["--guarantors", "0"], ["--rows", "-1"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse(["out", *argv])
    assert exit_.value.code == 2


def test_too_few_eligible_rows_is_a_clean_error(tmp_path, capsys):
    assert command.run(parse([str(tmp_path), "--rows", "5", "--inject", "bad_ric:50"])) == 2
    assert "eligible" in capsys.readouterr().err


def test_wired_into_the_danbao_command(tmp_path, capsys):
    cli = pytest.importorskip("pipelines.cli")
    assert cli.main(["generate", str(tmp_path), "--guarantors", "1", "--rows", "20", "--period", "2026-10"]) == 0
    assert (tmp_path / "registry.csv").is_file()


def test_inject_kinds_of_rules_1_1(tmp_path, capsys):
    """BIZ-011 and BIZ-012 kinds write their expected findings next to the package."""
    out = tmp_path / "v11"
    args = parse([str(out), "--guarantors", "1", "--rows", "1000", "--period", "2026-10",
                  "--inject", "party_in_two_groups:2", "--inject", "wrong_period_end", "--seed", "3"])
    assert command.run(args) == 0
    (sidecar_path,) = out.glob("*.expected.json")
    sidecar = json.loads(sidecar_path.read_text(encoding="utf-8"))
    assert sorted(f["rule_id"] for f in sidecar["findings"]) == ["BIZ-011", "BIZ-011", "BIZ-012"]
