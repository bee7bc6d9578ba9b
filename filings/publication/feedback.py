"""The PBOC's feedback loop (outputs.md §3): fetch each delivered file's feedback, record the rejected
records (per record in ``feed_feedback``, and as findings on the guarantor's filing), and once every
file of a feed has its feedback, settle the feed's accepted state.

The accepted state is the pending one with each rejected account put back as it was before the feed
(dropped if it was new), so the next feed's diff sends those accounts again, as corrected in the next
filing. ``ABR002`` (a duplicate within the file) and ``ABR004`` (already in the PBOC's database) are
the exceptions: the PBOC already holds that record, so the state keeps it; sending it again would only
be rejected again. Feedback files come in the same envelope as the files they answer.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import requests
from sqlalchemy.orm import Session, sessionmaker

from connectors.publish import pboc
from connectors.publish.envelope import Envelope, EnvelopeError
from connectors.publish.signing import SigningKeys
from connectors.publish.transport import fetch_signed
from filings.secrets import default_envelope
from store import outbox
from store import repository as repo
from store.blobs import BlobStore
from store.models import FeedState, OutboxItem, utcnow
from validations.findings import FINDINGS_SCHEMA

log = logging.getLogger("danbao.publish.feedback")
KEEP_ON = frozenset({"ABR002", "ABR004"})  # codes after which the PBOC still holds the record


@dataclass
class FeedbackSummary:
    fetched: int = 0
    not_ready: int = 0
    rejected_records: int = 0
    settled_feeds: int = 0
    errors: list[str] = field(default_factory=list)


def fetch_feedback(
    session_factory: sessionmaker[Session],
    http: requests.Session,
    keys: SigningKeys,
    pboc_url: str,
    blobs: BlobStore,
    *,
    timeout: tuple[float, float] = (3.0, 30.0),
    institution_id: str | None = None,
    envelope: Envelope | None = None,
) -> FeedbackSummary:
    """Fetch the feedback of every delivered file that has none yet; 404 means not ready yet."""
    summary = FeedbackSummary()
    envelope = envelope or default_envelope()
    with session_factory() as session:
        waiting = [(i.id, i.file_name, i.institution_id) for i in outbox.awaiting_feedback(session, institution_id)]
    for item_id, name, owner in waiting:
        path = f"/pboc/feedback/{pboc.feedback_name(name or '')}"
        try:
            response = fetch_signed(http, keys.key_for(owner), pboc_url, path, owner, timeout)
        except requests.RequestException as exc:
            summary.errors.append(f"{name}: {type(exc).__name__}")
            continue
        if response.status_code == 404:
            summary.not_ready += 1
            continue
        if response.status_code != 200:
            summary.errors.append(f"{name}: HTTP {response.status_code}")
            continue
        try:
            _, rejections = pboc.parse_feedback(envelope.open(pboc.feedback_name(name or ""), response.content))
        except (pboc.FeedError, EnvelopeError, UnicodeDecodeError, ValueError) as exc:
            summary.errors.append(f"{name}: unreadable feedback ({exc})")
            continue
        feedback_key = blobs.put(response.content)
        with session_factory() as session, session.begin():
            settled = apply_feedback(session, blobs, item_id, rejections, feedback_key)
        summary.fetched += 1
        summary.rejected_records += len({r["record_no"] for r in rejections})
        summary.settled_feeds += int(settled)
        if rejections:
            log.warning("%s: %d record(s) rejected by the PBOC", name, len(rejections))
    return summary


def apply_feedback(
    session: Session,
    blobs: BlobStore,
    item_id: int,
    rejections: Sequence[dict],
    feedback_key: str,
    now: dt.datetime | None = None,
) -> bool:
    """Record one file's feedback; settle its feed if this was the last file awaited. True if settled."""
    now = now or utcnow()
    item = session.get(OutboxItem, item_id, with_for_update=True)
    if item is None or item.feedback_at is not None or item.feed_id is None:
        return False
    outbox.record_feedback(session, item, rejections, feedback_key, now)
    feed = session.get(FeedState, item.feed_id, with_for_update=True)
    assert feed is not None
    pending = pboc.state_from_parquet(blobs.get(feed.state_key))
    if rejections:
        repo.save_findings(session, feed.submission_id, _findings(pending, item.file_name or "", rejections))
    items = outbox.feed_items(session, feed.id)
    if feed.accepted_key is not None or any(i.feedback_at is None for i in items):
        return False
    revert = [r.account_code for r in outbox.feedback_for(session, feed_id=feed.id) if r.error_code not in KEEP_ON]
    base = None
    if feed.base_id is not None:
        previous = session.get(FeedState, feed.base_id)
        if previous is not None and previous.accepted_key:
            base = pboc.state_from_parquet(blobs.get(previous.accepted_key))
    feed.accepted_key = blobs.put(pboc.state_to_parquet(pboc.revert(pending, base, revert))) if revert else feed.state_key
    feed.accepted_at = now
    session.flush()
    return True


def _findings(state: pa.Table, file_name: str, rejections: Sequence[dict]) -> pa.Table:
    """Rejections as findings on the filing: the row of the account in the filing, its guarantee_id as
    the value (never the ID number), and the code in the rule id (``PBOC-ABE004``)."""
    codes = pa.array([str(r["account_code"]) for r in rejections], pa.string())
    at = pc.index_in(codes, value_set=state["account_code"].combine_chunks())
    rows = pc.take(state["filing_row"], at)
    ids = pc.take(state["guarantee_id"], at).to_pylist()
    values = [gid if gid is not None else str(r["account_code"])[14:] for gid, r in zip(ids, rejections, strict=True)]
    zh_en = [pboc.FEEDBACK_CODES.get(str(r["error_code"]), ("征信报送被拒", "rejected by the PBOC", None))
             for r in rejections]
    return pa.table({
        "rule_id": [f"PBOC-{r['error_code']}" for r in rejections],
        "severity": ["error"] * len(rejections),
        "file": ["guarantees"] * len(rejections),
        "row": rows,
        "column": [column for _, _, column in zh_en],
        "value": values,
        "message_zh": [f"征信报送被拒（{r['error_code']}）：{zh}；文件 {file_name} 第 {r['record_no']} 条记录，下期报送时更正后重报"
                       for r, (zh, _, _) in zip(rejections, zh_en, strict=True)],
        "message_en": [f"rejected by the PBOC ({r['error_code']}): {en}; file {file_name} record {r['record_no']}; "
                       "it is sent again, as corrected, in the next feed"
                       for r, (_, en, _) in zip(rejections, zh_en, strict=True)],
    }, schema=FINDINGS_SCHEMA)  # fmt: skip
