"""The reference receivers over real loopback HTTP: signatures, idempotency keys, file and record
checks with feedback codes, JSON Schema checks, fault injection."""

from __future__ import annotations

import datetime as dt
import json
import re

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
    SM4_KEY,
    envelope,
    guarantee,
    guarantees,
    ric,
    uscc,
)

CREATED = dt.datetime(2026, 11, 5, 10, 0, tzinfo=dt.UTC)
SEP_END, OCT_END = dt.date(2026, 9, 30), dt.date(2026, 10, 31)
GOOD = uscc("91500113MA5U0A0Q1")
BAD = GOOD[:-1] + ("0" if GOOD[-1] != "0" else "1")


def plain_files(*rows: dict[str, str], serial: int = 1, date: dt.date = OCT_END, state=None) -> list[pboc.FeedFile]:
    return pboc.render_files(pboc.plan(state, guarantees(*rows), AREA, date), AREA, CREATED, lambda prefix: serial)


def pboc_file(*rows: dict[str, str], serial: int = 1, date: dt.date = OCT_END, state=None) -> tuple[str, bytes]:
    """(exchanged name, sealed body) of the first file of a feed of ``rows``."""
    f = plain_files(*rows, serial=serial, date=date, state=state)[0]
    return f.exchanged_name, envelope().seal(f.name, f.body)


def send_plan(receivers: Receivers, plan: pboc.Plan, serial: int) -> tuple[str, bytes]:
    f = pboc.render_files(plan, AREA, CREATED, lambda prefix: serial)[0]
    return f.exchanged_name, envelope().seal(f.name, f.body)


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


def seal_raw(data: bytes) -> bytes:
    """SM4-CBC of bytes that are not a ZIP archive (an envelope that decrypts but does not decompress)."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    padder = padding.PKCS7(128).padder()
    iv = b"\x01" * 16
    encryptor = Cipher(algorithms.SM4(bytes.fromhex(SM4_KEY)), modes.CBC(iv)).encryptor()
    return iv + encryptor.update(padder.update(data) + padder.finalize()) + encryptor.finalize()


def sealed(plain_name: str, plain: bytes, name: str | None = None) -> tuple[str, bytes]:
    return name or pboc.exchanged_name(plain_name), envelope().seal(plain_name, plain)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda n, b: sealed(n, b, n.replace(".txt", ".dat")), "ABN003"),
        (lambda n, b: sealed(n, b, pboc.exchanged_name(n[:14] + "20261341" + n[22:])), "ABN003"),
        (lambda n, b: sealed(n, b, pboc.exchanged_name(n[:29] + "1" + n[30:])), "ABN003"),
        (lambda n, b: (pboc.exchanged_name(n), b"\x00" * 48), "ABF000"),
        (lambda n, b: (pboc.exchanged_name(n), seal_raw(b)), "ABF001"),
        (lambda n, b: sealed(n, b.replace("重庆".encode(), "重庆".encode("gb18030"))), "ABF011"),
        (lambda n, b: sealed(n, b.replace(b"\r\n", b"\n")), "ABF010"),
        (lambda n, b: sealed(n, b"B" + b[1:]), "ABH005"),
        (lambda n, b: sealed(n, b[:7] + b"1.0.0" + b[12:]), "ABH005"),
        (lambda n, b: sealed(n, b[:4] + b"230" + b[7:]), "ABF007"),
        (lambda n, b: sealed(n, b[:28] + b"20261106" + b[36:]), "ABF007"),
        (lambda n, b: sealed(n, b[:43] + b"0000009" + b[50:]), "ABH005"),
    ],
)
def test_malformed_files_are_refused_whole(receivers: Receivers, change, code: str) -> None:
    [f] = plain_files(guarantee("G1"), guarantee("G2"))
    name, body = change(f.name, f.body)
    response = put(receivers, name, body)
    assert response.status_code == 400 and response.json()["code"] == code
    assert held(receivers)["count"] == 0


def test_key_of_a_credit_file_must_be_its_name(receivers: Receivers) -> None:
    name, body = pboc_file(guarantee("G1"))
    response = put(receivers, name, body, idempotency_key="something-else")
    assert response.status_code == 400 and response.json()["code"] == "AFN002"


def rejections_of(receivers: Receivers, name: str) -> list[tuple]:
    answer = feedback(receivers, name)
    assert answer.status_code == 200
    plain = envelope().open(pboc.feedback_name(name), answer.content)
    _, rejections = pboc.parse_feedback(plain)
    assert GOOD not in plain.decode() and BAD not in plain.decode()  # feedback never repeats ID numbers
    return [(r["record_no"], r["account_code"].removeprefix(AREA), r["error_code"], r["tag"]) for r in rejections]


def test_record_checks_become_feedback_codes(receivers: Receivers) -> None:
    [f] = plain_files(*(guarantee(f"G{i:02d}") for i in range(1, 11)), guarantee("G11", party_id=BAD),
                      guarantee("G12", counter_guarantee="guarantee"))
    lines = pboc.split_lines(f.body.decode())
    lines[3] = lines[1]  # G01 again in place of G03 → ABR002
    lines[4] = lines[4][:-5]  # G4 cut → not XML: ABR006
    lines[5] = lines[5].replace("<GuarMode>3</GuarMode>", "<GuarMode>9</GuarMode>")  # G5 → ABE001
    lines[6] = re.sub("<FiveCate>1</FiveCate>", "", lines[6])  # G6 → ABD000
    lines[7] = lines[7].replace(f"<AcctCode>{AREA}", "<AcctCode>B1000150011300")  # G7 → ABE002
    lines[8] = re.sub("<GuarRltRepymtInfSgmt>.*</GuarRltRepymtInfSgmt>", "", lines[8])  # G8: a 10 without liability
    lines[9] = lines[9].replace("<OpenDate>2026-01-15</OpenDate>", "<OpenDate>2026-12-15</OpenDate>")  # G9 → ABE007
    lines[10] = lines[10].replace("<Name>重庆顺达汽配有限公司</Name>", "<Name></Name>")  # G10 → ABE000
    body = (pboc.EOL.join(lines) + pboc.EOL).encode()
    name, sealed_body = sealed(f.name, body)
    response = put(receivers, name, sealed_body)
    assert response.status_code == 201
    receipt = response.json()
    assert (receipt["records"], receipt["accepted"], receipt["rejected"]) == (12, 2, 10)
    assert receipt["feedback_file"] == pboc.feedback_name(name)
    unsigned = requests.get(f"{receivers.pboc_url}/pboc/feedback/{pboc.feedback_name(name)}", timeout=5)
    assert unsigned.status_code == 401
    assert feedback(receivers, "A10001500113002026110544000990.enc").status_code == 404
    got = rejections_of(receivers, name)
    assert got == [
        (3, "G01", "ABR002", "AcctCode"), (4, "", "ABR006", "0000"), (5, "G05", "ABE001", "GuarMode"),
        (6, "G06", "ABD000", "FiveCate"), (7, "B1000150011300G07", "ABE002", "AcctCode"),
        (8, "G08", "CAR000", "GuarRltRepymtInfSgmt"), (9, "G09", "ABE007", "OpenDate"), (10, "G10", "ABE000", "Name"),
        (11, "G11", "ABE004", "IDNum"),
        (12, "G12", "CAR003", "RltRepymtInfSgmt"),
    ]  # fmt: skip
    assert sorted(receivers.pboc_store.accounts(AREA)) == [AREA + "G01", AREA + "G02"]


def test_against_what_the_receiver_holds(receivers: Receivers) -> None:
    sep = guarantees(guarantee("G1"), guarantee("G2"), guarantee("G3"))
    first = pboc.plan(None, sep, AREA, SEP_END)
    name, body = send_plan(receivers, first, serial=1)
    assert put(receivers, name, body).json()["rejected"] == 0
    # the same file again under another name: every 10 is already held → ABR004
    name, body = send_plan(receivers, first, serial=2)
    assert put(receivers, name, body).json()["rejected"] == 3
    assert [c for _, _, c, _ in rejections_of(receivers, name)] == ["ABR004"] * 3
    # October: G1 closes (20); G2 changes balance (30)
    octo = pboc.plan(first.state, guarantees(guarantee("G1", status="released", closed_date="2026-10-03",
                                                       outstanding_balance="0"),
                                             guarantee("G2", outstanding_balance="5.00"), guarantee("G3")),
                     AREA, OCT_END)
    name, body = send_plan(receivers, octo, serial=3)
    assert put(receivers, name, body).json()["rejected"] == 0
    # November, sent as if G1 were still open: a record after a closed one → CAR006
    nov = pboc.plan(first.state, guarantees(guarantee("G1", outstanding_balance="1.00"), guarantee("G2"), guarantee("G3")),
                    AREA, dt.date(2026, 11, 30))
    name, body = send_plan(receivers, nov, serial=4)
    put(receivers, name, body)
    assert [(a, c) for _, a, c, _ in rejections_of(receivers, name)] == [("G1", "CAR006")]
    # corrections and deletions of accounts it does not hold
    ghost = pboc.plan(None, guarantees(guarantee("X1")), AREA, SEP_END)
    fix = pboc.plan(ghost.state, guarantees(guarantee("X1", contract_no="HT")), AREA, SEP_END)  # a correction of X1
    gone = pboc.plan(ghost.state, guarantees(guarantee("X2")), AREA, SEP_END)  # X1 deleted, X2 new
    name, body = send_plan(receivers, fix, serial=5)
    put(receivers, name, body)
    assert [(a, c) for _, a, c, _ in rejections_of(receivers, name)] == [("X1", "CMR306")]
    files = pboc.render_files(gone, AREA, CREATED, lambda prefix: 6)
    deletion = next(f for f in files if f.record_type == "444")
    name, body = sealed(deletion.name, deletion.body)
    put(receivers, name, body)
    assert [(a, c) for _, a, c, _ in rejections_of(receivers, name)] == [("X1", "CTR300")]


def test_persons_birth_dates_and_their_own_codes(receivers: Receivers) -> None:
    born_later = ric("50011320300101123")  # a valid check character, but born after the report date
    person = dict(party_id_type="RIC", party_name="李四", party_category="farmer", industry_code="")
    [f] = plain_files(guarantee("P1", party_id=ric("50011319800101123"), **person),
                      guarantee("P2", party_id=born_later, **person),
                      guarantee("P3", party_id=ric("50011319800101123"), **{**person, "counter_guarantee": "guarantee"}))
    assert f.record_type == "230" and "<AcctCredLine>" in f.body.decode()
    name, body = sealed(f.name, f.body)
    assert put(receivers, name, body).json()["rejected"] == 2
    assert [(a, c) for _, a, c, _ in rejections_of(receivers, name)] == [("P2", "ABE004"), ("P3", "BAR007")]


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


def _raw(url: str, request: bytes) -> bytes:
    """Send ``request`` on a fresh connection and read until the server closes it (or 5 s pass)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as conn:
        conn.sendall(request)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
        return received


def test_on_the_wire_a_drop_is_no_answer_at_all_and_a_missing_length_is_411(make_receivers) -> None:
    """The receivers run on uvicorn: a dropped connection closes with not even a status line (the body was
    stored), and a write without Content-Length is refused before anything is read."""
    dropping = make_receivers(Faults(drop_rate=1.0), "wire")
    name, body = pboc_file(guarantee("G1"))
    head = (f"PUT /pboc/files/{name} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
            f"Idempotency-Key: {name}\r\nX-Danbao-Institution: {GUARANTOR}\r\n"
            f"X-Danbao-Signature: {sign(GUARANTOR_KEY.encode(), body)}\r\n\r\n").encode()
    assert _raw(dropping.pboc_url, head + body) == b""
    assert held(dropping)["count"] == 1
    answer = _raw(dropping.pboc_url, f"PUT /pboc/files/{name} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 411 ") and b'"code": "LEN001"' in answer
    assert b"content-type: application/json\r\n" in answer.lower()
