"""Run-off reporting (六(十四)) in the CBRC period summary: a guarantor the registry lists as ``exited``
is reported with its last queued CBRC report (its period and the exposure still in force then), through
``enqueue_summary`` and the summary's JSON Schema; with no exits the summary has no ``run_off``."""

from __future__ import annotations

import json

from sqlalchemy import select

from filings.publication import enqueue as q
from store import repository as repo
from store.models import Institution, InstitutionStatus, OutboxItem, OutboxKind
from tests.publish.helpers import (
    GUARANTOR,
    OTHER,
    OTHER_AREA,
    accepted_submission,
    filing_for,
    guarantee,
    guarantees,
    institution,
    registry_row,
)


def _summary(factory, blobs, period: str) -> dict:
    with factory() as session, session.begin():
        key = q.enqueue_summary(session, blobs, period)
        item = session.scalars(select(OutboxItem).where(OutboxItem.idempotency_key == key)).one()
        assert item.kind == OutboxKind.CBRC_SUMMARY
        return json.loads(blobs.get(item.body_key))


def test_an_exited_guarantor_is_reported_in_run_off_with_its_last_report(factory, blobs):
    with factory() as session, session.begin():
        repo.upsert_institutions(session, [registry_row(institution()), registry_row(institution(OTHER, OTHER_AREA))])
    for inst, period in ((institution(), "2026-09"), (institution(OTHER, OTHER_AREA), "2026-09"),
                         (institution(OTHER, OTHER_AREA), "2026-10")):
        with factory() as session, session.begin():
            submission = accepted_submission(session, inst.institution_id, period)
            table = guarantees(guarantee("G1"), guarantee("G2", outstanding_balance="5.00"))
            q.enqueue_filing(session, blobs, filing_for(submission, table, inst))
    assert "run_off" not in _summary(factory, blobs, "2026-10")  # nobody has exited

    with factory() as session, session.begin():
        session.get(Institution, GUARANTOR).status = InstitutionStatus.EXITED
    summary = _summary(factory, blobs, "2026-10")
    (line,) = summary["run_off"]
    with factory() as session:
        item = session.scalars(select(OutboxItem).where(OutboxItem.kind == OutboxKind.CBRC,
                                                        OutboxItem.institution_id == GUARANTOR)).one()
        report = json.loads(blobs.get(item.body_key))
    expected = report["indicators"]["financing_exposure"] + report["indicators"]["non_financing_exposure"]
    assert expected > 0
    assert (line["institution_id"], line["last_period"], line["in_run_off"]) == (GUARANTOR, "2026-09", True)
    assert line["financing_exposure"] == round(report["indicators"]["financing_exposure"], 2)
    assert [r["institution_id"] for r in summary["reports"]] == [OTHER]  # 2026-10's reports: the other one only
