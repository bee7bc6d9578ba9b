"""`danbao suites run`: the GX suites through checkpoints on typed data, and Data Docs that open offline.

The invalid sample's Data Docs are opened in headless Chromium with every request that is not a local
file aborted: the page renders with its (vendored) Bootstrap and shows the sample's three errors.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipelines.cli import main
from tests.packages import SAMPLES

pytestmark = pytest.mark.gx

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def invalid_docs(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict, Path]:
    docs = tmp_path_factory.mktemp("datadocs")
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["suites", "run", str(SAMPLES / "invalid-2026-10"), "--docs", str(docs), "--json"])
    return code, json.loads(out.getvalue()), docs


def test_the_invalid_sample_fails_exactly_its_three_errors(invalid_docs):
    code, doc, _ = invalid_docs
    assert code == 1 and doc["success"] is False
    failed = {(f["file"], x["rule_id"], x["column"], tuple(x["unexpected"])) for f in doc["files"] for x in f["failed"]}
    assert failed == {
        ("guarantees", "SCH-002", "business_type", ("leasing",)),
        ("guarantees", "SCH-003", "party_id", ("91500113HGL236FR10",)),  # the custom check-character expectation
        ("guarantees", "SCH-005", "fee_rate", ("-0.010000000000000000",)),  # typed: a decimal, not text
    }
    assert {f["file"]: f["evaluated"] for f in doc["files"]} == {"guarantees": 50, "financials": 23, "compensations": 8}


def test_the_valid_sample_passes(tmp_path, capsys):
    assert main(["suites", "run", str(SAMPLES / "valid-2026-10"), "--no-docs"]) == 0
    assert "通过 passed" in capsys.readouterr().out


def test_a_mistyped_package_is_a_usage_error(tmp_path, capsys):
    assert main(["suites", "run", str(tmp_path / "nope")]) == 2
    assert "no package at" in capsys.readouterr().err


def test_data_docs_reference_no_other_host(invalid_docs):
    from validations.gx.datadocs import external_references

    _, doc, docs = invalid_docs
    assert Path(doc["data_docs"]).is_file()
    assert external_references(docs) == []
    assert (docs / "static" / "offline" / "bootstrap.min.css").is_file()


@pytest.mark.skipif(not CHROMIUM.exists() and os.environ.get("CI", "").lower() != "true", reason="no chromium")
def test_data_docs_open_offline_and_show_the_three_errors(invalid_docs):
    from playwright.sync_api import sync_playwright

    _, doc, docs = invalid_docs
    page_path = Path(doc["validation_pages"]["guarantees"])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    refused: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--headless"])
        context = browser.new_context(viewport={"width": 1360, "height": 900}, offline=True)

        def only_files(route):
            if route.request.url.startswith("file://"):
                route.continue_()
            else:
                refused.append(route.request.url)
                route.abort()

        context.route("**/*", only_files)
        page = context.new_page()
        failed_loads: list[str] = []
        page.on("requestfailed", lambda r: failed_loads.append(r.url))
        page.goto(page_path.as_uri())
        page.wait_for_load_state("load")
        text = page.inner_text("body")
        for expected in ("91500113HGL236FR10", "leasing", "business_type", "fee_rate", "party_id",
                         "check character"):
            assert expected in text, expected
        # Bootstrap is applied (served from the folder): a .container has its max-width
        assert page.evaluate("getComputedStyle(document.querySelector('.container-fluid, .container, body')).boxSizing") \
            == "border-box"
        page.screenshot(path=str(SCREENSHOTS / "gx-datadocs-invalid-offline.png"), full_page=True)
        index = context.new_page()
        index.goto((docs / "index.html").as_uri())
        assert "danbao.guarantees.v1_0" in (index.text_content("body") or "")
        browser.close()
    assert refused == [] and failed_loads == []
