"""The reference PBOC receiver: takes credit files in their envelope, answers each with a feedback file.

It checks what the second-generation system is known to check (docs/pboc-feed.md, "What the receiver
checks", with the public sources of each code):

- ``PUT /pboc/files/<name>.enc`` (``Idempotency-Key`` = the name). Refused whole (HTTP 400, nothing
  stored, no feedback) when the name breaks the 34-character rule (``ABN003``), the key is not the name
  (``AFN002``), the envelope cannot be decrypted (``ABF000``) or decompressed (``ABF001``), the file is
  not UTF-8 (``ABF011``), its lines are not CRLF-separated (``ABF010``), its header is malformed or
  counts another number of records (``ABH005``) or disagrees with the name (``ABF007``).
- Otherwise each record line is parsed as XML and checked: structure and segment order (``ABR006``),
  empty segments (``ABD001``), required items (``ABD000``, ``ABE000``), formats, lengths and code lists
  (``ABE001``), dates (``ABE008``, ``ABE007``), ID check characters (``ABE004``), the account code under
  the file's provider code (``ABE002``), the segments each report-date code needs (``CAR…``/``BAR…``),
  duplicates within the file (``ABR002``) and against what the receiver holds (``ABR004``), records
  after a closed one (``CAR006``/``BAR005``), corrections and deletions of accounts it does not hold
  (``CMR306``/``BMR203``, ``CTR300``/``BTE200``). Accepted records are kept; deletions drop an account.
- ``GET /pboc/feedback/<name>.enc``: the feedback file (the file's name with ``1`` as its 30th
  character), in the same envelope, signed over the path; 404 until the file was received.
- ``GET /pboc/received``: what the receiver holds (names, keys, SHA-256, receipts; never the bodies).

Nothing logged or answered here repeats an ID number.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from connectors.publish import pboc
from connectors.publish.envelope import Envelope, EnvelopeError
from connectors.publish.signing import INSTITUTION_HEADER, SIGNATURE_HEADER, SigningKeys, verify
from connectors.receivers.server import Accepted, App, Faults, Rejected, Reply, error
from connectors.receivers.store import ReceiverStore
from validations.checksums import ric_valid, uscc_valid

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WHOLE = re.compile(r"(0|[1-9]\d{0,14})")
_DATE_MIN, _DATE_MAX = dt.date(1901, 1, 1), dt.date(2099, 12, 31)


class PbocApp(App):
    endpoint = "pboc"

    def __init__(self, store: ReceiverStore, keys: SigningKeys, faults: Faults, envelope: Envelope) -> None:
        super().__init__(store, keys, faults)
        self.envelope = envelope

    def write_route(self, method: str, path: str) -> str | None:
        if method in ("PUT", "POST") and path.startswith("/pboc/files/") and path.count("/") == 3:
            return "file"
        return None

    def read(self, path: str, headers: Mapping[str, str]) -> Reply:
        if not path.startswith("/pboc/feedback/") or path.count("/") != 3:
            return super().read(path, headers)
        institution_id = headers.get(INSTITUTION_HEADER) or None
        key = self.key_for(institution_id)
        if key is None or not verify(key, path.encode("utf-8"), headers.get(SIGNATURE_HEADER)):
            return error(401, "SIG001", "missing or invalid signature")
        found = self.store.feedback(path.rsplit("/", 1)[1])
        if found is None:
            return error(404, "FBK001", "no feedback for this name (yet)")
        return Reply(200, body=found[1], content_type="application/octet-stream")

    def check(self, db: Any, kind: str, path: str, key: str, institution_id: str | None, body: bytes,
              sha256: str, received_at: str) -> Accepted:
        name = path.rsplit("/", 1)[1]
        match = pboc.FILE_NAME.fullmatch(name)
        if (match is None or match["suffix"] != "enc" or match["flag"] != "0" or match["type"] not in pboc.RECORD_TYPES
                or _date(match["date"], "%Y%m%d") is None):
            raise Rejected(400, "ABN003", "the file name does not follow the 30-character rule plus .enc")
        if key != name:
            raise Rejected(400, "AFN002", "the Idempotency-Key of a credit file must be its file name")
        try:
            plain = self.envelope.open(name, body)
        except EnvelopeError as exc:
            raise Rejected(400, exc.code, str(exc)) from None
        try:
            text = plain.decode("utf-8")
        except UnicodeDecodeError:
            raise Rejected(400, "ABF011", "the file is not UTF-8") from None
        if not text.endswith(pboc.EOL) or "\n" in text.replace(pboc.EOL, ""):
            raise Rejected(400, "ABF010", "header and records must each end with CRLF")
        lines = pboc.split_lines(text)
        header = _check_header(lines[0])
        record_type, area = match["type"], match["area"]
        if (header["record_type"] != record_type or header["area_code"] != area
                or header["created_at"][:8] != match["date"]):
            raise Rejected(400, "ABF007", "the header's record type, area code or creation date differs from the name's")
        records = lines[1:]
        if int(header["record_count"]) != len(records):
            raise Rejected(400, "ABH005", f"the header counts {int(header['record_count'])} records, the file holds {len(records)}")
        rejections, accepted, deleted = _check_records(self.store, db, records, record_type, area)
        plain_name = pboc.plain_name(name)
        feedback_plain_name, feedback = pboc.render_feedback(plain_name, record_type, area, dt.datetime.now(dt.UTC),
                                                             rejections, len(records))
        sealed = self.envelope.seal(feedback_plain_name, feedback)
        rejected = len({r["record_no"] for r in rejections})
        receipt = {
            "receipt_id": f"PBOC-{uuid.uuid4()}",
            "idempotency_key": key,
            "file_name": name,
            "sha256": sha256,
            "size": len(body),
            "received_at": received_at,
            "records": len(records),
            "accepted": len(records) - rejected,
            "rejected": rejected,
            "feedback_file": pboc.exchanged_name(feedback_plain_name),
        }
        rows = [(area, *row, name) for row in accepted]
        return Accepted(receipt, "file", institution_id, name, None,
                        extra=(name, pboc.exchanged_name(feedback_plain_name), sealed, rows, deleted, area))

    def store_extra(self, db: Any, accepted: Accepted) -> None:
        name, feedback_name, feedback, rows, deleted, area = accepted.extra
        self.store.delete_accounts(db, area, deleted)
        self.store.add_records(db, rows)
        self.store.add_feedback(db, feedback_name, name, feedback)


def _check_header(line: str) -> dict[str, str]:
    if len(line) != pboc.HEADER_CHARS or len(line.encode("utf-8")) != pboc.HEADER_CHARS:
        raise Rejected(400, "ABH005", f"the header line must be {pboc.HEADER_CHARS} characters")
    h = pboc.parse_header(line)
    problems = [name for name, ok in (
        ("marker", h["marker"] == "A"),
        ("header_length", h["header_length"] == f"{pboc.HEADER_CHARS:03d}"),
        ("record_type", h["record_type"] in pboc.RECORD_TYPES),
        ("version", h["version"] == pboc.VERSION),
        ("template_type", h["template_type"] == pboc.TEMPLATE),
        ("area_code", bool(pboc.AREA_CODE.fullmatch(h["area_code"]))),
        ("created_at", _date(h["created_at"], "%Y%m%d%H%M%S") is not None),
        ("reserved", h["reserved"] == "0"),
        ("record_count", h["record_count"].isdigit()),
    ) if not ok]  # fmt: skip
    if problems:
        raise Rejected(400, "ABH005", f"header field(s) not as specified: {', '.join(problems)}")
    return h


# -- records -----------------------------------------------------------------------------------------


class _Bad(Exception):
    def __init__(self, code: str, tag: str = "0000") -> None:
        super().__init__(code)
        self.code, self.tag = code, tag


def _check_records(store: ReceiverStore, db: Any, lines: list[str], record_type: str, area: str):
    """(rejections, accepted rows, deleted accounts) for one file. Runs inside the store's transaction,
    so what it holds includes every earlier file."""
    account_type = pboc.ACCOUNT_OF[record_type]
    parsed: list[tuple[ET.Element | None, list[tuple[str, str]], dict[str, str]]] = []
    for line in lines:
        errors: list[tuple[str, str]] = []
        info: dict[str, str] = {}
        element = None
        try:
            element = ET.fromstring(line)
            if element.tag != pboc.ROOT[record_type]:
                raise _Bad("ABR006", element.tag)
            if record_type == account_type:
                info = _check_account(element, record_type, area, errors)
            elif record_type == pboc.CORRECTION[account_type]:
                info = _check_correction(element, record_type, area, errors)
            else:
                info = _check_deletion(element, record_type, area, errors)
        except ET.ParseError:
            errors.append(("ABR006", "0000"))
        except _Bad as bad:
            errors.append((bad.code, bad.tag))
        parsed.append((element, errors, info))
    _check_ids(parsed, account_type)
    history = store.account_history(db, area, [info.get("account", "") for _, _, info in parsed])
    seen: set[tuple[str, str, str]] = set()
    rejections, accepted, deleted = [], [], []
    for number, (_, errors, info) in enumerate(parsed, start=1):
        account = info.get("account", "")
        if not errors and account:
            key = (account, info.get("date", ""), info.get("segment", ""))
            if key in seen:
                errors.append(("ABR002", "AcctCode"))
            else:
                _check_against(info, history.get(account, []), record_type, account_type, errors)
            seen.add(key)
        if errors:
            for code, tag in errors:
                rejections.append({"record_no": number, "account_code": account[:60],
                                   "report_date_code": info.get("code", info.get("segment", ""))[:2],
                                   "error_code": code, "tag": tag, "record_type": record_type})
            continue
        if record_type == pboc.DELETION[account_type]:
            deleted.append(account)
            history.pop(account, None)
            continue
        row = (account, info.get("date", ""), info.get("code") or f"M{info.get('segment', '')}", record_type,
               info.get("closed"), number)
        accepted.append(row)
        history.setdefault(account, []).append((row[1], row[2], row[4]))
    return rejections, accepted, deleted


def _code(code: str, account_type: str) -> str:
    return pboc.PERSON_CODE.get(code, code) if account_type == pboc.PERSON else code


def _check_against(info: dict[str, str], held: list[tuple[str, str, int | None]], record_type: str,
                   account_type: str, errors: list[tuple[str, str]]) -> None:
    """The checks against what the receiver holds for the account."""
    if record_type == account_type:
        date, code = info["date"], info["code"]
        if any(d == date and c == code for d, c, _ in held) or (code == pboc.NEW and held):
            errors.append(("ABR004", "AcctCode"))
            return
        status = [(d, closed) for d, _, closed in held if closed is not None]
        if status:
            last_date, last_closed = max(status)
            if last_closed and date > last_date:
                errors.append((_code("CAR006", account_type), "AcctStatus"))
    elif not held:
        which = "CMR306" if record_type == pboc.CORRECTION[account_type] else "CTR300"
        errors.append((_code(which, account_type), "ModRecCode" if which == "CMR306" else "DelRecCode"))


def _check_ids(parsed: list, account_type: str) -> None:
    """ABE004, column-wise: USCC (GB 32100-2015) for IDType 20, RIC (GB 11643-1999, with a birth date
    not after the report date) for IDType 10."""
    for id_type, check in (("20", "uscc"), ("10", "ric")):
        picked = [(i, info) for i, (_, errors, info) in enumerate(parsed)
                  if not errors and info.get("id_type") == id_type and info.get("id_number")]
        if not picked:
            continue
        ids = pa.array([info["id_number"] for _, info in picked], pa.string())
        if check == "uscc":
            ok = uscc_valid(ids)
        else:
            latest = max((info.get("date") or "2099-12-31") for _, info in picked)
            ok = ric_valid(ids, np.datetime64(latest, "D"))
        for (i, _), good in zip(picked, ok, strict=True):
            if not good:
                parsed[i][1].append(("ABE004", "IDNum"))


def _check_account(element: ET.Element, record_type: str, area: str, errors: list[tuple[str, str]]) -> dict[str, str]:
    order = pboc.SEGMENT_ORDER[record_type]
    by_tag = {pboc.SEGMENTS[name].tag: name for name in order}
    present: list[str] = []
    for child in element:
        name = by_tag.get(child.tag)
        if name is None or name in present or (present and order.index(name) < order.index(present[-1])):
            raise _Bad("ABR006", child.tag)
        present.append(name)
    if "base" not in present:
        raise _Bad(_code("CAR004", record_type), "GuarAcctBsSgmt")
    values: dict[str, str] = {}
    for name in present:
        segment = element.find(pboc.SEGMENTS[name].tag)
        assert segment is not None
        values.update(_check_segment(segment, name, record_type, errors))
    info = _info(values, area, errors, record_type)
    info["code"] = values.get("RptDateCode", "")
    required, forbidden = pboc.REQUIRED_SEGMENTS.get(info["code"], (set(), set()))
    missing = sorted(required - set(present))
    rule = {pboc.NEW: "CAR000", pboc.CLOSED: "CAR001", pboc.LIABILITY_CHANGED: "CAR002",
            pboc.FIVE_CATEGORY_CHANGED: "CAR010", pboc.OTHER_CHANGE: "CAR008"}.get(info["code"])
    for name in missing:
        errors.append((_code(rule or "CAR000", record_type), pboc.SEGMENTS[name].tag))
    for name in sorted(forbidden & set(present)):
        errors.append((_code(rule or "CAR008", record_type), pboc.SEGMENTS[name].tag))
    if info["code"] == pboc.NEW and values.get("GuarMode") == "1" and "related" not in present:
        errors.append((_code("CAR003", record_type), "RltRepymtInfSgmt"))
    if values.get("AcctStatus"):
        info["closed"] = 1 if values["AcctStatus"] == "2" else 0
    for later in ("OpenDate", "FiveCateAdjDate", "CloseDate"):
        if values.get(later) and info.get("date") and _DATE.fullmatch(values[later]) and values[later] > info["date"]:
            errors.append(("ABE007", later))
    return info


def _check_correction(element: ET.Element, record_type: str, area: str, errors: list[tuple[str, str]]) -> dict[str, str]:
    account_type = pboc.ACCOUNT_OF[record_type]
    children = list(element)
    if [c.tag for c in children] != ["BsSgmt", "MdfcSgmt"]:
        raise _Bad("ABR006", "0000")
    head = {c.tag: (c.text or "").strip() for c in children[0]}
    for tag in ("InfRecType", "ModRecCode", "RptDate", "AcctType", "MdfcSgmtCode"):
        if tag not in head:
            errors.append(("ABD000", tag))
        elif not head[tag]:
            errors.append(("ABE000", tag))
    if head.get("InfRecType") and head["InfRecType"] != record_type:
        errors.append(("ABE001", "InfRecType"))
    if head.get("AcctType") and head["AcctType"] not in pboc.CODES["account_type"]:
        errors.append(("ABE001", "AcctType"))
    codes = {"B": "base", "C": "basic", "D": "liability"}
    segment_name = codes.get(head.get("MdfcSgmtCode", ""))
    inner = list(children[1])
    if segment_name is None or len(inner) != 1 or inner[0].tag != pboc.SEGMENTS[segment_name].tag:
        errors.append(("CMR301" if account_type == pboc.ENTERPRISE else "BMR201", "MdfcSgmtCode"))
        return {"account": head.get("ModRecCode", ""), "date": head.get("RptDate", ""), "segment": head.get("MdfcSgmtCode", "")}
    if segment_name == "base":
        tags = [c.tag for c in inner[0]]
        if [t for t in tags if t not in pboc.BASE_CORRECTION_ITEMS]:
            errors.append(("CMR303" if account_type == pboc.ENTERPRISE else "BMR205", "GuarAcctBsSgmt"))
    values = _check_segment(inner[0], segment_name, account_type, errors, correction=True)
    values.update({"AcctCode": head.get("ModRecCode", ""), "RptDate": head.get("RptDate", "")})
    info = _info(values, area, errors, account_type, code_tag="ModRecCode")
    info["segment"] = head.get("MdfcSgmtCode", "")
    if segment_name == "liability" and values.get("AcctStatus"):
        info["closed"] = 1 if values["AcctStatus"] == "2" else 0
    return info


def _check_deletion(element: ET.Element, record_type: str, area: str, errors: list[tuple[str, str]]) -> dict[str, str]:
    values = {c.tag: (c.text or "").strip() for c in element}
    if set(values) - {"InfRecType", "DelRecCode"}:
        raise _Bad("ABR006", "0000")
    for tag in ("InfRecType", "DelRecCode"):
        if not values.get(tag):
            errors.append(("ABD000" if tag not in values else "ABE000", tag))
    if values.get("InfRecType") and values["InfRecType"] != record_type:
        errors.append(("ABE001", "InfRecType"))
    account = values.get("DelRecCode", "")
    if account and not account.startswith(area):
        errors.append(("ABE002", "DelRecCode"))
    return {"account": account, "date": "", "segment": "all"}


def _check_segment(segment: ET.Element, name: str, record_type: str, errors: list[tuple[str, str]],
                   correction: bool = False) -> dict[str, str]:
    """The items of one segment: order-free, each known, required ones present and filled, each in its
    format. Returns the values by their 440 tag."""
    spec = pboc.SEGMENTS[name]
    rename = pboc.TAG_OF[record_type]
    items = {rename.get(i.tag, i.tag): i for i in spec.items}
    children = list(segment)
    if not children:
        errors.append(("ABD001", spec.tag))
        return {}
    values: dict[str, str] = {}
    for child in children:
        item = items.get(child.tag)
        if item is None or len(child):
            raise _Bad("ABR006", child.tag)
        values[item.tag] = (child.text or "").strip()
    expected = pboc.BASE_CORRECTION_ITEMS if correction and name == "base" else [
        i.tag for i in spec.items if i.sent and not i.optional and not (correction and i.tag in ("RptDate", "RptDateCode"))]
    for tag in expected:
        if tag not in values:
            errors.append(("ABD000", rename.get(tag, tag)))
        elif not values[tag]:
            errors.append(("ABE000", rename.get(tag, tag)))
    for tag, value in values.items():
        if value and not _valid(pboc.SEGMENTS[name], tag, value, record_type):
            errors.append(("ABE008" if _DATE.fullmatch(value) else "ABE001", rename.get(tag, tag)))
    if name == "basic" and values.get("BusiLines") and values.get("BusiDtilLines") and \
            values["BusiDtilLines"] not in pboc.DETAIL_LINES_OF.get(values["BusiLines"], set()):
        errors.append(("ABE001", "BusiDtilLines"))
    return values


def _valid(segment: pboc.Segment, tag: str, value: str, record_type: str) -> bool:
    item = next(i for i in segment.items if i.tag == tag)
    fmt = item.fmt
    if fmt == "D":
        day = _date(value, "%Y-%m-%d") if _DATE.fullmatch(value) else None
        return day is not None and _DATE_MIN <= day <= _DATE_MAX
    if fmt == "N..15":
        return bool(_WHOLE.fullmatch(value))
    if fmt == "N..3":
        return value.isdigit() and len(value) <= 3 and int(value) <= 100
    if fmt.startswith("AN.."):
        return len(value) <= int(fmt[4:])
    if fmt.startswith("AN"):
        return len(value) == int(fmt[2:])
    if fmt.startswith("code:"):
        codes = fmt[5:]
        if codes == "id_type":
            codes = f"id_type_{record_type}"
        if codes == "record_type":
            return value == record_type
        return value in pboc.CODES[codes]
    return True


def _info(values: dict[str, str], area: str, errors: list[tuple[str, str]], record_type: str,
          code_tag: str = "AcctCode") -> dict[str, str]:
    account = values.get("AcctCode", "")
    if account and not account.startswith(area):
        errors.append(("ABE002", code_tag))
    return {"account": account, "date": values.get("RptDate", ""), "id_type": values.get("IDType", ""),
            "id_number": values.get("IDNum", "")}


def _date(text: str, fmt: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, fmt).date()
    except ValueError:
        return None
