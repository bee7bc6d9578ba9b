"""A bounded property-based run of schemathesis against the portal's own OpenAPI description
(``/openapi.json``), on a real uvicorn server on loopback: every operation, with valid (positive) and
invalid (negative) requests, authenticated with a fresh test token, and no answer may be a server
error (5xx). Bounded to ``EXAMPLES`` examples and ``SECONDS`` seconds per operation and mode, so the
whole run takes well under a minute on two shared cores.

The server is this module's own (its admin token may be revoked by the run, its registry reloaded
with random CSV); the figures (calls and statuses per operation) are printed at the end.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from store import portal as store_portal
from tests.packages import GOV_ID
from tests.web.conftest import Live, Published, as_json, fresh_zip, start_live

EXAMPLES = 25
SECONDS = 3.0
#: Operations that only a guarantor's token gets past the role check; the rest run as an admin.
GUARANTOR_OPERATIONS = {"POST /api/submissions", "POST /api/submissions/{submission_id}/confirmations"}


@pytest.fixture(scope="module")
def fuzzed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           published: Published) -> Iterator[Live]:
    for live in start_live(request, tmp_path_factory.mktemp("portal-fuzzed"), published, "sqlite"):
        # a submission with findings and warnings, so that small ids name something
        assert as_json(live.upload(fresh_zip(tmp_path_factory.mktemp("fuzzed-package"))))["submission_id"] == 1
        yield live


def _fresh_token(live: Live, label: str) -> str:
    """A new token per example: the run may revoke any token id, its own included."""
    role, institution = ("guarantor", GOV_ID) if label in GUARANTOR_OPERATIONS else ("admin", None)
    with live.portal.session() as session:
        _, secret = store_portal.create_token(session, role, institution_id=institution, label="schemathesis")
    return secret


def test_no_operation_answers_a_server_error(fuzzed):
    live = fuzzed
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json", timeout=10)
    statuses: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    errors: list[str] = []
    http = requests.Session()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            _fuzz(live, http, operation, mode, statuses[operation.label], errors)

    calls = sum(sum(c.values()) for c in statuses.values())
    print(f"\nschemathesis {schemathesis.__version__}: {len(operations)} operations, {calls} calls")
    for label, counts in sorted(statuses.items()):
        print(f"  {label}: {dict(sorted(counts.items()))}")
    assert not errors, "server errors:\n" + "\n".join(errors[:20])
    assert calls >= 2 * len(operations)


def _fuzz(live: Live, http: requests.Session, operation: schemathesis.APIOperation, mode: schemathesis.GenerationMode,
          statuses: collections.Counter, errors: list[str]) -> None:
    """At most ``EXAMPLES`` requests to ``operation`` in ``mode``, for at most ``SECONDS`` seconds."""
    deadline = time.monotonic() + SECONDS
    label = operation.label

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        if time.monotonic() > deadline:
            return  # this operation's time is up: the remaining examples are not sent
        headers = {"Authorization": f"Bearer {_fresh_token(live, label)}"}
        response = case.call(base_url=live.url, session=http, headers=headers, timeout=30)
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            errors.append(f"{label} ({mode.value}) → {response.status_code}: {case.as_curl_command(headers=headers)}")

    try:
        run()
    except Unsatisfiable:
        assert mode == schemathesis.GenerationMode.NEGATIVE, label  # nothing in the operation to get wrong
