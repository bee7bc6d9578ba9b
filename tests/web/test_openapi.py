"""The OpenAPI description is served by the app, complete, and consistent with itself."""

from __future__ import annotations

import json

from fastapi.routing import APIRoute

from tests.web.conftest import as_json
from web.app import ROUTERS


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        return [*([node["$ref"]] if isinstance(node.get("$ref"), str) else []), *(r for v in node.values() for r in _refs(v))]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_openapi_is_served_and_describes_every_api_route(live_sqlite):
    response = live_sqlite.get("/openapi.json")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    spec = as_json(response)
    assert spec["openapi"].startswith("3.") and spec["info"]["title"] == "Danbao portal"
    api_routes = {(m.lower(), r.path) for router in ROUTERS for r in router.routes
                  if isinstance(r, APIRoute) and r.include_in_schema for m in r.methods}
    described = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    assert described == api_routes
    assert all(p.startswith("/api/") for p in spec["paths"])  # the HTML pages are not part of the API
    schemes = spec["components"]["securitySchemes"]
    assert any(s["type"] == "http" and s["scheme"] == "bearer" for s in schemes.values())
    upload = spec["paths"]["/api/submissions"]["post"]
    assert {"application/zip", "multipart/form-data"} <= set(upload["requestBody"]["content"])
    assert {"201", "200", "403", "413", "415", "422"} <= set(upload["responses"])
    assert upload["security"]  # authenticated
    assert set(spec["paths"]["/api/datasets/{name}"]["get"]["responses"]["200"]["content"]) >= {
        "application/vnd.apache.parquet", "text/csv; charset=utf-8", "application/json"}
    for ref in _refs(spec):
        node = spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        assert node, ref
    json.dumps(spec)  # serialisable as served


def test_every_operation_has_a_typed_answer_and_documents_its_refusals(live_sqlite):
    spec = as_json(live_sqlite.get("/openapi.json"))
    schemas = spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            ok = op["responses"].get("200") or op["responses"].get("201")
            content = ok.get("content", {}) if ok else {}
            download = "application/vnd.apache.parquet" in content  # a file in the format asked for
            if "application/json" in content and not download and not path.endswith((".json", "/{name}")):
                schema = content["application/json"]["schema"]
                assert "$ref" in schema, (method, path, schema)  # a named model, not an untyped object
            if path != "/api/health":
                assert {"401", "422"} <= set(op["responses"]), (method, path)
            for status in ("401", "403", "404", "422"):
                if status in op["responses"]:
                    ref = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorBody"), (method, path, status)
    detail = spec["paths"]["/api/submissions/{submission_id}"]["get"]["responses"]
    assert {"200", "401", "404", "422"} <= set(detail)
    assert set(schemas["SubmissionDetail"]["properties"]) >= {"state", "findings_by_rule", "warnings", "finding_counts"}
    assert "403" in spec["paths"]["/api/admin/tokens"]["get"]["responses"]
    assert "403" in spec["paths"]["/api/submissions/{submission_id}/confirmations"]["post"]["responses"]


def test_swagger_ui_is_served_from_the_portal_itself(live_sqlite):
    page = live_sqlite.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN
    for asset in ("/static/swagger/swagger-ui-bundle.js", "/static/swagger/swagger-ui.css", "/static/swagger-init.js"):
        assert live_sqlite.get(asset).status_code == 200, asset
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp and "http" not in csp
    assert "script-src" not in live_sqlite.get("/login").headers["content-security-policy"]  # other pages: none
