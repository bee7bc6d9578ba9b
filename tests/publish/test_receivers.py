"""The reference receivers over real loopback HTTP: signatures, idempotency keys, file and record
checks with feedback codes, JSON Schema checks, fault injection."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import requests

from connectors.publish import cbrc, pboc
from connectors.publish.signing import sign
from connectors.receivers import Faults, Receivers
from tests.publish.helpers import (
    AREA,
    DEPLOYMENT_KEY,
    GUARANTOR,
    GUARANTOR_KEY,
    OTHER,
    guarantee,
    guarantees,
    ric,
    uscc,
)

CREATED = dt.datetime(2026, 11, 5, 10, 0, tzinfo=dt.UTC)
SEP_END, OCT_END = dt.date(2026, 9, 30), dt.date(2026, 10, 31)
GOOD = uscc("91500113MA5U0A0Q1")
BAD = GOOD[:-1] + ("0" if GOOD[-1] != "0" else "1")


def pboc_file(*rows: dict[str, str], serial: int = 1, date: dt.date = OCT_END, state=None) -> tuple[str, bytes]:
    records = pboc.diff(state, guarantees(*rows))
    return pboc.render_file(records, AREA, date, serial, CREATED)


def put(receivers: Receivers, name: str, body: bytes, *, key: str | None = None, signing_key: str = GUARANTOR_KEY,
        institution: str | None = GUARANTOR, idempotency_key: str | None = None, timeout: float = 5) -> requests.Response:
    headers = {"Idempotency-Key": idempotency_key or name, "X-Danbao-Signature": sign(signing_key.encode(), body)}
    if institution:
        headers["X-Danbao-Institution"] = institution
    return requests.put(f"{receivers.pboc_url}/pboc/files/{name}", data=body, headers=headers, timeout=timeout)


def feedback(receivers: Receivers, name: str, signing_key: str = GUARANTOR_KEY) -> requests.Response:
    path = f"/pboc/feedback/{pboc.feedback_name(name)}"
    return requests.get(receivers.pboc_url + path, timeout=5, headers={
        "X-Danbao-Institution": GUARANTOR, "X-Danbao-Signature": sign(signing_key.encode(), path.encode())})


def held(receivers: Receivers, endpoint: str = "pboc") -> dict:
    url = receivers.pboc_url if endpoint == "pboc" else receivers.cbrc_url
    return requests.get(f"{url}/{endpoint}/received", timeout=5).json()


# -- signatures and idempotency keys ----------------------------------------------------------------


def test_signatures_are_checked_with_the_institutions_key(receivers: Receivers) -> None:
    name, body = pboc_file(guarantee("G1"))
    assert put(receivers, name, body, signing_key="not-the-key").status_code == 401
    assert put(receivers, name, body, signing_key=DEPLOYMENT_KEY).status_code == 401  # GUARANTOR has its own key
    unsigned = requests.put(f"{receivers.pboc_url}/pboc/files/{name}", data=body, timeout=5,
                            headers={"Idempotency-Key": name, "X-Danbao-Institution": GUARANTOR})
    assert unsigned.status_code == 401 and unsigned.json()["code"] == "SIG001"
    signed = put(receivers, name, body)
    assert signed.status_code == 201
    assert held(receivers)["count"] == 1
    # a guarantor without a key of its own signs with the deployment's
    other_name, other_body = pboc_file(guarantee("G9"), serial=2)
    assert put(receivers, other_name, other_body, institution=OTHER, signing_key=GUARANTOR_KEY).status_code == 401
    assert put(receivers, other_name, other_body, institution=OTHER, signing_key=DEPLOYMENT_KEY).status_code == 201


def test_same_key_same_body_gets_the_original_receipt_another_body_409(receivers: Receivers) -> None:
    name, body = pboc_file(guarantee("G1"))
    first = put(receivers, name, body)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    receipt = first.json()
    assert receipt["idempotency_key"] == name and receipt["records"] == 1 and receipt["rejected"] == 0
    again = put(receivers, name, body)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == receipt
    _, other_body = pboc_file(guarantee("G1", outstanding_balance="1.00"))
    conflict = put(receivers, name, other_body)
    assert conflict.status_code == 409 and conflict.json()["code"] == "IDM002"
    listing = held(receivers)
    assert listing["count"] == 1 and listing["items"][0]["replays"] == 1
    assert listing["items"][0]["sha256"] == receipt["sha256"]
    assert "body" not in listing["items"][0]  # holdings never expose bodies (they hold ID numbers)


def test_cbrc_idempotency_and_schema(receivers: Receivers) -> None:
    report = _report()
    body = cbrc.canonical_json(report)

    def post(payload: bytes, key: str = "k1", institution: str | None = GUARANTOR, path: str = "/cbrc/reports",
             signing_key: str = GUARANTOR_KEY) -> requests.Response:
        headers = {"Idempotency-Key": key, "Content-Type": "application/json",
                   "X-Danbao-Signature": sign(signing_key.encode(), payload)}
        if institution:
            headers["X-Danbao-Institution"] = institution
        return requests.post(receivers.cbrc_url + path, data=payload, headers=headers, timeout=5)

    assert post(b"{not json").json()["code"] == "CBR001"
    broken = {**report, "grade": {**report["grade"], "grade": "E"}}
    refused = post(cbrc.canonical_json(broken))
    assert refused.status_code == 400 and refused.json()["code"] == "CBR002" and "grade/grade" in refused.json()["message"]
    assert post(body, institution=OTHER, signing_key=DEPLOYMENT_KEY).json()["code"] == "CBR003"
    assert post(body, key="").json()["code"] == "IDM001"
    first = post(body)
    assert first.status_code == 201 and first.json()["institution_id"] == GUARANTOR
    assert post(body).json() == first.json()
    changed = cbrc.canonical_json({**report, "indicators": {**report["indicators"], "financing_exposure": 1.0}})
    assert post(changed).status_code == 409  # the same key for another (valid) report
    summary = cbrc.canonical_json(cbrc.build_summary("2026-10", [report]))
    assert post(summary, key="s1", path="/cbrc/summaries").json()["code"] == "CBR003"  # not the deployment's
    accepted = post(summary, key="s1", path="/cbrc/summaries", institution=None, signing_key=DEPLOYMENT_KEY)
    assert accepted.status_code == 201 and accepted.json()["kind"] == "summary"
    assert [i["kind"] for i in held(receivers, "cbrc")["items"]] == ["report", "summary"]


def _report() -> dict:
    from tests.publish.helpers import filing_for, institution

    class Submission:  # the fields filing_for reads
        id, institution_id, period, sequence, accepted_at = 7, GUARANTOR, "2026-10", 1, CREATED

    return cbrc.build_report(filing_for(Submission, guarantees(guarantee("G1")), institution()))


# -- PBOC file checks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda name, body: (name.replace(".txt", ".dat"), body), "AFN001"),
        (lambda name, body: (name[:14] + "20261341" + name[22:], body), "AFN001"),
        (lambda name, body: (name, body.replace("重庆".encode(), "重庆".encode("gb18030"))), "AEN001"),
        (lambda name, body: (name, body[:-1]), "AEN002"),
        (lambda name, body: (name, b"B" + body[1:]), "AHD001"),
        (lambda name, body: (name, body[:7] + b"2.0" + body[10:]), "AHD001"),
        (lambda name, body: (name, body[:4] + b"230" + body[7:]), "AHD002"),
        (lambda name, body: (name, body[:43] + b"0000009" + body[50:]), "AHD003"),
    ],
)
def test_malformed_files_are_refused_whole(receivers: Receivers, change, code: str) -> None:
    name, body = change(*pboc_file(guarantee("G1"), guarantee("G2")))
    response = put(receivers, name, body)
    assert response.status_code == 400 and response.json()["code"] == code
    assert held(receivers)["count"] == 0


def test_key_of_a_credit_file_must_be_its_name(receivers: Receivers) -> None:
    name, body = pboc_file(guarantee("G1"))
    response = put(receivers, name, body, idempotency_key="something-else")
    assert response.status_code == 400 and response.json()["code"] == "AFN002"


def test_record_checks_become_feedback_codes(receivers: Receivers) -> None:
    name, body = pboc_file(
        guarantee("G1"),
        guarantee("G2", party_id=BAD),  # check character → ABE004
        guarantee("G3"),
        guarantee("G4"),
        guarantee("G5"),
    )
    lines = body.decode().split("\n")
    lines[3] = lines[1]  # G1 again in place of G3 → ABR002
    lines[4] = lines[4][:-1]  # G4 one byte short → ABS001
    lines[5] = lines[5].replace("000000000800000.00", "00000000080000.00X", 1)  # G5's amount → ABS002
    body = "\n".join(lines).encode()
    response = put(receivers, name, body)
    assert response.status_code == 201
    receipt = response.json()
    assert (receipt["records"], receipt["accepted"], receipt["rejected"]) == (5, 1, 4)
    assert receipt["feedback_file"] == pboc.feedback_name(name)

    unsigned = requests.get(f"{receivers.pboc_url}/pboc/feedback/{pboc.feedback_name(name)}", timeout=5)
    assert unsigned.status_code == 401
    assert feedback(receivers, "A10001500113002026103144000990.txt").status_code == 404
    answer = feedback(receivers, name)
    assert answer.status_code == 200
    header, rejections = pboc.parse_feedback(answer.content)
    assert header["reserved"] == "1"
    assert [(r["record_no"], r["account_code"], r["error_code"]) for r in rejections] == [
        (2, "G2", "ABE004"), (3, "G1", "ABR002"), (4, "G4", "ABS001"), (5, "G5", "ABS002")]  # fmt: skip
    assert GOOD not in answer.text and BAD not in answer.text  # feedback never repeats ID numbers


def test_duplicates_across_files_and_persons_birth_dates(receivers: Receivers) -> None:
    sep = guarantees(guarantee("G1"), guarantee("G2"))
    state = pboc.apply(None, pboc.diff(None, sep))
    name, body = pboc.render_file(pboc.diff(None, sep), AREA, SEP_END, 1, CREATED)
    assert put(receivers, name, body).json()["rejected"] == 0
    # October: G1's balance changes (30, fine), G2 is sent as new again (10 twice: ABR002)
    octo = pboc.diff(state, guarantees(guarantee("G1", outstanding_balance="5.00"), guarantee("G2")))
    g2_again = pboc.diff(None, guarantees(guarantee("G2")))
    records = pa.concat_tables([octo, g2_again]).sort_by("account_code")
    name, body = pboc.render_file(records, AREA, OCT_END, 1, CREATED)
    receipt = put(receivers, name, body).json()
    _, rejections = pboc.parse_feedback(feedback(receivers, name).content)
    assert [(r["account_code"], r["report_date_code"], r["error_code"]) for r in rejections] == [("G2", "10", "ABR002")]
    assert receipt["accepted"] == 1
    # the same 30 for the same report date again is a duplicate; for the next month it is not
    name2, body2 = pboc.render_file(octo, AREA, OCT_END, 2, CREATED)
    assert put(receivers, name2, body2).status_code == 201
    _, rejections = pboc.parse_feedback(feedback(receivers, name2).content)
    assert [(r["account_code"], r["error_code"]) for r in rejections] == [("G1", "ABR002")]
    name3, body3 = pboc.render_file(octo, AREA, dt.date(2026, 11, 30), 1, CREATED)
    assert put(receivers, name3, body3).json()["rejected"] == 0

    born_later = ric("50011320300101123")  # a valid check character, but born after the report date
    person = dict(party_id_type="RIC", party_name="李四", party_category="farmer", industry_code="")
    people = pboc.diff(None, guarantees(guarantee("P1", party_id=ric("50011319800101123"), **person),
                                        guarantee("P2", party_id=born_later, **person)))
    name4, body4 = pboc.render_file(people, AREA, OCT_END, 1, CREATED)
    assert put(receivers, name4, body4).json()["rejected"] == 1
    _, rejections = pboc.parse_feedback(feedback(receivers, name4).content)
    assert [(r["account_code"], r["error_code"]) for r in rejections] == [("P2", "ABE004")]
    assert pc.sum(pc.equal(people["record_type"], "230")).as_py() == 2


# -- faults -----------------------------------------------------------------------------------------


def test_injected_500s_store_nothing(make_receivers) -> None:
    running = make_receivers(Faults(fail_rate=1.0))
    name, body = pboc_file(guarantee("G1"))
    response = put(running, name, body)
    assert response.status_code == 500 and response.json()["code"] == "FAULT500"
    listing = held(running)
    assert listing["count"] == 0 and listing["stats"]["fault_500"] == 1


def test_dropped_connections_and_delays_store_before_failing_the_client(make_receivers) -> None:
    dropping = make_receivers(Faults(drop_rate=1.0), "dropping")
    name, body = pboc_file(guarantee("G1"))
    with pytest.raises(requests.ConnectionError):
        put(dropping, name, body)
    assert held(dropping)["count"] == 1  # the body was read and stored; only the answer was lost

    slow = make_receivers(Faults(delay_rate=1.0, delay=1.0), "slow")
    with pytest.raises(requests.Timeout):
        put(slow, name, body, timeout=0.3)
    assert held(slow)["count"] == 1


def test_fault_options_are_checked() -> None:
    with pytest.raises(ValueError):
        Faults(fail_rate=0.6, drop_rate=0.6)
    with pytest.raises(ValueError):
        Faults(delay=-1)


def test_receivers_keep_what_they_hold_across_restarts(tmp_path, keys) -> None:
    name, body = pboc_file(guarantee("G1"))
    with Receivers(tmp_path / "r", keys=keys) as first:
        receipt = put(first, name, body).json()
    with Receivers(tmp_path / "r", keys=keys) as second:
        again = put(second, name, body)
        assert again.status_code == 200 and again.json() == receipt
        assert json.loads(json.dumps(held(second)))["count"] == 1
