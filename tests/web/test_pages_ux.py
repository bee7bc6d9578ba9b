"""The portal's pages as a person reads them, in headless Chromium (screenshots in tests/screenshots/):
the filing page refreshes itself while validation runs (no "No findings" meanwhile), then shows the
grade, its measures and the indicators formatted (percentages, yuan), Beijing time, a per-rule summary
above a long list of identical findings; error pages in Chinese and English."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.conftest import SCREENSHOTS, fresh_package, start_live, zip_folder

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists() and os.environ.get("CI", "").lower() != "true":
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--headless"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def deferred(request, tmp_path_factory, published):
    """A portal that leaves validation to the pipeline (no inline validation): uploads stay `received`."""
    yield from start_live(request, tmp_path_factory.mktemp("portal-deferred"), published, "sqlite",
                          inline_validation=False)


def login(browser: Browser, live, who: str = "a") -> Page:
    page = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN").new_page()
    page.goto(live.url + "/login")
    page.fill("#token", live.tokens[who])
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state()
    return page


def upload(page: Page, path: Path) -> None:
    page.set_input_files("#package", str(path))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/submissions/*")


def test_the_page_refreshes_itself_until_validation_ends(browser, deferred, tmp_path):
    from connectors.archive import FilingArchive
    from filings.validation import validate_submission

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    package = tmp_path / "filing.zip"
    package.write_bytes(zip_folder(fresh_package(tmp_path).root))
    page = login(browser, deferred)
    upload(page, package)
    assert page.get_attribute("#state", "data-state") == "received"
    assert page.locator("meta[http-equiv=refresh]").count() == 1
    assert "自动刷新" in page.inner_text("#validating") and "refreshes itself" in page.inner_text("#validating")
    assert "No findings" not in page.inner_text("#findings") and page.locator("#no-findings-yet").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "portal-validating.png"), full_page=True)

    submission_id = int(page.url.rsplit("/", 1)[1])
    portal = deferred.app.state.portal
    worker = threading.Thread(target=lambda: validate_submission(
        portal.session, portal.blobs, FilingArchive(portal.settings.tables_url), submission_id))
    worker.start()
    worker.join(60)
    # nobody reloads: the page does, within its refresh interval
    page.wait_for_selector("#state[data-state=needs_confirmation]", timeout=15_000)
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    assert page.locator("tr.finding").count() == 2
    page.screenshot(path=str(SCREENSHOTS / "portal-validated-after-refresh.png"), full_page=True)


def test_the_filing_page_shows_grade_indicators_and_beijing_time(browser, live_sqlite, tmp_path):
    package = tmp_path / "filing.zip"
    package.write_bytes(zip_folder(fresh_package(tmp_path).root))
    page = login(browser, live_sqlite)
    upload(page, package)
    assert page.get_attribute("#grade", "data-grade") == "B"
    assert page.inner_text(".measures").strip()
    rows = {page.locator("#indicators tr").nth(i).get_attribute("data-key"):
            page.locator("#indicators tr").nth(i).locator("td.num").inner_text()
            for i in range(1, page.locator("#indicators tr").count())}
    assert rows["small_micro_agri_weighted_fee_rate"] == "1.41%"  # not 0.0141094247
    assert rows["financing_exposure"] == "¥21,790,200.00"
    assert rows["leverage_ratio"] == "0.06×"
    assert rows["small_micro_agri_household_share"] == "84.62%"
    received = page.inner_text("#receipt")
    assert "北京时间" in received and "UTC" not in received
    assert page.locator("#rule-summary tr[data-rule]").count() == 2
    assert page.inner_text("tr.finding[data-rule='POL-002'] td.value") == "1.41%"  # the ratio, not 0.0141094247
    page.screenshot(path=str(SCREENSHOTS / "portal-filing-grade-indicators.png"), full_page=True)
    listing = page.goto(live_sqlite.url + "/submissions")
    assert listing and "北京时间" in page.inner_text("#submissions") and "UTC" not in page.inner_text("#submissions")


def test_five_hundred_identical_findings_get_a_per_rule_summary(browser, live_sqlite, tmp_path):
    pkg = fresh_package(tmp_path)
    header, rows = pkg.rows("guarantees")
    template = rows[0]
    many = []
    for i in range(500):
        row = list(template)
        row[header.index("guarantee_id")] = f"BN9{i:08d}"
        row[header.index("business_type")] = "leasing"
        many.append(row)
    pkg.write_rows("guarantees", header, many)
    package = tmp_path / "many.zip"
    package.write_bytes(zip_folder(pkg.root))
    page = login(browser, live_sqlite)
    upload(page, package)
    assert page.get_attribute("#state", "data-state") == "rejected"
    summary = page.locator("#rule-summary tr[data-rule='SCH-002']")
    assert summary.count() == 1
    assert re.sub(r"\s+", " ", summary.inner_text()).count("500") == 1
    assert "代码不在代码表中" in summary.inner_text() and "a code is not in its code list" in summary.inner_text()
    # the summary comes before the first finding
    assert page.locator("#rule-summary").bounding_box()["y"] < page.locator("tr.finding").first.bounding_box()["y"]
    page.screenshot(path=str(SCREENSHOTS / "portal-rule-summary.png"))


def test_error_pages_speak_chinese_and_english(browser, live_sqlite):
    page = login(browser, live_sqlite)
    response = page.goto(live_sqlite.url + "/submissions/999999")
    assert response.status == 404
    text = page.inner_text("#error")
    assert "未找到" in text and "Not found" in text
    page.screenshot(path=str(SCREENSHOTS / "portal-error-404.png"))
    page = login(browser, live_sqlite, "regulator")
    response = page.goto(live_sqlite.url + "/submissions/1/confirm")  # GET on a form target
    assert response.status == 405 and "不支持" in page.inner_text("#error")

    anonymous = browser.new_context(locale="zh-CN").new_page()
    anonymous.goto(live_sqlite.url + "/login")
    anonymous.fill("#token", "dbt_not-a-token")
    anonymous.click("#login-form button[type=submit]")
    anonymous.wait_for_load_state()
    text = anonymous.inner_text("main")
    assert "令牌不存在" in text and "unknown token" in text
    anonymous.screenshot(path=str(SCREENSHOTS / "portal-login-unknown-token.png"))
    time.sleep(0)


def test_swagger_ui_renders_with_nothing_fetched_elsewhere(browser, live_sqlite):
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    elsewhere: list[str] = []
    context.route("**/*", lambda route: (elsewhere.append(route.request.url), route.abort())
                  if not route.request.url.startswith(live_sqlite.url) else route.continue_())
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_sqlite.url + "/docs")
    page.wait_for_selector(".opblock-tag", timeout=20_000)
    text = page.inner_text("#swagger-ui")
    assert "Danbao portal" in text and "/api/submissions/{submission_id}" in text
    page.click("#operations-submissions-get_submission_api_submissions__submission_id__get")
    page.wait_for_selector(".responses-wrapper")
    responses = page.inner_text(".responses-wrapper")
    for status in ("200", "401", "404", "422"):
        assert status in responses, status
    page.screenshot(path=str(SCREENSHOTS / "portal-swagger-offline.png"), full_page=False)
    context.close()
    assert elsewhere == [] and not [e for e in errors if "Content Security Policy" in e]


def test_a_filing_page_links_its_gx_data_docs(browser, live_sqlite, tmp_path, monkeypatch):
    """`danbao suites run --submission ID` builds the Data Docs where the portal serves them; the filing
    page links them, to whoever may read the submission (another guarantor: 404)."""
    from pipelines.cli import main
    from tests.packages import SAMPLES

    receipt = live_sqlite.upload(zip_folder(SAMPLES / "invalid-2026-10"), who="a").json()
    sid = receipt["submission_id"]
    portal = live_sqlite.app.state.portal
    monkeypatch.setenv("DANBAO_DATABASE_URL", portal.settings.database_url)
    monkeypatch.setenv("DANBAO_BLOB_ROOT", str(portal.settings.blob_root))
    monkeypatch.setenv("DANBAO_DATADOCS_DIR", str(portal.settings.datadocs_dir))
    assert main(["suites", "run", "--submission", str(sid)]) == 1  # its three errors
    page = login(browser, live_sqlite)
    page.goto(f"{live_sqlite.url}/submissions/{sid}")
    assert page.locator(".datadocs-link").count() == 4  # the index and one report per file
    page.click(".datadocs-link[data-file='index']")
    page.wait_for_load_state()
    assert "Data Docs" in (page.text_content("body") or "")
    page.go_back()
    page.click(".datadocs-link[data-file='guarantees']")
    page.wait_for_load_state()
    text = page.inner_text("body")
    assert "91500113HGL236FR10" in text and "leasing" in text
    page.screenshot(path=str(SCREENSHOTS / "portal-datadocs-link.png"))
    other = live_sqlite.get(f"/submissions/{sid}/datadocs/index.html", "b")
    assert other.status_code == 404
    assert live_sqlite.get(f"/submissions/{sid}/datadocs/../../../etc/passwd", "a").status_code == 404
