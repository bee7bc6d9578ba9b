"""The credit feed as a library (outputs.md 2.0 §3): XML records with their segments and codes, the
header and names, the incremental diff with corrections and deletions, exact amounts, the envelope,
SM2 signatures, and the documented field table being the code's."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pyarrow as pa
import pytest

from connectors.publish import pboc
from connectors.publish.envelope import CommandEnvelope, EnvelopeError, Sm4Envelope, envelope_from_env
from connectors.publish.signing import SigningKeys, Sm2Key, new_sm2_key, sign, verify
from tests.publish.helpers import AREA, SM4_KEY, envelope, guarantee, guarantees, ric, uscc

BEIJING = dt.timezone(dt.timedelta(hours=8))
CREATED = dt.datetime(2026, 11, 5, 10, 0, 0, tzinfo=BEIJING)
SEP_END, OCT_END = dt.date(2026, 9, 30), dt.date(2026, 10, 31)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "pboc-feed.md"
PARTY_A = uscc("91500113MA5U0A0Q1")
PERSON = dict(party_id_type="RIC", party_id=ric("50011319800101123"), party_name="张三", party_category="farmer",
              industry_code="")


def files_of(plan: pboc.Plan, serial: int = 1) -> dict[str, pboc.FeedFile]:
    return {f.record_type: f for f in pboc.render_files(plan, AREA, CREATED, lambda prefix: serial)}


def codes(plan: pboc.Plan) -> dict[str, str]:
    return dict(zip([a.removeprefix(AREA) for a in plan.records["account_code"].to_pylist()],
                    plan.records["report_date_code"].to_pylist(), strict=True))


def test_an_account_record_exactly() -> None:
    plan = pboc.plan(None, guarantees(guarantee("G0001", party_id=PARTY_A, contract_no="HT-01", liability_share="0.5",
                                                guaranteed_amount="800000.50", outstanding_balance="600000.49")),
                     AREA, OCT_END)
    f = files_of(plan)["440"]
    assert f.name == "A1000150011300" "20261105" "440" "0" "001" "0" ".txt" and len(f.name) == 34
    assert f.exchanged_name == f.name[:-4] + ".enc"
    header = "A" "050" "440" "2.0.0" "  " "A1000150011300" "20261105100000" "0" "0000001"
    record = ("<EnSecAcctInf><GuarAcctBsSgmt><InfRecType>440</InfRecType><AcctType>G1</AcctType>"
              "<AcctCode>A1000150011300G0001</AcctCode><RptDate>2026-10-31</RptDate><RptDateCode>10</RptDateCode>"
              "<Name>重庆顺达汽配有限公司</Name><IDType>20</IDType><IDNum>" + PARTY_A + "</IDNum>"
              "<MngmtOrgCode>A1000150011300</MngmtOrgCode></GuarAcctBsSgmt>"
              "<GuarAcctBsInfSgmt><BusiLines>1</BusiLines><BusiDtilLines>01</BusiDtilLines><OpenDate>2026-01-15</OpenDate>"
              "<GuarAmt>800001</GuarAmt><Cy>CNY</Cy><DueDate>2027-01-14</DueDate><GuarMode>3</GuarMode>"
              "<CtrctTxtCode>HT-01</CtrctTxtCode></GuarAcctBsInfSgmt>"
              "<GuarRltRepymtInfSgmt><AcctStatus>1</AcctStatus><LoanAmt>600000</LoanAmt><FiveCate>1</FiveCate>"
              "<FiveCateAdjDate>2026-10-31</FiveCateAdjDate><RiEx>300000</RiEx><CompAdvFlag>0</CompAdvFlag>"
              "</GuarRltRepymtInfSgmt></EnSecAcctInf>")  # fmt: skip
    assert f.body == f"{header}\r\n{record}\r\n".encode()


def test_every_line_parses_with_its_segments_in_order_and_codes_in_their_lists() -> None:
    rows = [guarantee(f"E{i}", business_type=b, counter_guarantee=c, five_category=k)
            for i, (b, c, k) in enumerate([("loan", "none", "1"), ("bond", "pledge", "3"), ("other_financing", "combination", "5"),
                                           ("non_financing", "mortgage", "2"), ("housing_loan", "guarantee", "4")])]
    rows.append(guarantee("P1", status="compensated", closed_date="2026-10-30", outstanding_balance="0", **PERSON))
    for f in files_of(pboc.plan(None, guarantees(*rows), AREA, OCT_END)).values():
        lines = pboc.split_lines(f.body.decode("utf-8"))
        assert len(lines[0]) == 50 and int(lines[0][-7:]) == len(lines) - 1
        for line in lines[1:]:
            root = ET.fromstring(line)
            assert root.tag == pboc.ROOT[f.record_type]
            order = pboc.SEGMENT_ORDER[f.record_type]
            names = [next(n for n in order if pboc.SEGMENTS[n].tag == child.tag) for child in root]
            assert names == sorted(names, key=order.index) and names[0] == "base"
            values = {e.tag: e.text for e in root.iter() if len(e) == 0}
            assert values["InfRecType"] == f.record_type and values["AcctCode"].startswith(AREA)
            assert values["BusiDtilLines"] in pboc.DETAIL_LINES_OF[values["BusiLines"]]
            for tag, code_list in (("AcctType", "account_type"), ("RptDateCode", "report_date_code"),
                                   ("GuarMode", "guarantee_mode"), ("FiveCate", "five_category"), ("Cy", "currency"),
                                   ("AcctStatus", "account_status"), ("CompAdvFlag", "compensation_flag")):
                assert values[tag] in pboc.CODES[code_list], (tag, values[tag])
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", values["RptDate"]) and values["IDType"] == pboc.ID_TYPE[f.record_type]
    person = files_of(pboc.plan(None, guarantees(rows[-1]), AREA, OCT_END))["230"].body.decode()
    assert "<AcctCredLine>" in person and "<CloseDate>2026-10-30</CloseDate>" in person and "<CompAdvFlag>1<" in person


def test_header_and_names_follow_outputs_2_0() -> None:
    header = pboc.render_header("230", AREA, dt.datetime(2026, 11, 4, 23, 30, tzinfo=dt.UTC), 1234567)
    assert header == "A0502302.0.0  A10001500113002026110507300001234567"
    fields = pboc.parse_header(header)
    assert (fields["version"], fields["template_type"], fields["created_at"]) == ("2.0.0", "  ", "20261105073000")
    # the name carries the creation date in Beijing, not the report date
    assert pboc.file_name(AREA, dt.datetime(2026, 11, 4, 23, 30, tzinfo=dt.UTC), "442", 7) == \
        "A1000150011300" "20261105" "442" "0" "007" "0" ".txt"
    assert pboc.feedback_name("A10001500113002026110544000010.enc") == "A10001500113002026110544000011.enc"
    for area, serial, kind in (("A10001500113", 1, "440"), ("a1000150011300", 1, "440"), (AREA, 0, "440"),
                               (AREA, 1000, "440"), (AREA, 1, "410")):
        with pytest.raises(pboc.FeedError):
            pboc.file_name(area, CREATED, kind, serial)
    with pytest.raises(pboc.FeedError):
        pboc.render_header("440", AREA, dt.datetime(2026, 11, 5), 1)  # naive time


def test_report_date_codes_across_periods() -> None:
    sep = pboc.plan(None, guarantees(guarantee("A"), guarantee("B"), guarantee("C"), guarantee("D"), guarantee("E"),
                                     guarantee("P", **PERSON)), AREA, SEP_END)
    assert set(codes(sep).values()) == {"10"}
    octo = pboc.plan(sep.state, guarantees(
        guarantee("A"),  # unchanged: nothing
        guarantee("B", outstanding_balance="600000.00"),  # balance → 30
        guarantee("C", outstanding_balance="0", status="released", closed_date="2026-10-10"),  # closed → 20
        guarantee("D", five_category="2"),  # five-category only → 40
        guarantee("E", contract_no="HT-7"),  # basic information only → 50
        guarantee("N", start_date="2026-10-03"),  # new → 10
        guarantee("P", outstanding_balance="700000.00", five_category="3", **PERSON),  # balance and five-category → 30
    ), AREA, OCT_END)  # fmt: skip
    assert codes(octo) == {"B": "30", "C": "20", "D": "40", "E": "50", "N": "10", "P": "30"}
    assert octo.counts == {"440": {"10": 1, "20": 1, "30": 1, "40": 1, "50": 1}, "230": {"30": 1}}
    lines = {ET.fromstring(line).find("GuarAcctBsSgmt").findtext("AcctCode").removeprefix(AREA): line
             for f in files_of(octo).values() for line in pboc.split_lines(f.body.decode())[1:]}
    assert "GuarRltRepymtInfSgmt" not in lines["E"] and "<CtrctTxtCode>HT-7<" in lines["E"]  # a 50: no liability
    assert "GuarAcctBsInfSgmt" not in lines["B"]  # a 30 of a balance only: base and liability
    assert "<FiveCateAdjDate>2026-10-31<" in lines["D"] and "<FiveCateAdjDate>2026-09-30<" in lines["B"]
    # November: C ended in October and left the snapshot, nothing else changed: nothing is sent
    nov = guarantees(guarantee("A"), guarantee("B", outstanding_balance="600000.00"), guarantee("D", five_category="2"),
                     guarantee("E", contract_no="HT-7"), guarantee("N", start_date="2026-10-03"),
                     guarantee("P", outstanding_balance="700000.00", five_category="3", **PERSON))
    assert pboc.plan(octo.state, nov, AREA, dt.date(2026, 11, 30)).empty
    # a closed account corrected later: a segment correction of its closing record, not a second 20
    fixed = pboc.plan(octo.state, pa_concat(nov, guarantee("C", outstanding_balance="0", status="released",
                                                           closed_date="2026-10-11")), AREA, dt.date(2026, 11, 30))
    assert fixed.records.num_rows == 0 and fixed.counts == {"442": {"D": 1}}
    assert fixed.corrections["last_report_date"].to_pylist() == [OCT_END]


def pa_concat(table, *rows):
    import pyarrow as pa

    return pa.concat_tables([table, guarantees(*rows)])


def test_a_corrected_filing_corrects_segments_and_deletes_what_was_wrong() -> None:
    sep = pboc.plan(None, guarantees(guarantee("A"), guarantee("B"), guarantee("P", **PERSON)), AREA, SEP_END)
    octo_rows = [guarantee("A", outstanding_balance="1.00"), guarantee("B"), guarantee("N"), guarantee("P", **PERSON)]
    octo = pboc.plan(sep.state, guarantees(*octo_rows), AREA, OCT_END)
    assert codes(octo) == {"A": "30", "N": "10"}
    # the corrected October filing: A's balance was 2.00, N never existed, B's name was wrong, P's contract
    corrected = pboc.plan(octo.state, guarantees(guarantee("A", outstanding_balance="2.00"),
                                                 guarantee("B", party_name="重庆顺达"), guarantee("P", contract_no="HT", **PERSON)),
                          AREA, OCT_END)
    assert corrected.records.num_rows == 2  # B and P were not reported in October: ordinary 50s
    assert codes(corrected) == {"B": "50", "P": "50"}
    assert corrected.counts == {"442": {"D": 1}, "444": {"all": 1}, "440": {"50": 1}, "230": {"50": 1}}
    files = files_of(corrected)
    correction = ET.fromstring(pboc.split_lines(files["442"].body.decode())[1])
    assert [c.tag for c in correction] == ["BsSgmt", "MdfcSgmt"]
    assert correction.find("BsSgmt").findtext("MdfcSgmtCode") == "D" and correction.findtext("BsSgmt/RptDate") == "2026-10-31"
    assert correction.findtext("MdfcSgmt/GuarRltRepymtInfSgmt/LoanAmt") == "2"
    deletion = ET.fromstring(pboc.split_lines(files["444"].body.decode())[1])
    assert (deletion.tag, deletion.findtext("DelRecCode")) == ("EnSecAcctEntDel", AREA + "N")
    assert sorted(corrected.state["guarantee_id"].to_pylist()) == ["A", "B", "P"]
    # a base-segment correction carries the debtor's three identifiers and the management code only
    base_fix = pboc.plan(corrected.state, guarantees(guarantee("A", outstanding_balance="2.00", party_name="新名"),
                                                     guarantee("B", party_name="重庆顺达"),
                                                     guarantee("P", contract_no="HT", **PERSON)), AREA, OCT_END)
    line = pboc.split_lines(files_of(base_fix)["442"].body.decode())[1]
    assert [e.tag for e in ET.fromstring(line).find("MdfcSgmt/GuarAcctBsSgmt")] == list(pboc.BASE_CORRECTION_ITEMS)


def test_state_round_trip_and_revert() -> None:
    base = pboc.plan(None, guarantees(guarantee("A"), guarantee("B")), AREA, SEP_END).state
    nxt = pboc.plan(base, guarantees(guarantee("A", outstanding_balance="1.00"), guarantee("B"), guarantee("C")), AREA, OCT_END)
    assert pboc.state_from_parquet(pboc.state_to_parquet(nxt.state)).equals(nxt.state)
    sink = pa.BufferOutputStream()  # a state written LZ4-compressed still reads
    with pa.ipc.new_file(sink, pboc.STATE_SCHEMA, options=pa.ipc.IpcWriteOptions(compression="lz4")) as writer:
        writer.write_table(nxt.state)
    assert pboc.state_from_parquet(sink.getvalue().to_pybytes()).equals(nxt.state)
    accepted = pboc.revert(nxt.state, base, [AREA + "A", AREA + "C"])  # both rejected: A as it was, C unknown
    assert accepted.equals(base)
    again = pboc.plan(accepted, guarantees(guarantee("A", outstanding_balance="1.00"), guarantee("B"), guarantee("C")),
                      AREA, dt.date(2026, 11, 30))
    assert codes(again) == {"A": "30", "C": "10"}


def test_amounts_are_whole_yuan_half_up_from_the_exact_decimals() -> None:
    plan = pboc.plan(None, guarantees(guarantee("G1", guaranteed_amount="466658955.50", loan_amount="466658955.50",
                                                outstanding_balance="466658955.49", liability_share="0.3")), AREA, OCT_END)
    line = files_of(plan)["440"].body.decode()
    assert "<GuarAmt>466658956<" in line and "<LoanAmt>466658955<" in line
    assert "<RiEx>139997687<" in line  # 466658955.49 × 0.3 = 139997686.647 → 139997687
    wide = guarantees(guarantee("G1", guaranteed_amount="1000000000000000.00", loan_amount="1000000000000000.00"))
    with pytest.raises(pboc.FeedError, match="guaranteed_amount"):
        files_of(pboc.plan(None, wide, AREA, OCT_END))


def test_names_are_escaped_and_kept_on_one_line_and_long_values_refused() -> None:
    plan = pboc.plan(None, guarantees(guarantee("G1", party_name="A&B<C>\nD")), AREA, OCT_END)
    line = pboc.split_lines(files_of(plan)["440"].body.decode())[1]
    assert ET.fromstring(line).findtext("GuarAcctBsSgmt/Name") == "A&B<C> D"
    with pytest.raises(pboc.FeedError, match="account code"):
        files_of(pboc.plan(None, guarantees(guarantee("G" * 47)), AREA, OCT_END))  # 14 + 47 > 60


def test_feedback_file_round_trip() -> None:
    rejections = [
        {"record_no": 2, "account_code": AREA + "G2", "report_date_code": "10", "error_code": "ABE004", "tag": "IDNum"},
        {"record_no": 2, "account_code": AREA + "G2", "report_date_code": "10", "error_code": "ABE007", "tag": "OpenDate"},
        {"record_no": 9, "account_code": AREA + "担保&账户", "report_date_code": "30", "error_code": "ABR004", "tag": "AcctCode"},
    ]
    name, body = pboc.render_feedback("A10001500113002026110544000010.txt", "440", AREA, CREATED, rejections, 12)
    assert name == "A10001500113002026110544000011.txt"
    header, parsed = pboc.parse_feedback(body)
    assert len(body.decode().split("\r\n")[0]) == 72
    assert (header["record_count"], header["accepted"], header["rejected"]) == ("0000002", "0000010", "0000002")
    assert parsed == rejections


def test_the_sm4_envelope_round_trip_and_its_failures() -> None:
    sealed = envelope().seal("A10001500113002026110544000010.txt", b"plain\r\n")
    assert len(sealed) % 16 == 0 and envelope().open("A10001500113002026110544000010.enc", sealed) == b"plain\r\n"
    with pytest.raises(EnvelopeError) as wrong:
        Sm4Envelope(bytes(16)).open("A10001500113002026110544000010.enc", sealed)
    assert wrong.value.code in ("ABF000", "ABF001")
    with pytest.raises(EnvelopeError, match="exactly"):  # the member must be the file's own .txt
        envelope().open("A10001500113002026110544000020.enc", sealed)
    assert isinstance(envelope_from_env({"DANBAO_PBOC_SM4_KEY": SM4_KEY}), Sm4Envelope)
    with pytest.raises(LookupError):
        envelope_from_env({})
    tool = envelope_from_env({"DANBAO_PBOC_ENVELOPE": "command", "DANBAO_PBOC_SEAL_CMD": "cp {in} {out}",
                              "DANBAO_PBOC_OPEN_CMD": "cp {in} {out}"})
    assert isinstance(tool, CommandEnvelope)
    assert tool.open("X.enc", tool.seal("X.txt", b"as the PBOC's tool would")) == b"as the PBOC's tool would"


def test_sm2_with_sm3_signatures_by_configuration() -> None:
    pair = new_sm2_key()
    keys = SigningKeys.from_env({"DANBAO_SIGNATURE": "sm2-sm3", "DANBAO_SM2_PRIVATE_KEY": pair.private})
    header = sign(keys.key_for("ANY"), b"body")
    assert header.startswith("sm2-sm3=") and len(header) == 8 + 128
    receiver = SigningKeys.from_env({"DANBAO_SIGNATURE": "sm2-sm3", "DANBAO_SM2_PUBLIC_KEY": pair.public})
    assert verify(receiver.key_for(None), b"body", header)
    assert not verify(receiver.key_for(None), b"other", header)
    assert not verify(Sm2Key(new_sm2_key().public), b"body", header)
    assert not verify(receiver.key_for(None), b"body", sign(b"hmac-key", b"body"))  # the other scheme
    from gmssl import sm2  # interoperable with gmssl's own SM3withSM2

    assert sm2.CryptSM2(private_key=pair.private, public_key=pair.public).verify_with_sm3(header[8:], b"body")
    with pytest.raises(ValueError):
        SigningKeys.from_env({"DANBAO_SIGNATURE": "rsa"})


def test_the_documented_field_table_is_the_code() -> None:
    text = DOCS.read_text(encoding="utf-8")
    documented = [(m[1], m[2], m[3]) for m in re.finditer(r"^\| `(\w+)` \| `(\w+)` \| `([^`]+)` \|", text, re.M)]
    expected = [(segment.tag, item.tag, item.fmt) for segment in pboc.SEGMENTS.values() for item in segment.items]
    assert documented == expected
    header = [(m[1], int(m[2])) for m in re.finditer(r"^\| h\d+ \| `(\w+)` \| (\d+) \|", text, re.M)]
    assert header == [(name, width) for name, width, _ in pboc.HEADER_LAYOUT]
    for code in pboc.FEEDBACK_CODES:
        assert f"`{code}`" in text, code


def test_the_incremental_state_is_the_sorted_state_and_mixed_records_render_as_each_type_alone() -> None:
    # outputs.md 2.0 §3: the state after a feed is every account as last sent, sorted by account code;
    # changed rows are put in place (no re-sort), which must give what a full sort gives
    rows = [guarantee(f"G{i:02d}", **(PERSON if i % 3 == 0 else {})) for i in range(12)]
    sep = pboc.plan(None, guarantees(*rows), AREA, SEP_END)
    changed = [guarantee(f"G{i:02d}", **(PERSON if i % 3 == 0 else {}),
                         **({"outstanding_balance": "1.00"} if i in (0, 4, 9) else {}),
                         **({"five_category": "2"} if i == 7 else {}),
                         **({"contract_no": "HT-3"} if i == 3 else {})) for i in range(12)]
    octo = pboc.plan(sep.state, guarantees(*reversed(changed)), AREA, OCT_END)  # the filing's row order is not the state's
    assert codes(octo) == {"G00": "30", "G03": "50", "G04": "30", "G09": "30", "G07": "40"}
    assert octo.state["account_code"].to_pylist() == sorted(octo.state["account_code"].to_pylist())
    expected = pboc._sorted(pa_concat_tables(
        sep.state.filter(pc_not_in(sep.state["account_code"], octo.records["account_code"])),
        octo.state.filter(pc_in(octo.state["account_code"], octo.records["account_code"]))))
    assert octo.state.equals(expected)
    # an unsorted previous state (not one written here) still gives a sorted state
    shuffled = sep.state.take([5, 1, 11, 0, 3, 2, 4, 6, 10, 7, 8, 9])
    assert pboc.plan(shuffled, guarantees(*reversed(changed)), AREA, OCT_END).state.equals(octo.state)
    # 440 and 230 rendered in one pass are the lines each type gives alone
    together = dict(zip(octo.records["account_code"].to_pylist(),
                        pboc.render_records(octo.records, AREA).to_pylist(), strict=True))
    for record_type in pboc.ACCOUNT_TYPES:
        alone = octo.records.filter(pc_equal(octo.records["record_type"], record_type))
        lines = pboc.render_records(alone, AREA).to_pylist()
        assert lines == [together[code] for code in alone["account_code"].to_pylist()]
        assert all(line.startswith(f"<{pboc.ROOT[record_type]}>") for line in lines)
    person = together[AREA + "G03"]  # a 230 with its basic segment: the 230 tags
    assert "<AcctCredLine>" in person and "<CtrctTxtCd>HT-3</CtrctTxtCd>" in person and "<GuarAmt>" not in person


def test_text_is_escaped_only_where_the_bytes_need_it() -> None:
    import pyarrow as pa

    values = pa.array(["重庆顺达", "a\x7fb", "x&y", "<甲>", "乙\tc"])
    assert pboc._text(values, "party_name", 80).to_pylist() == ["重庆顺达", "a b", "x&amp;y", "&lt;甲&gt;", "乙 c"]
    assert pboc._text(pa.array(["重庆顺达"]), "party_name", 4).to_pylist() == ["重庆顺达"]  # 12 bytes, 4 characters
    with pytest.raises(pboc.FeedError, match="5 characters does not fit 4"):
        pboc._text(pa.array(["重庆顺达a"]), "party_name", 4)


def pa_concat_tables(*tables):
    import pyarrow as pa

    return pa.concat_tables(list(tables))


def pc_in(values, keys):
    import pyarrow.compute as pc

    return pc.is_in(values, value_set=keys.combine_chunks())


def pc_not_in(values, keys):
    import pyarrow.compute as pc

    return pc.invert(pc_in(values, keys))


def pc_equal(values, value):
    import pyarrow.compute as pc

    return pc.equal(values, value)
