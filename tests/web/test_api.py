"""The JSON API through a real server, on SQLite and PostgreSQL: upload and receipt, the lifecycle,
findings (paged, filtered, downloaded), confirmations and acceptance, resubmissions."""

from __future__ import annotations

import csv
import io
import json

import requests

from tests.packages import GOV_ID
from tests.web.conftest import PERIOD, as_json, fresh_package, fresh_zip, sha256, zip_folder


def test_upload_returns_a_receipt_and_the_state_from_the_store(live, tmp_path):
    data = fresh_zip(tmp_path)
    response = live.upload(data)
    assert response.status_code == 201, response.text
    receipt = as_json(response)
    assert receipt["sha256"] == sha256(data) and receipt["bytes"] == len(data)
    assert receipt["institution_id"] == GOV_ID and receipt["period"] == PERIOD
    assert receipt["sequence"] >= 1 and receipt["created"] is True
    assert receipt["received_at"].endswith("Z")
    assert receipt["state"] == "needs_confirmation"  # the sample's POL-002 and SUB-001 warnings
    with live.portal.session() as session:
        from store import repository as repo

        stored = repo.get_submission(session, receipt["submission_id"])
        assert stored.source == "upload" and live.portal.blobs.get(stored.blob_key) == data  # the original bytes
    detail = as_json(live.get(f"/api/submissions/{receipt['submission_id']}", "a"))
    assert detail["warnings"] == {"total": 2, "confirmed": 0, "outstanding": 2,
                                  "outstanding_by_rule": {"POL-002": 1, "SUB-001": 1}}
    assert detail["finding_counts"] == {"error": 0, "warning": 2}
    assert detail["filing_of_record"] is False
    event = live.audit(5)[0]
    assert (event.route, event.status, event.outcome, event.token_id) == (
        "/api/submissions", 201, "received", live.token_ids["a"])
    assert event.detail["sha256"] == sha256(data)


def test_the_same_bytes_again_are_the_same_submission(live, tmp_path):
    data = fresh_zip(tmp_path)
    first = as_json(live.upload(data))
    again = live.upload(data)
    assert again.status_code == 200
    assert as_json(again)["submission_id"] == first["submission_id"] and as_json(again)["created"] is False


def test_findings_are_paged_filtered_bilingual_and_downloadable(live, tmp_path):
    sid = as_json(live.upload(fresh_zip(tmp_path)))["submission_id"]
    page = as_json(live.get(f"/api/submissions/{sid}/findings?limit=1", "a"))
    assert page["total"] == 2 and len(page["items"]) == 1
    second = as_json(live.get(f"/api/submissions/{sid}/findings?limit=1&offset=1", "a"))
    assert {page["items"][0]["rule_id"], second["items"][0]["rule_id"]} == {"POL-002", "SUB-001"}
    only = as_json(live.get(f"/api/submissions/{sid}/findings?rule_id=SUB-001", "a"))
    assert only["total"] == 1
    item = only["items"][0]
    assert item["severity"] == "warning" and item["file"] == "guarantees" and item["row"] == 28
    assert "补贴" in item["message_zh"] and "subsidy" in item["message_en"]
    assert item["rule"]["citation"] == "巴南府发〔2017〕30号 (七)" and item["rule"]["title_en"]
    assert as_json(live.get(f"/api/submissions/{sid}/findings?severity=error", "a"))["total"] == 0
    assert live.get(f"/api/submissions/{sid}/findings?rule_id=nonsense", "a").status_code == 422

    csv_response = live.get(f"/api/submissions/{sid}/findings.csv", "a")
    assert csv_response.status_code == 200 and csv_response.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    assert sorted(r["rule_id"] for r in rows) == ["POL-002", "SUB-001"]
    assert all(r["citation"] and r["message_zh"] and r["message_en"] for r in rows)
    filtered = live.get(f"/api/submissions/{sid}/findings.json?rule_id=POL-002", "a")
    assert [f["rule_id"] for f in json.loads(filtered.content)] == ["POL-002"]


def test_warnings_confirmed_one_by_one_and_by_rule_then_accepted(live, tmp_path):
    sid = as_json(live.upload(fresh_zip(tmp_path)))["submission_id"]
    sub001 = as_json(live.get(f"/api/submissions/{sid}/findings?rule_id=SUB-001", "a"))["items"][0]["id"]
    too_short = live.post(f"/api/submissions/{sid}/confirmations", "a", json={"finding_ids": [sub001], "justification": "ok"})
    assert too_short.status_code == 422

    one = live.post(f"/api/submissions/{sid}/confirmations", "a",
                    json={"finding_ids": [sub001], "justification": "该笔为政策性续贷，补贴申报已撤回 withdrawn"})
    assert one.status_code == 200, one.text
    assert as_json(one)["state"] == "needs_confirmation" and as_json(one)["warnings"]["outstanding"] == 1
    findings = as_json(live.get(f"/api/submissions/{sid}/findings", "a"))["items"]
    assert {f["rule_id"]: f["confirmed"] for f in findings} == {"SUB-001": True, "POL-002": False}

    by_rule = live.post(f"/api/submissions/{sid}/confirmations", "a",
                        json={"rule_ids": ["POL-002"], "justification": "费率含评审费，已按监管口径说明 explained"})
    assert as_json(by_rule)["state"] == "accepted" and as_json(by_rule)["warnings"]["outstanding"] == 0
    detail = as_json(live.get(f"/api/submissions/{sid}", "a"))
    assert detail["state"] == "accepted" and detail["accepted_at"] and detail["filing_of_record"] is True

    confirmations = as_json(live.get(f"/api/submissions/{sid}/confirmations", "regulator"))["items"]
    assert [(c["rule_id"], c["scope"]) for c in confirmations] == [("SUB-001", "finding"), ("POL-002", "rule")]
    assert confirmations[0]["justification"].startswith("该笔为政策性续贷")
    assert confirmations[0]["confirmed_by"] == live.token_ids["a"] and confirmations[0]["confirmed_by_label"] == "test a"
    again = live.post(f"/api/submissions/{sid}/confirmations", "a",
                      json={"rule_ids": ["POL-002"], "justification": "once more, after acceptance"})
    assert again.status_code == 409


def test_a_resubmission_replaces_the_accepted_filing_only_once_accepted(live, tmp_path):
    first = as_json(live.upload(fresh_zip(tmp_path)))
    live.post(f"/api/submissions/{first['submission_id']}/confirmations", "a",
              json={"rule_ids": ["POL-002", "SUB-001"], "justification": "confirmed for the first filing"})
    second = as_json(live.upload(fresh_zip(tmp_path)))
    assert second["sequence"] == first["sequence"] + 1 and second["state"] == "needs_confirmation"
    detail = as_json(live.get(f"/api/submissions/{second['submission_id']}", "a"))
    assert detail["filing_of_record"] is False and detail["filing_of_record_id"] == first["submission_id"]
    live.post(f"/api/submissions/{second['submission_id']}/confirmations", "a",
              json={"rule_ids": ["POL-002", "SUB-001"], "justification": "confirmed for the resubmission"})
    assert as_json(live.get(f"/api/submissions/{second['submission_id']}", "a"))["filing_of_record"] is True
    old = as_json(live.get(f"/api/submissions/{first['submission_id']}", "a"))
    assert old["state"] == "accepted" and old["filing_of_record"] is False


def test_a_rejected_filing_has_errors_and_cannot_be_confirmed(live, tmp_path):
    pkg = fresh_package(tmp_path).set("guarantees", 3, "party_id", "91500113342F88691A")  # bad check character
    receipt = as_json(live.upload(zip_folder(pkg.root)))
    assert receipt["state"] == "rejected"
    errors = as_json(live.get(f"/api/submissions/{receipt['submission_id']}/findings?severity=error", "a"))
    assert errors["total"] >= 1 and errors["items"][0]["rule_id"] == "SCH-003"
    refused = live.post(f"/api/submissions/{receipt['submission_id']}/confirmations", "a",
                        json={"rule_ids": ["SCH-003"], "justification": "errors cannot be confirmed"})
    assert refused.status_code == 409


def test_loose_files_and_manifest_as_a_form(live, tmp_path):
    pkg = fresh_package(tmp_path)
    files = [("package", (p.name, p.read_bytes(), "application/octet-stream")) for p in sorted(pkg.root.iterdir())]
    response = live.post("/api/submissions", "a", files=files)
    assert response.status_code == 201, response.text
    receipt = as_json(response)
    from connectors.intake.receive import folder_sha256

    assert receipt["sha256"] == folder_sha256(pkg.root) and receipt["state"] == "needs_confirmation"


def test_lists_and_who_am_i(live, tmp_path):
    sid = as_json(live.upload(fresh_zip(tmp_path)))["submission_id"]
    mine = as_json(live.get(f"/api/submissions?period={PERIOD}", "a"))
    assert sid in [i["submission_id"] for i in mine["items"]] and {i["institution_id"] for i in mine["items"]} == {GOV_ID}
    assert as_json(live.get("/api/submissions?state=needs_confirmation&limit=1", "regulator"))["limit"] == 1
    assert as_json(live.get("/api/me", "a"))["institution_id"] == GOV_ID
    assert as_json(live.get("/api/me", "regulator"))["role"] == "regulator"


def test_admins_manage_tokens_and_the_registry(live):
    made = live.post("/api/admin/tokens", "admin", json={"role": "guarantor", "institution_id": GOV_ID,
                                                         "label": "新会计", "expires_in_days": 1})
    assert made.status_code == 201, made.text
    token = as_json(made)
    assert token["secret"].startswith("dbt_") and token["status"] == "active" and token["expires_at"]
    me = requests.get(live.url + "/api/me", headers={"Authorization": f"Bearer {token['secret']}"}, timeout=30)
    assert as_json(me)["institution_id"] == GOV_ID
    listed = as_json(live.get("/api/admin/tokens", "admin"))["items"]
    assert token["id"] in [t["id"] for t in listed] and "secret" not in json.dumps(listed)
    assert live.post("/api/admin/tokens", "admin", json={"role": "regulator", "institution_id": GOV_ID}).status_code == 422
    assert live.post("/api/admin/tokens", "regulator", json={"role": "admin"}).status_code == 403
    assert live.post(f"/api/admin/tokens/{token['id']}/revoke", "admin").status_code == 200
    assert requests.get(live.url + "/api/me", headers={"Authorization": f"Bearer {token['secret']}"},
                        timeout=30).status_code == 401
    from tests.packages import REGISTRY_CSV

    loaded = live.post("/api/admin/registry", "admin", data=REGISTRY_CSV.read_bytes(),
                       headers={"Content-Type": "text/csv"})
    assert loaded.status_code == 405  # PUT, not POST
    put = requests.put(live.url + "/api/admin/registry", data=REGISTRY_CSV.read_bytes(),
                   headers={**live.headers("admin"), "Content-Type": "text/csv"}, timeout=30)
    assert as_json(put) == {"inserted": 0, "updated": 0, "unchanged": 3}
    bad = requests.put(live.url + "/api/admin/registry", data=b"institution_id,name\nX,Y\n",
                   headers={**live.headers("admin"), "Content-Type": "text/csv"}, timeout=30)
    assert bad.status_code == 422 and as_json(bad)["error"] == "invalid_registry"
    registry = as_json(live.get("/api/registry", "regulator"))["items"]
    assert GOV_ID in [i["institution_id"] for i in registry]
