"""The reference CBRC receiver: takes supervisory reports and period summaries as JSON.

- ``POST /cbrc/reports``: one guarantor's report, signed with that guarantor's key, and naming it
  (``X-Danbao-Institution`` must be the report's ``institution.institution_id``: 400 ``CBR003``).
- ``POST /cbrc/summaries``: a period's summary, signed with the deployment key.
- ``GET /cbrc/received``: what the receiver holds.

Bodies must be JSON (400 ``CBR001``) valid against the project's JSON Schemas (400 ``CBR002``, with the
first problems' paths), the same ones the sender checks before queuing.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from connectors.publish import cbrc
from connectors.receivers.server import Accepted, App, Rejected

ROUTES = {"/cbrc/reports": cbrc.REPORT, "/cbrc/summaries": cbrc.SUMMARY}


class CbrcApp(App):
    endpoint = "cbrc"

    def write_route(self, method: str, path: str) -> str | None:
        return ROUTES.get(path.rstrip("/")) if method == "POST" else None

    def check(self, db: Any, kind: str, path: str, key: str, institution_id: str | None, body: bytes,
              sha256: str, received_at: str) -> Accepted:
        try:
            document = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise Rejected(400, "CBR001", "the body is not UTF-8 JSON") from None
        try:
            cbrc.check(document, kind)
        except cbrc.DocumentError as exc:
            raise Rejected(400, "CBR002", str(exc)) from None
        owner = document["institution"]["institution_id"] if kind == cbrc.REPORT else None
        if owner != institution_id:
            raise Rejected(400, "CBR003", "the signing institution is not the document's"
                           if owner else "a summary is signed with the deployment key, for no institution")
        receipt = {
            "receipt_id": f"CBRC-{uuid.uuid4()}",
            "idempotency_key": key,
            "sha256": sha256,
            "size": len(body),
            "received_at": received_at,
            "kind": kind,
            "institution_id": owner,
            "period": document["period"],
        }
        return Accepted(receipt, kind, owner, None, document["period"])
