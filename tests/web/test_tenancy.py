"""A guarantor can never see, infer or change another guarantor's data: every route of the app, asked
with guarantor B's token (Bearer and browser session) about guarantor A's things.

The route table is checked against the app's own routes, so a route added without a case here fails.
Another guarantor's submission answers 404 exactly like a submission that does not exist, and no
answer to B carries A's identifiers or bytes.
"""

from __future__ import annotations

import pytest
import requests
from fastapi.routing import APIRoute
from starlette.routing import Route

from tests.packages import GOV_ID
from tests.web.conftest import OTHER_ID, PERIOD, as_json, csrf_of, fresh_zip, sha256
from web.app import ROUTERS

MISSING_ID = 987_654


@pytest.fixture(scope="module")
def a_submission(live_sqlite, tmp_path_factory):
    """Guarantor A's needs_confirmation submission, and its SHA-256 (which B must never see)."""
    data = fresh_zip(tmp_path_factory.mktemp("tenancy"))
    receipt = as_json(live_sqlite.upload(data, who="a"))
    return receipt["submission_id"], sha256(data), data


def _bearer_cases(sid: int, data: bytes) -> list[tuple[str, str, dict, set[int]]]:
    """(method, path, request kwargs, acceptable statuses for B)."""
    confirm = {"json": {"rule_ids": ["POL-002", "SUB-001"], "justification": "B tries to confirm A's warnings"}}
    return [
        ("GET", f"/api/submissions/{sid}", {}, {404}),
        ("GET", f"/api/submissions/{sid}/findings", {}, {404}),
        ("GET", f"/api/submissions/{sid}/findings.csv", {}, {404}),
        ("GET", f"/api/submissions/{sid}/findings.json", {}, {404}),
        ("GET", f"/api/submissions/{sid}/confirmations", {}, {404}),
        ("POST", f"/api/submissions/{sid}/confirmations", confirm, {404}),
        ("POST", "/api/submissions", {"data": data, "headers": {"Content-Type": "application/zip"}}, {403}),
        ("GET", f"/api/submissions?institution_id={GOV_ID}", {}, {200}),
        ("GET", "/api/submissions", {}, {200}),
        ("GET", "/api/datasets", {}, {200}),
        ("GET", f"/api/datasets/indicators?institution_id={GOV_ID}", {}, {404}),
        ("GET", f"/api/datasets/indicators?period={PERIOD}", {}, {404}),  # B has nothing published
        ("GET", "/api/me", {}, {200}),
        ("GET", "/api/health", {}, {200}),
        ("GET", "/api/registry", {}, {403}),
        ("GET", "/api/audit", {}, {403}),
        ("GET", "/api/admin/tokens", {}, {403}),
        ("POST", "/api/admin/tokens", {"json": {"role": "guarantor", "institution_id": GOV_ID}}, {403}),
        ("POST", "/api/admin/tokens/999999/revoke", {}, {403}),
        ("PUT", "/api/admin/registry", {"data": b"institution_id\n", "headers": {"Content-Type": "text/csv"}}, {403}),
        ("GET", "/api/bank", {}, {403}),  # a lending bank's views: bank tokens only
        ("GET", "/api/bank/guarantors", {}, {403}),
        ("GET", "/api/bank/exposures", {}, {403}),
        ("GET", "/api/bank/compensations", {}, {403}),
        ("GET", "/openapi.json", {}, {200}),
        ("GET", "/docs", {}, {200}),  # Swagger UI: describes the API, reads nothing
    ]


def _page_cases(sid: int) -> list[tuple[str, str, set[int]]]:
    return [
        ("GET", "/", {200}),  # redirected to B's own list
        ("GET", "/login", {200}),
        ("POST", "/login", {200}),  # B's own token: B's own session, on B's own list
        ("GET", "/submissions", {200}),
        ("GET", f"/submissions/{sid}", {404}),
        ("GET", f"/submissions/{sid}?rule_id=SUB-001", {404}),
        ("POST", f"/submissions/{sid}/confirm", {404}),
        ("GET", f"/submissions/{sid}/datadocs/index.html", {404}),
        ("POST", "/submissions", {403}),
        ("GET", "/dashboard", {403}),
        ("GET", "/bulletin", {403}),  # the regulators' bulletin
        ("GET", f"/bulletin/download?period={PERIOD}", {403}),
        ("GET", "/bank", {403}),
        ("POST", "/logout", {200}),
    ]


def app_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every route of the app (the other tenancy tests check their tables against it)."""
    routes = set()
    for route in [*app.routes, *(r for router in ROUTERS for r in router.routes)]:
        if isinstance(route, APIRoute | Route):
            routes |= {(m, route.path) for m in route.methods - {"HEAD"}}
    return routes


def test_every_route_has_a_tenancy_case(live_sqlite, a_submission):
    sid, _, data = a_submission
    tested = {(m, _normalise(p, sid)) for m, p, _, _ in _bearer_cases(sid, data)}
    tested |= {(m, _normalise(p, sid)) for m, p, _ in _page_cases(sid)}
    routes = app_routes(live_sqlite.app)
    assert len(routes) >= 20
    assert routes - tested == set(), "routes without a tenancy case"


def _normalise(path: str, sid: int) -> str:
    path = path.split("?")[0].replace("/tokens/999999/", "/tokens/{token_id}/")
    path = path.replace(f"/submissions/{sid}", "/submissions/{submission_id}").replace("/datasets/indicators", "/datasets/{name}")
    return path.replace("/datadocs/index.html", "/datadocs/{path:path}")


def test_guarantor_b_is_refused_everywhere_over_the_api(live_sqlite, a_submission):
    live = live_sqlite
    sid, digest, data = a_submission
    before = live.counts()
    for method, path, kwargs, statuses in _bearer_cases(sid, data):
        headers = {**live.headers("b"), **kwargs.pop("headers", {})}
        response = requests.request(method, live.url + path, headers=headers, timeout=30, **kwargs)
        assert response.status_code in statuses, (method, path, response.status_code, response.text[:200])
        body = response.text
        assert digest not in body and f'"submission_id":{sid}' not in body.replace(" ", ""), (method, path)
        if path not in ("/api/me",) and not path.startswith("/api/submissions?institution_id"):
            assert GOV_ID not in body or path == "/openapi.json", (method, path, body[:200])
    assert live.counts() == before  # B's upload of A's package stored nothing
    mine = as_json(live.get("/api/submissions", "b"))
    assert mine["items"] == [] and as_json(live.get(f"/api/submissions?institution_id={GOV_ID}", "b"))["items"] == []
    catalog = as_json(live.get("/api/datasets", "b"))["datasets"]
    assert all(p["institution_id"] in (OTHER_ID, None) for d in catalog for p in d["partitions"])
    assert as_json(live.get(f"/api/submissions/{sid}", "a"))["warnings"]["confirmed"] == 0  # nothing changed


def test_a_foreign_submission_looks_exactly_like_a_missing_one(live_sqlite, a_submission):
    live = live_sqlite
    sid, _, _ = a_submission
    for suffix in ("", "/findings", "/findings.csv", "/confirmations"):
        foreign = live.get(f"/api/submissions/{sid}{suffix}", "b")
        missing = live.get(f"/api/submissions/{MISSING_ID}{suffix}", "b")
        assert (foreign.status_code, foreign.json()) == (missing.status_code, missing.json()) == (
            404, {"error": "not_found", "message": "no such submission"})


def test_guarantor_b_is_refused_everywhere_in_the_browser(live_sqlite, a_submission):
    live = live_sqlite
    sid, digest, data = a_submission
    browser = live.login("b")
    before = live.counts()
    for method, path, statuses in _page_cases(sid):
        token = csrf_of(browser.get(live.url + "/login").text)
        if method == "GET":
            response = browser.get(live.url + path)
        elif path == "/login":
            response = browser.post(live.url + path, data={"csrf_token": token, "token": live.tokens["b"]})
        elif path == "/submissions":
            response = browser.post(live.url + path, data={"csrf_token": token},
                                    files={"package": ("a.zip", data, "application/zip")})
        else:
            response = browser.post(live.url + path, data={"csrf_token": token, "rule_id": ["POL-002", "SUB-001"],
                                                           "justification": "B tries to confirm A's warnings"})
        assert response.status_code in statuses, (method, path, response.status_code)
        assert digest not in response.text and GOV_ID not in response.text, (method, path)
        if path == "/logout":
            browser = live.login("b")
    assert live.counts() == before
    # reading A's findings and datasets with B's session cookie
    for path in (f"/api/submissions/{sid}/findings.json", f"/api/datasets/grades?institution_id={GOV_ID}"):
        assert browser.get(live.url + path).status_code == 404
    assert as_json(live.get(f"/api/submissions/{sid}", "a"))["warnings"]["confirmed"] == 0


def test_guarantor_a_reads_only_its_own_published_rows(live_sqlite):
    live = live_sqlite
    response = live.get("/api/datasets/indicators?format=json", "a")
    assert response.status_code == 200
    assert {r["institution_id"] for r in response.json()} == {GOV_ID}
    catalog = as_json(live.get("/api/datasets", "a"))["datasets"]
    partitions = [p for d in catalog for p in d["partitions"]]
    assert partitions and all(p["institution_id"] == GOV_ID for p in partitions)
    assert live.get("/dashboard", "a").status_code == 403  # the dashboard is the regulator's (all guarantors)
