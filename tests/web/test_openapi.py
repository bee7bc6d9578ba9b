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
    assert live_sqlite.get("/docs").status_code == 404  # no UI that would load scripts from a CDN
