"""The credit feed as a library: byte-exact files, the 30-character name, the incremental diff."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from connectors.publish import pboc
from tests.publish.helpers import AREA, guarantee, guarantees, ric, uscc

BEIJING = dt.timezone(dt.timedelta(hours=8))
CREATED = dt.datetime(2026, 11, 5, 10, 0, 0, tzinfo=BEIJING)
OCT_END = dt.date(2026, 10, 31)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "pboc-feed.md"

PARTY_A = uscc("91500113MA5U0A0Q1")
PARTY_B = uscc("92500113MA5U0B0R2")
PERSON = ric("50011319800101123")


def _hand_built() -> pa.Table:
    return guarantees(
        guarantee("G0002", party_id=PARTY_B, party_name="巴渝商贸经营部", party_category="individual_business",
                  business_type="non_financing", lender_code="", loan_interest_rate="", guaranteed_amount="50000.5",
                  loan_amount="50000.5", outstanding_balance="0", status="released", closed_date="2026-10-20",
                  counter_guarantee="none", five_category="2"),
        guarantee("G0001", party_id=PARTY_A),
        guarantee("G0003", party_id_type="RIC", party_id=PERSON, party_name="张三", party_category="farmer",
                  industry_code="", business_type="housing_loan", outstanding_balance="0", status="compensated",
                  closed_date="2026-10-31", five_category="5", counter_guarantee="combination"),
    )  # fmt: skip


def test_byte_exact_files_for_a_hand_built_case() -> None:
    records = pboc.diff(None, _hand_built())
    enterprise = records.filter(pc.equal(records["record_type"], "440"))
    person = records.filter(pc.equal(records["record_type"], "230"))

    name, body = pboc.render_file(enterprise, AREA, OCT_END, 1, CREATED)
    assert name == "A1000150011300" "20261031" "440" "0" "001" "0" ".txt"
    assert len(name.removesuffix(".txt")) == 30
    header = "A" "050" "440" "1.0" "0001" "A1000150011300" "20261105100000" "0" "0000002"
    g1 = ("440" + "G0001" + " " * 55 + "20261031" + "10"
          + "重庆顺达汽配有限公司" + " " * (240 - 30) + "20" + PARTY_A + "A1000150011300"
          + "1" + "11" + "20260115" + "000000000800000.00" + "CNY" + "20270114" + "3"
          + "1" + "000000000800000.00" + "1" + "0" + " " * 8)
    g2 = ("440" + "G0002" + " " * 55 + "20261031" + "10"
          + "巴渝商贸经营部" + " " * (240 - 21) + "20" + PARTY_B + "A1000150011300"
          + "2" + "21" + "20260115" + "000000000050000.50" + "CNY" + "20270114" + "0"
          + "2" + "000000000000000.00" + "2" + "0" + "20261020")  # fmt: skip
    assert body == f"{header}\n{g1}\n{g2}\n".encode()
    assert len(header) == 50 and {len(line.encode()) for line in (g1, g2)} == {417}

    name, body = pboc.render_file(person, AREA, OCT_END, 7, CREATED)
    assert name == "A1000150011300" "20261031" "230" "0" "007" "0" ".txt"
    g3 = ("230" + "G0003" + " " * 55 + "20261031" + "10"
          + "张三" + " " * 234 + "10" + PERSON + "A1000150011300"
          + "1" + "12" + "20260115" + "000000000800000.00" + "CNY" + "20270114" + "9"
          + "2" + "000000000000000.00" + "5" + "1" + "20261031")  # fmt: skip
    assert body == ("A0502301.00001A100015001130020261105100000" "0" "0000001\n" + g3 + "\n").encode()


def test_header_counts_and_creation_time_in_beijing() -> None:
    header = pboc.render_header("230", AREA, dt.datetime(2026, 11, 4, 23, 30, tzinfo=dt.UTC), 1234567)
    assert header == "A0502301.00001A10001500113002026110507300001234567"
    fields = pboc.parse_header(header)
    assert (fields["created_at"], fields["record_count"], fields["reserved"]) == ("20261105073000", "1234567", "0")
    with pytest.raises(pboc.FeedError):
        pboc.render_header("440", AREA, dt.datetime(2026, 11, 5), 1)  # naive time


@pytest.mark.parametrize(("area", "serial"), [("A10001500113", 1), ("a1000150011300", 1), (AREA, 0), (AREA, 1000)])
def test_file_names_outside_the_rule_are_refused(area: str, serial: int) -> None:
    with pytest.raises(pboc.FeedError):
        pboc.file_name(area, OCT_END, "440", serial)


def test_feedback_name_has_a_1_as_its_30th_character() -> None:
    assert pboc.feedback_name("A10001500113002026103144000010.txt") == "A10001500113002026103144000011.txt"


def test_names_are_padded_by_bytes_and_cut_at_a_character_boundary() -> None:
    wide = "𠀀" * 70  # 4 bytes each (CJK extension B): 280 bytes
    table = guarantees(guarantee("G1", party_name="担" * 80), guarantee("G2", party_name=wide),
                       guarantee("G3", party_name="A\nB\tC"))
    state = pboc.fields(table)
    assert state["party_name"].to_pylist() == ["担" * 80, "𠀀" * 60, "A B C"]
    lines = pboc.render_lines(pboc.diff(None, state), AREA, OCT_END).to_pylist()
    assert {len(line.encode("utf-8")) for line in lines} == {pboc.RECORD_BYTES + 1}  # with its "\n"
    assert all(line.count("\n") == 1 and line.endswith("\n") for line in lines)


def test_an_account_code_too_long_for_its_field_is_an_error() -> None:
    with pytest.raises(pboc.FeedError, match="account_code"):
        pboc.render_lines(pboc.diff(None, guarantees(guarantee("账" * 21))), AREA, OCT_END)  # 63 bytes


def test_incremental_diff_across_three_periods() -> None:
    aug = guarantees(
        guarantee("A"), guarantee("B"), guarantee("C"), guarantee("D"),
        guarantee("P", party_id_type="RIC", party_id=PERSON, party_name="张三", party_category="farmer", industry_code=""),
    )  # fmt: skip
    first = pboc.diff(None, aug)
    assert dict(zip(first["account_code"].to_pylist(), first["report_date_code"].to_pylist(), strict=True)) == {
        "A": "10", "B": "10", "C": "10", "D": "10", "P": "10"}  # fmt: skip
    state = pboc.apply(None, first)

    sep = guarantees(
        guarantee("A"),  # unchanged: nothing
        guarantee("B", outstanding_balance="600000.00"),  # balance → 30
        guarantee("C", outstanding_balance="0", status="released", closed_date="2026-09-10"),  # closed → 20
        guarantee("D", five_category="2"),  # another field → 50
        guarantee("E", start_date="2026-09-03"),  # new → 10
        guarantee("P", party_id_type="RIC", party_id=PERSON, party_name="张三", party_category="farmer",
                  industry_code="", outstanding_balance="700000.00", five_category="3"),  # balance and more → 30
    )  # fmt: skip
    second = pboc.diff(state, sep)
    assert dict(zip(second["account_code"].to_pylist(), second["report_date_code"].to_pylist(), strict=True)) == {
        "B": "30", "C": "20", "D": "50", "E": "10", "P": "30"}  # fmt: skip
    assert pboc.record_counts(second) == {"440": {"10": 1, "20": 1, "30": 1, "50": 1}, "230": {"30": 1}}
    p = second.filter(pc.equal(second["account_code"], "P")).to_pylist()[0]
    assert (p["balance"], p["five_category"]) == ("700000.00", "3")  # a 30 carries every segment
    state = pboc.apply(state, second)
    assert state.num_rows == 6

    # October: C ended in September and is no longer in the snapshot; nothing else changed
    octo = sep.filter(pc.not_equal(sep["guarantee_id"], "C"))
    assert pboc.diff(state, octo).num_rows == 0
    # a closed account corrected later is a 50, not a second 20
    corrected = pa.concat_tables([octo, guarantees(guarantee("C", outstanding_balance="0", status="released",
                                                             closed_date="2026-09-11"))])
    again = pboc.diff(state, corrected)
    assert again.select(["account_code", "report_date_code"]).to_pylist() == [
        {"account_code": "C", "report_date_code": "50"}]


def test_new_account_ended_within_its_first_period_is_a_10_carrying_the_closure() -> None:
    records = pboc.diff(None, guarantees(guarantee("N", outstanding_balance="0", status="released",
                                                   closed_date="2026-10-30")))
    row = records.to_pylist()[0]
    assert (row["report_date_code"], row["account_status"], row["close_date"]) == ("10", "2", "20261030")


def test_state_round_trip_and_revert() -> None:
    base = pboc.apply(None, pboc.diff(None, guarantees(guarantee("A"), guarantee("B"))))
    records = pboc.diff(base, guarantees(guarantee("A", outstanding_balance="1.00"), guarantee("B"), guarantee("C")))
    pending = pboc.apply(base, records)
    assert pboc.state_from_parquet(pboc.state_to_parquet(pending)).equals(pending)
    accepted = pboc.revert(pending, base, ["A", "C"])  # both rejected: A back to its old balance, C unknown
    assert accepted.equals(base)
    assert pboc.diff(accepted, guarantees(guarantee("A", outstanding_balance="1.00"), guarantee("B"),
                                          guarantee("C")))["account_code"].to_pylist() == ["A", "C"]


def test_feedback_file_round_trip() -> None:
    rejections = [
        {"record_no": 2, "account_code": "G0002", "report_date_code": "10", "error_code": "ABE004"},
        {"record_no": 9, "account_code": "担保账户", "report_date_code": "30", "error_code": "ABR002"},
    ]
    name, body = pboc.render_feedback("A10001500113002026103144000010.txt", "440", AREA, CREATED, rejections)
    assert name == "A10001500113002026103144000011.txt"
    header, parsed = pboc.parse_feedback(body)
    assert header["marker"] == "F" and header["reserved"] == "1" and header["record_count"] == "0000002"
    assert parsed == rejections
    assert {len(line.encode()) for line in body.decode().splitlines()[1:]} == {75}


def test_the_documented_layout_is_the_code_layout() -> None:
    text = DOCS.read_text(encoding="utf-8")
    documented = [(m[1], int(m[2]), int(m[3])) for m in re.finditer(r"^\| \d+ \| `(\w+)` \| (\d+) \| (\d+)–\d+ \|", text, re.M)]
    expected, at = [], 1
    for f in pboc.RECORD_LAYOUT:
        expected.append((f.name, f.width, at))
        at += f.width
    assert documented == expected
    assert f"{pboc.RECORD_BYTES} bytes" in text
    header = [(m[1], int(m[2])) for m in re.finditer(r"^\| h\d+ \| `(\w+)` \| (\d+) \|", text, re.M)]
    assert header == [(name, width) for name, width, _ in pboc.HEADER_LAYOUT]


def test_amounts_are_the_filed_decimals() -> None:
    """rules.md 1.1: 466658955.90 is sent as 466658955.90, whatever its nearest float (466658955.90000004
    through Arrow's decimal→float cast); an amount too wide for the 18-character field is refused."""
    records = pboc.diff(None, guarantees(guarantee("G0001", party_id=PARTY_A, guaranteed_amount="466658955.90",
                                                   loan_amount="466658955.90", outstanding_balance="466658955.90")))
    assert records["guaranteed_amount"].to_pylist() == ["466658955.90"]
    assert records["balance"].to_pylist() == ["466658955.90"]
    wide = guarantees(guarantee("G0001", party_id=PARTY_A, guaranteed_amount="1000000000000000.00",
                                loan_amount="1000000000000000.00"))
    with pytest.raises(pboc.FeedError, match="guaranteed_amount"):
        pboc.fields(wide)
