"""Banks as users (巴南府发〔2017〕30号 一, 五(十), 五(十一)): a bank token reads, for the guarantees whose
``lender_code`` is its own, the exposures, the payouts and their delay after its claim, and every
guarantor's grade and third-party rating — and nothing else: not another bank's lending, not the
guarantors' filings, findings, uploads or datasets.

Like the guarantor tenancy tests, every route of the app is asked with a bank token (Bearer and browser
session), and the table fails when a route is added without a case. What a bank reads is checked against
the published datasets as a regulator downloads them, figure by figure (hand-computed sums in Decimal).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import requests

from store import portal as store_portal
from store import repository as repo
from tests.packages import GOV_ID
from tests.web.conftest import BANK_LENDER, OTHER_LENDER, PERIOD, as_json, csrf_of, fresh_zip, sha256
from tests.web.test_tenancy import _normalise, app_routes

SYNTHETIC_PERIODS = ("2026-08", "2026-09", "2026-10")


@pytest.fixture(scope="module")
def a_submission(live_sqlite, tmp_path_factory):
    data = fresh_zip(tmp_path_factory.mktemp("banks"))
    receipt = as_json(live_sqlite.upload(data, who="a"))
    return receipt["submission_id"], sha256(data), data


def _published(live, dataset: str, period: str) -> list[dict]:
    return as_json(live.get(f"/api/datasets/{dataset}?period={period}&format=json", "regulator"))


def _lent_by(rows: list[dict], lender: str) -> list[dict]:
    return [r for r in rows if r.get("lender_code") == lender]


# -- what a bank reads ----------------------------------------------------------------------------


@pytest.mark.parametrize("period", SYNTHETIC_PERIODS)
def test_a_bank_reads_exactly_its_own_lending(live_sqlite, period):
    live = live_sqlite
    ledger = _published(live, "guarantees", period)
    for who, lender in (("bank", BANK_LENDER), ("bank2", OTHER_LENDER)):
        rows = as_json(live.get(f"/api/bank/exposures?period={period}", who))
        expected = {(r["institution_id"], r["guarantee_id"]) for r in _lent_by(ledger, lender)}
        assert expected, f"the fixture has no lending by {lender} in {period}"
        assert {(r["institution_id"], r["guarantee_id"]) for r in rows} == expected
        assert len(rows) == len(expected)
        for row in rows:  # exposure columns only: no lender code, no party identifier
            assert "party_id" not in row and "lender_code" not in row and "related_group_id" not in row
    mine = {(r["institution_id"], r["guarantee_id"]) for r in as_json(live.get(f"/api/bank/exposures?period={period}", "bank"))}
    theirs = {(r["institution_id"], r["guarantee_id"]) for r in as_json(live.get(f"/api/bank/exposures?period={period}", "bank2"))}
    assert mine.isdisjoint(theirs)


def test_payouts_and_their_delay_after_the_banks_claim(live_sqlite):
    live = live_sqlite
    found_any = False
    for period in SYNTHETIC_PERIODS:
        published = _lent_by(_published(live, "compensations", period), BANK_LENDER)
        rows = as_json(live.get(f"/api/bank/compensations?period={period}", "bank"))
        assert {(r["institution_id"], r["compensation_id"]) for r in rows} == {
            (r["institution_id"], r["compensation_id"]) for r in published}
        for row in rows:  # BNK-001's delay, by hand: compensation_date − bank_claim_date in days
            paid, claimed = dt.date.fromisoformat(row["compensation_date"]), dt.date.fromisoformat(row["bank_claim_date"])
            assert row["payout_days"] == (paid - claimed).days
            found_any = True
    assert found_any, "no payout on the bank's guarantees in the fixture"


def test_the_overview_sums_by_guarantor_exactly(live_sqlite, published):
    live = live_sqlite
    view = as_json(live.get(f"/api/bank?period={PERIOD}", "bank"))
    assert view["lender_code"] == BANK_LENDER and view["period"] == PERIOD and view["payout_days_max"] == 30
    ledger = _lent_by(_published(live, "guarantees", PERIOD), BANK_LENDER)
    paid = _lent_by(_published(live, "compensations", PERIOD), BANK_LENDER)
    lines = {line["institution_id"]: line for line in view["by_guarantor"]}
    assert set(lines) == {r["institution_id"] for r in ledger} | {r["institution_id"] for r in paid}
    for institution_id, line in lines.items():
        active = [r for r in ledger if r["institution_id"] == institution_id and r["status"] == "active"]
        assert line["active"] == len(active)
        assert Decimal(line["outstanding_balance"]) == sum((Decimal(r["outstanding_balance"]) for r in active), Decimal(0))
        assert Decimal(line["overdue_amount"]) == sum((Decimal(r["overdue_amount"]) for r in active), Decimal(0))
        bad = [r for r in active if r["five_category"] in ("3", "4", "5")]
        assert Decimal(line["non_performing_balance"]) == sum((Decimal(r["outstanding_balance"]) for r in bad), Decimal(0))
        mine = [r for r in paid if r["institution_id"] == institution_id]
        assert line["compensations"] == len(mine)
        assert Decimal(line["compensation_paid"]) == sum((Decimal(r["amount_paid"]) for r in mine), Decimal(0))
        assert line["late_payouts"] == sum(1 for r in mine if r["payout_days"] > 30)
        assert "." in line["outstanding_balance"]  # exact decimal text, never a float


def test_every_guarantors_grade_and_rating(live_sqlite):
    live = live_sqlite
    view = as_json(live.get(f"/api/bank/guarantors?period={PERIOD}", "bank"))
    grades = {r["institution_id"]: r["grade"] for r in _published(live, "grades", PERIOD)}
    with live.portal.session() as session:
        registry = {i.institution_id: i for i in repo.list_institutions(session)}
        ratings = {k: (i.rating_agency, i.rating_grade, i.rating_date) for k, i in registry.items()}
    items = {r["institution_id"]: r for r in view["items"]}
    assert set(items) == set(registry)  # every guarantor, not only those the bank lends through
    for institution_id, item in items.items():
        assert item["grade"] == grades.get(institution_id)
        assert (item["rating_agency"], item["rating_grade"], item["rating_date"]) == ratings[institution_id]
    assert any(r["rating_grade"] for r in items.values())  # the synthetic registry is rated (template 1.1)


def test_a_1_0_ledger_has_no_claim_date_so_no_delay(live_sqlite):
    """The sample (template 1.0) lends through C1234: a bank token for it reads the rows, with null delays."""
    live = live_sqlite
    with live.portal.session() as session:
        _, secret = store_portal.create_token(session, "bank", lender_code="C1234", label="1.0 lender")
    rows = requests.get(f"{live.url}/api/bank/exposures?period={PERIOD}", headers={"Authorization": f"Bearer {secret}"},
                        timeout=30).json()
    assert rows and {r["institution_id"] for r in rows} == {GOV_ID}
    assert all(r.get("bank_risk_share") is None for r in rows)  # a 1.0 ledger carries no 1.1 column
    view = requests.get(f"{live.url}/api/bank?period={PERIOD}", headers={"Authorization": f"Bearer {secret}"}, timeout=30).json()
    (line,) = view["by_guarantor"]
    assert line["overdue_amount"] is None and line["payout_days_max"] is None and line["late_payouts"] == 0


# -- nothing else: every route, asked with a bank token -------------------------------------------


def _bearer_cases(sid: int, data: bytes) -> list[tuple[str, str, dict, set[int]]]:
    confirm = {"json": {"rule_ids": ["POL-002", "SUB-001"], "justification": "a bank tries to confirm warnings"}}
    return [
        ("GET", f"/api/submissions/{sid}", {}, {404}),
        ("GET", f"/api/submissions/{sid}/findings", {}, {404}),
        ("GET", f"/api/submissions/{sid}/findings.csv", {}, {404}),
        ("GET", f"/api/submissions/{sid}/findings.json", {}, {404}),
        ("GET", f"/api/submissions/{sid}/confirmations", {}, {404}),
        ("POST", f"/api/submissions/{sid}/confirmations", confirm, {404}),
        ("POST", "/api/submissions", {"data": data, "headers": {"Content-Type": "application/zip"}}, {403}),
        ("GET", f"/api/submissions?institution_id={GOV_ID}", {}, {403}),
        ("GET", "/api/submissions", {}, {403}),
        ("GET", "/api/datasets", {}, {403}),
        ("GET", f"/api/datasets/indicators?institution_id={GOV_ID}", {}, {403}),
        ("GET", f"/api/datasets/guarantees?period={PERIOD}", {}, {403}),
        ("GET", "/api/me", {}, {200}),
        ("GET", "/api/health", {}, {200}),
        ("GET", "/api/registry", {}, {403}),
        ("GET", "/api/audit", {}, {403}),
        ("GET", "/api/admin/tokens", {}, {403}),
        ("POST", "/api/admin/tokens", {"json": {"role": "bank", "lender_code": OTHER_LENDER}}, {403}),
        ("POST", "/api/admin/tokens/999999/revoke", {}, {403}),
        ("PUT", "/api/admin/registry", {"data": b"institution_id\n", "headers": {"Content-Type": "text/csv"}}, {403}),
        ("GET", "/api/bank", {}, {200}),
        ("GET", "/api/bank/guarantors", {}, {200}),
        ("GET", "/api/bank/exposures", {}, {200}),
        ("GET", "/api/bank/compensations", {}, {200}),
        ("GET", "/openapi.json", {}, {200}),
        ("GET", "/docs", {}, {200}),
    ]


def _page_cases(sid: int) -> list[tuple[str, str, set[int]]]:
    return [
        ("GET", "/", {200}),  # redirected to the bank's page
        ("GET", "/login", {200}),
        ("POST", "/login", {200}),
        ("GET", "/bank", {200}),
        ("GET", "/submissions", {403}),
        ("GET", f"/submissions/{sid}", {404}),
        ("GET", f"/submissions/{sid}?rule_id=SUB-001", {404}),
        ("POST", f"/submissions/{sid}/confirm", {404}),
        ("GET", f"/submissions/{sid}/datadocs/index.html", {404}),
        ("POST", "/submissions", {403}),
        ("GET", "/dashboard", {403}),
        ("GET", "/bulletin", {403}),
        ("GET", f"/bulletin/download?period={PERIOD}", {403}),
        ("POST", "/logout", {200}),
    ]


def test_every_route_has_a_bank_case(live_sqlite, a_submission):
    sid, _, data = a_submission
    tested = {(m, _normalise(p, sid)) for m, p, _, _ in _bearer_cases(sid, data)}
    tested |= {(m, _normalise(p, sid)) for m, p, _ in _page_cases(sid)}
    assert app_routes(live_sqlite.app) - tested == set(), "routes without a bank case"


def test_a_bank_is_refused_the_guarantors_things_over_the_api(live_sqlite, a_submission):
    live = live_sqlite
    sid, digest, data = a_submission
    before = live.counts()
    other_rows = {r["guarantee_id"] for r in _lent_by(_published(live, "guarantees", PERIOD), OTHER_LENDER)}
    for method, path, kwargs, statuses in _bearer_cases(sid, data):
        headers = {**live.headers("bank"), **kwargs.pop("headers", {})}
        response = requests.request(method, live.url + path, headers=headers, timeout=30, **kwargs)
        assert response.status_code in statuses, (method, path, response.status_code, response.text[:200])
        body = response.text
        assert digest not in body and f'"submission_id":{sid}' not in body.replace(" ", ""), (method, path)
        assert OTHER_LENDER not in body, (method, path)
        if not path.startswith(("/api/bank", "/openapi.json")):
            assert GOV_ID not in body, (method, path, body[:200])
    assert live.counts() == before  # the bank's upload stored nothing
    mine = {r["guarantee_id"] for r in as_json(live.get(f"/api/bank/exposures?period={PERIOD}", "bank"))}
    assert other_rows - mine  # the other bank's rows exist, and the bank read none of them
    assert as_json(live.get(f"/api/submissions/{sid}", "a"))["warnings"]["confirmed"] == 0


def test_a_banks_submission_404_is_a_missing_submissions_404(live_sqlite, a_submission):
    live = live_sqlite
    sid, _, _ = a_submission
    for suffix in ("", "/findings", "/findings.csv", "/confirmations"):
        foreign = live.get(f"/api/submissions/{sid}{suffix}", "bank")
        missing = live.get(f"/api/submissions/987654{suffix}", "bank")
        assert (foreign.status_code, foreign.json()) == (missing.status_code, missing.json())


def test_a_bank_is_refused_the_guarantors_things_in_the_browser(live_sqlite, a_submission):
    live = live_sqlite
    sid, digest, data = a_submission
    browser = live.login("bank")
    before = live.counts()
    for method, path, statuses in _page_cases(sid):
        token = csrf_of(browser.get(live.url + "/login").text)
        if method == "GET":
            response = browser.get(live.url + path)
        elif path == "/login":
            response = browser.post(live.url + path, data={"csrf_token": token, "token": live.tokens["bank"]})
        elif path == "/submissions":
            response = browser.post(live.url + path, data={"csrf_token": token},
                                    files={"package": ("a.zip", data, "application/zip")})
        else:
            response = browser.post(live.url + path, data={"csrf_token": token, "rule_id": ["POL-002", "SUB-001"],
                                                           "justification": "a bank tries to confirm warnings"})
        assert response.status_code in statuses, (method, path, response.status_code)
        assert digest not in response.text and OTHER_LENDER not in response.text, (method, path)
        if path == "/logout":
            browser = live.login("bank")
    assert live.counts() == before
    home = browser.get(live.url + "/")
    assert home.url.endswith("/bank") and BANK_LENDER in home.text and "评级" in home.text
    for path in (f"/api/submissions/{sid}/findings.json", f"/api/datasets/grades?institution_id={GOV_ID}"):
        assert browser.get(live.url + path).status_code in (403, 404)


def test_other_roles_are_refused_the_bank_views(live_sqlite):
    for who in ("a", "b", "regulator"):
        for path in ("/api/bank", "/api/bank/exposures", "/api/bank/compensations", "/api/bank/guarantors"):
            assert live_sqlite.get(path, who).status_code == 403, (who, path)


def test_bank_tokens_need_a_lender_and_only_banks_have_one(live_sqlite):
    with live_sqlite.portal.session() as session:
        with pytest.raises(store_portal.TokenError, match="lender_code"):
            store_portal.create_token(session, "bank")
        with pytest.raises(store_portal.TokenError, match="not bound to a lender"):
            store_portal.create_token(session, "regulator", lender_code=BANK_LENDER)
        with pytest.raises(store_portal.TokenError, match="not bound to a guarantor"):
            store_portal.create_token(session, "bank", lender_code=BANK_LENDER, institution_id=GOV_ID)
        with pytest.raises(store_portal.TokenError, match="at most 20"):
            store_portal.create_token(session, "bank", lender_code="C" * 21)
    made = live_sqlite.post("/api/admin/tokens", "admin", json={"role": "bank", "lender_code": OTHER_LENDER, "label": "x"})
    assert made.status_code == 201 and made.json()["lender_code"] == OTHER_LENDER
    me = as_json(requests.get(live_sqlite.url + "/api/me", headers={"Authorization": f"Bearer {made.json()['secret']}"},
                              timeout=30))
    assert (me["role"], me["lender_code"], me["institution_id"]) == ("bank", OTHER_LENDER, None)
    assert live_sqlite.post("/api/admin/tokens", "admin", json={"role": "bank"}).status_code == 422


def test_late_payouts_count_strictly_over_the_line():
    """BNK-001's line is 30 days and ">" is strict (rules 1.2-draft): 30 days is in time, 31 late."""
    import pyarrow as pa

    from web.banks import by_guarantor

    exposed = pa.table({"institution_id": ["G1"], "status": ["active"], "outstanding_balance": [Decimal("100.10")],
                        "five_category": ["3"], "overdue_amount": [Decimal("0.01")]})
    paid = pa.table({"institution_id": ["G1", "G1", "G1"], "amount_paid": [Decimal("1.00"), Decimal("2.00"), Decimal("0.01")],
                     "payout_days": pa.array([30, 31, None], pa.int64())})
    (line,) = by_guarantor(exposed, paid, {"G1": "甲"}, PERIOD)
    assert (line["late_payouts"], line["payout_days_max"], line["compensations"]) == (1, 31, 3)
    assert line["compensation_paid"] == Decimal("3.01") and line["non_performing_balance"] == Decimal("100.10")
    assert line["overdue_amount"] == Decimal("0.01")
