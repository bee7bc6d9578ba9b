"""One filing path: phase 4 runs once per submission, and a submission validated outside Dagster (the
portal's inline mode) still gets its datasets and deliveries, then reaches ``published``."""

from __future__ import annotations

import requests

from connectors.publish.signing import SigningKeys
from connectors.publish.transport import SenderConfig
from connectors.receivers import Receivers
from filings.archive import default_archive
from filings.intake import receive_package
from filings.publication.inputs import from_archive
from filings.publication.service import publish_period
from filings.settings import load
from filings.validation import validate_submission
from store import outbox
from store.db import session_factory
from store.models import SubmissionState
from tests.pipelines.helpers import materialized_in_run


def test_one_filing_run_computes_phase_4_once(pipeline, generated, monkeypatch):
    import validations.engine as engine

    calls = []
    original = engine.evaluate

    def counting(*args, **kwargs):
        calls.append(args[3].institution_id)
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "evaluate", counting)
    pipeline.drop(generated.clean[0])
    [run] = pipeline.runner.intake(settle_seconds=0)
    assert run.success
    assert "publication_outbox" in materialized_in_run(pipeline.instance, run.run_id)  # datasets and outbox too
    assert calls == [generated.ids()[0]]  # validation, datasets, outbox: phase 4 once


def test_an_inline_validated_submission_gets_datasets_deliveries_and_is_published(pipeline, generated, monkeypatch):
    guarantor = generated.ids()[1]
    store = pipeline.store
    with store.session() as session:  # the portal's door: receive, then validate in the request
        submission = receive_package(session, store.blobs(), generated.clean[1].read_bytes(), "upload").submission
    validated = validate_submission(store.session, store.blobs(), default_archive(), submission.id)
    assert validated.state == SubmissionState.ACCEPTED

    [run] = pipeline.runner.tick()  # the sensor sees an accepted submission without datasets
    assert run.success and run.submission_id == submission.id
    assert materialized_in_run(pipeline.instance, run.run_id) == ["accepted_filing", "filing_results",
                                                                  "publication_outbox"]
    assert pipeline.runner.tick() == []  # once
    [row] = pipeline.submissions(institution_id=guarantor)
    assert row.datasets_published_at is not None and row.state == SubmissionState.ACCEPTED

    monkeypatch.setenv("DANBAO_SIGNING_KEY", "k" * 32)
    monkeypatch.setenv("DANBAO_PBOC_SM4_KEY", "0123456789abcdef0123456789abcdef")
    with Receivers(pipeline.home / "receivers", keys=SigningKeys.from_env()) as receivers:
        monkeypatch.setenv("DANBAO_PBOC_URL", receivers.pboc_url)
        monkeypatch.setenv("DANBAO_CBRC_URL", receivers.cbrc_url)
        with requests.Session() as http:
            result = publish_period(session_factory(store.engine()), store.blobs(), http, SigningKeys.from_env(),
                                    SenderConfig(endpoints=load().endpoints(), max_wait=5), generated.period,
                                    load=from_archive(default_archive()))
    assert result.delivery.failed == 0 and submission.id in result.published
    with store.session() as session:
        items = [i for i in outbox.list_items(session, generated.period) if i.submission_id == submission.id]
    assert items and all(str(i.state) == "delivered" for i in items)
    [row] = pipeline.submissions(institution_id=guarantor)
    assert row.state == SubmissionState.PUBLISHED
