"""The reference PBOC receiver: takes credit-information files, answers each with a feedback file.

- ``PUT /pboc/files/<name>``: a file (``Idempotency-Key`` = its name). The name, the header and the
  record count are checked first: a file that fails them is refused whole (400, codes ``AFN…``,
  ``AEN…``, ``AHD…``). Otherwise it is stored, and each record is checked: ``ABS001`` wrong length or
  encoding, ``ABS002`` a field outside its format or code list, ``ABE004`` an ID number failing its
  check character (GB 32100 for USCC, GB 11643 with the birth date for RIC), ``ABR002`` a duplicate
  (the same account twice in the file; a ``10`` or ``20`` already accepted for the account; a ``30``
  or ``50`` already accepted for the account and report date). Accepted records are kept.
- ``GET /pboc/feedback/<name>``: the feedback file (the file's name, 30th character ``1``), signed
  over the path; 404 until the file was received.
- ``GET /pboc/received``: what the receiver holds (names, keys, SHA-256, receipts; never the bodies).

Nothing logged or answered here repeats an ID number.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.publish import pboc
from connectors.publish.signing import INSTITUTION_HEADER, SIGNATURE_HEADER, verify
from connectors.receivers.server import Accepted, App, Handler, Rejected
from validations.checksums import ric_valid, uscc_valid

_AMOUNT = r"^[0-9]{15}\.[0-9]{2}$"
_DATE = re.compile(r"\d{8}")
_DETAIL_LINES = {code: "1" if code[0] == "1" else "2" for code in pboc.DETAIL_LINE.values()}
_MODES = frozenset(pboc.GUARANTEE_MODE.values())


class PbocApp(App):
    endpoint = "pboc"

    def write_route(self, method: str, path: str) -> str | None:
        if method in ("PUT", "POST") and path.startswith("/pboc/files/") and path.count("/") == 3:
            return "file"
        return None

    def read(self, handler: Handler, path: str) -> None:
        if not path.startswith("/pboc/feedback/") or path.count("/") != 3:
            super().read(handler, path)
            return
        institution_id = handler.headers.get(INSTITUTION_HEADER) or None
        key = self.key_for(institution_id)
        if key is None or not verify(key, path.encode("utf-8"), handler.headers.get(SIGNATURE_HEADER)):
            self.respond_json(handler, 401, {"code": "SIG001", "message": "missing or invalid signature"})
            return
        found = self.store.feedback(path.rsplit("/", 1)[1])
        if found is None:
            self.respond_json(handler, 404, {"code": "FBK001", "message": "no feedback for this name (yet)"})
            return
        handler.respond(200, found[1], "text/plain; charset=utf-8", {})

    def check(self, db: Any, kind: str, path: str, key: str, institution_id: str | None, body: bytes,
              sha256: str, received_at: str) -> Accepted:
        name = path.rsplit("/", 1)[1]
        match = pboc.FILE_NAME.fullmatch(name)
        if match is None or _date(match["date"]) is None:
            raise Rejected(400, "AFN001", "the file name does not follow the 30-character rule plus .txt")
        if key != name:
            raise Rejected(400, "AFN002", "the Idempotency-Key of a credit file must be its file name")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise Rejected(400, "AEN001", "the file is not UTF-8") from None
        if not text.endswith("\n"):
            raise Rejected(400, "AEN002", "the file does not end with a line feed")
        lines = text[:-1].split("\n")
        header = _check_header(lines[0])
        if header["record_type"] != match["type"] or header["area_code"] != match["area"]:
            raise Rejected(400, "AHD002", "the header's record type or area code differs from the file name's")
        records = lines[1:]
        if int(header["record_count"]) != len(records):
            raise Rejected(400, "AHD003", f"the header counts {int(header['record_count'])} records, the file holds {len(records)}")
        rejections, accepted = self._check_records(db=db, records=records, file_name=name, record_type=match["type"],
                                                   area_code=match["area"], report_date=match["date"])
        feedback_name, feedback = pboc.render_feedback(name, match["type"], match["area"],
                                                       dt.datetime.now(dt.UTC), rejections)
        receipt = {
            "receipt_id": f"PBOC-{uuid.uuid4()}",
            "idempotency_key": key,
            "file_name": name,
            "sha256": sha256,
            "size": len(body),
            "received_at": received_at,
            "records": len(records),
            "accepted": len(records) - len({r["record_no"] for r in rejections}),
            "rejected": len({r["record_no"] for r in rejections}),
            "feedback_file": feedback_name,
        }
        return Accepted(receipt, "file", institution_id, name, None,
                        extra=(name, feedback_name, feedback, accepted))

    def store_extra(self, db: Any, accepted: Accepted) -> None:
        name, feedback_name, feedback, records = accepted.extra
        self.store.add_records(db, records)
        self.store.add_feedback(db, feedback_name, name, feedback)

    def _check_records(self, *, db: Any, records: list[str], file_name: str, record_type: str, area_code: str,
                       report_date: str) -> tuple[list[dict[str, Any]], list[tuple[str, str, str, str, str, int]]]:
        """(rejections, accepted records as rows to store), column-wise over the file's record lines.
        Runs inside the store's transaction, so the duplicate check sees every earlier acceptance."""
        n = len(records)
        lines = pa.array([line.encode("utf-8") for line in records], pa.binary())
        short = _mask(pc.not_equal(pc.binary_length(lines), pboc.RECORD_BYTES))
        fields = {name: pc.binary_slice(lines, start, stop) for name, (start, stop) in pboc.OFFSETS.items()}
        syntax = _syntax_ok(fields, record_type, area_code, report_date) & ~short
        ids_ok = np.zeros(n, dtype=bool)
        printable = syntax & _mask(pc.match_substring_regex(fields["id_number"], r"^[\x21-\x7e]{18}$"))
        if printable.any():
            ids = pc.cast(pc.filter(fields["id_number"], pa.array(printable)), pa.string())
            latest = np.datetime64(dt.datetime.strptime(report_date, "%Y%m%d").date(), "D")
            ids_ok[printable] = uscc_valid(ids) if record_type == pboc.ENTERPRISE else ric_valid(ids, latest)
        accounts = [a.decode("utf-8", "replace") for a in
                    pc.replace_substring_regex(fields["account_code"], " +$", "").to_pylist()]
        codes = [c.decode("ascii", "replace") for c in fields["report_date_code"].to_pylist()]
        held = self.store.accepted_records(db, area_code, accounts)
        held_once = {(a, c) for a, _, c in held if c in (pboc.NEW, pboc.CLOSED)}
        seen: set[str] = set()
        rejections, accepted = [], []
        for i in range(n):
            code = None
            if short[i]:
                code = "ABS001"
            elif not syntax[i]:
                code = "ABS002"
            elif not ids_ok[i]:
                code = "ABE004"
            elif accounts[i] in seen or (accounts[i], codes[i]) in held_once or (accounts[i], report_date, codes[i]) in held:
                code = "ABR002"
            seen.add(accounts[i])
            if code is None:
                accepted.append((area_code, accounts[i], report_date, codes[i], file_name, i + 1))
            else:
                rejections.append({"record_no": i + 1, "account_code": accounts[i], "report_date_code": codes[i],
                                   "error_code": code})
        return rejections, accepted


def _check_header(line: str) -> dict[str, str]:
    if len(line) != pboc.HEADER_BYTES or len(line.encode("utf-8")) != pboc.HEADER_BYTES:
        raise Rejected(400, "AHD001", f"the header line must be {pboc.HEADER_BYTES} characters")
    h = pboc.parse_header(line)
    problems = []
    if h["marker"] != "A":
        problems.append("marker")
    if h["header_length"] != f"{pboc.HEADER_BYTES:03d}":
        problems.append("header_length")
    if h["record_type"] not in pboc.RECORD_TYPES:
        problems.append("record_type")
    if h["version"] != pboc.VERSION:
        problems.append("version")
    if h["template_type"] != pboc.TEMPLATE:
        problems.append("template_type")
    if not pboc.AREA_CODE.fullmatch(h["area_code"]):
        problems.append("area_code")
    try:
        dt.datetime.strptime(h["created_at"], "%Y%m%d%H%M%S")
    except ValueError:
        problems.append("created_at")
    if h["reserved"] != "0":
        problems.append("reserved")
    if not h["record_count"].isdigit():
        problems.append("record_count")
    if problems:
        raise Rejected(400, "AHD001", f"header field(s) not as specified: {', '.join(problems)}")
    return h


def _syntax_ok(f: dict[str, pa.Array], record_type: str, area_code: str, report_date: str) -> np.ndarray:
    """Per record: every field in its format and code list (ABS002 when not)."""
    def eq(name: str, value: str) -> np.ndarray:
        return _mask(pc.equal(f[name], pa.scalar(value.encode(), pa.binary())))

    def one_of(name: str, values: Iterable[str]) -> np.ndarray:
        return _mask(pc.is_in(f[name], value_set=pa.array([v.encode() for v in values], pa.binary())))

    def like(name: str, pattern: str) -> np.ndarray:
        return _mask(pc.match_substring_regex(f[name], pattern))

    closed = eq("account_status", "2")
    lines = pc.binary_join_element_wise(f["business_line"], f["detail_line"], b"")
    return (
        eq("record_type", record_type)
        & like("account_code", r"^[^ ].*")
        & eq("report_date", report_date)
        & one_of("report_date_code", pboc.REPORT_DATE_CODES)
        & like("party_name", r"[^ ]")
        & eq("id_type", pboc.ID_TYPE_OF_RECORD[record_type])
        & eq("area_code", area_code)
        & _mask(pc.is_in(lines, value_set=pa.array([(line + code).encode() for code, line in _DETAIL_LINES.items()])))
        & _dates(f["open_date"])
        & like("guaranteed_amount", _AMOUNT)
        & eq("currency", "CNY")
        & _dates(f["due_date"])
        & one_of("guarantee_mode", _MODES)
        & one_of("account_status", ("1", "2"))
        & like("balance", _AMOUNT)
        & one_of("five_category", ("1", "2", "3", "4", "5"))
        & one_of("compensation_flag", ("0", "1"))
        & np.where(closed, _dates(f["close_date"]), eq("close_date", " " * 8))
    )


def _dates(values: pa.Array) -> np.ndarray:
    """Real calendar dates ``YYYYMMDD``."""
    digits = _mask(pc.match_substring_regex(values, r"^[0-9]{8}$"))
    text = pc.cast(pc.if_else(pa.array(digits), values, pa.scalar(b"x", pa.binary())), pa.string())
    return digits & _mask(pc.is_valid(pc.strptime(text, "%Y%m%d", "s", error_is_null=True)))


def _mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _date(text: str) -> dt.date | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None
