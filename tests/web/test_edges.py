"""The portal at its edges: ids and offsets beyond 64 bits, zero and negative ids, on every route that
takes one (a 422 or a 404, never a 500), over the API and the pages."""

from __future__ import annotations

import pytest

from tests.web.conftest import as_json, csrf_of
from web.bounds import MAX_ID

HUGE = [2**63, 2**64, 10**30, -(2**63) - 1]
TOO_SMALL = [0, -1]
CONFIRM = {"rule_ids": ["SUB-001"], "justification": "a justification long enough"}


def _api_id_routes(n: int) -> list[tuple[str, str, dict]]:
    return [
        ("GET", f"/api/submissions/{n}", {}),
        ("GET", f"/api/submissions/{n}/findings", {}),
        ("GET", f"/api/submissions/{n}/findings.csv", {}),
        ("GET", f"/api/submissions/{n}/findings.json", {}),
        ("GET", f"/api/submissions/{n}/confirmations", {}),
        ("POST", f"/api/submissions/{n}/confirmations", {"json": CONFIRM}),
        ("POST", f"/api/admin/tokens/{n}/revoke", {}),
        ("GET", f"/api/audit?token_id={n}", {}),
    ]


@pytest.mark.parametrize("n", HUGE + TOO_SMALL)
def test_out_of_range_ids_are_422_on_every_api_route(live_sqlite, n):
    live = live_sqlite
    for method, path, kwargs in _api_id_routes(n):
        who = "a" if "confirmations" in path and method == "POST" else "admin"
        response = live.post(path, who, **kwargs) if method == "POST" else live.get(path, who)
        assert response.status_code == 422, (method, path, response.status_code, response.text[:200])
        assert as_json(response)["error"] == "invalid"


@pytest.mark.parametrize("n", [MAX_ID, 987_654])
def test_ids_in_range_that_name_nothing_are_404(live_sqlite, n):
    live = live_sqlite
    for method, path, kwargs in _api_id_routes(n):
        if "audit" in path:
            continue  # a filter, not a thing: an empty list
        who = "a" if "confirmations" in path and method == "POST" else "admin"
        response = live.post(path, who, **kwargs) if method == "POST" else live.get(path, who)
        assert response.status_code == 404, (method, path, response.status_code, response.text[:200])
    assert as_json(live.get(f"/api/audit?token_id={n}", "admin"))["items"] == []


@pytest.mark.parametrize("offset", [2**63, 2**64, -1])
def test_out_of_range_offsets_are_422(live_sqlite, offset):
    live = live_sqlite
    for path in ("/api/submissions", "/api/submissions/1/findings", "/api/audit"):
        response = live.get(f"{path}?offset={offset}", "admin")
        assert response.status_code == 422, (path, response.status_code, response.text[:200])


def test_the_largest_offset_is_an_empty_page(live_sqlite):
    live = live_sqlite
    assert as_json(live.get(f"/api/submissions?offset={MAX_ID}", "admin"))["items"] == []
    assert as_json(live.get(f"/api/audit?offset={MAX_ID}", "admin"))["items"] == []


def test_huge_finding_ids_in_a_confirmation_are_422(live_sqlite):
    live = live_sqlite
    for ids in ([2**64], [0], [MAX_ID + 1]):
        response = live.post("/api/submissions/1/confirmations", "a", json={**CONFIRM, "finding_ids": ids})
        assert response.status_code == 422, (ids, response.status_code, response.text[:200])


@pytest.mark.parametrize("n", [2**64, 0, -1])
def test_out_of_range_ids_on_the_pages_are_422(live_sqlite, n):
    live = live_sqlite
    browser = live.login("a")
    assert browser.get(f"{live.url}/submissions/{n}").status_code == 422
    token = csrf_of(browser.get(f"{live.url}/login").text)
    response = browser.post(f"{live.url}/submissions/{n}/confirm",
                            data={"csrf_token": token, "justification": CONFIRM["justification"], "rule_id": "SUB-001"})
    assert response.status_code == 422


def test_huge_finding_ids_in_the_confirm_form_are_422(live_sqlite):
    live = live_sqlite
    browser = live.login("a")
    token = csrf_of(browser.get(f"{live.url}/login").text)
    for value in (str(2**64), "0", "9" * 5000):
        response = browser.post(f"{live.url}/submissions/{MAX_ID}/confirm",
                                data={"csrf_token": token, "justification": CONFIRM["justification"],
                                      "finding_id": value})
        assert response.status_code == 422, (value[:30], response.status_code)
