"""The portal in headless Chromium (Debian's ``chromium``, driven by Playwright; never a downloaded browser):
a guarantor uploads through the page, reads its findings, confirms the warnings and sees the filing
accepted; a regulator's dashboard renders its charts with data; a second guarantor is refused
everywhere. Screenshots go to tests/screenshots/ for a person to look at.

Skipped only where /usr/bin/chromium is missing and CI is not true; under CI it must run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.conftest import SCREENSHOTS, fresh_package, zip_folder

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

if not CHROMIUM.exists() and os.environ.get("CI", "").lower() != "true":
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page_for(browser: Browser, live_sqlite):
    contexts, dialogs = [], []

    def login(who: str) -> Page:
        context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(live_sqlite.url + "/login")
        page.fill("#token", live_sqlite.tokens[who])
        page.click("#login-form button[type=submit]")
        page.wait_for_load_state()
        return page

    yield login
    for context in contexts:
        context.close()
    assert dialogs == [], "a script ran in a page"


def test_a_guarantor_uploads_reads_findings_confirms_and_is_accepted(page_for, live_sqlite, tmp_path):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    package = tmp_path / "filing-2026-10.zip"
    package.write_bytes(zip_folder(fresh_package(tmp_path).root))
    page = page_for("a")
    assert page.url.endswith("/submissions")
    page.set_input_files("#package", str(package))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/submissions/*")
    assert page.get_attribute("#state", "data-state") == "needs_confirmation"
    rows = page.locator("tr.finding")
    assert rows.count() == 2
    text = page.inner_text("#findings")
    for expected in ("POL-002", "SUB-001", "申报补贴项目但不符合条件", "subsidy claimed for an ineligible row",
                     "巴南府发〔2017〕30号 (七)", "国办发〔2019〕6号"):
        assert expected in text, expected
    page.screenshot(path=str(SCREENSHOTS / "portal-upload-findings.png"), full_page=True)

    # one warning on its own, ticked in the table
    page.check("tr.finding[data-rule='SUB-001'] input[name=finding_id]")
    page.fill("#justification", "该笔补贴申报系录入错误，已于下月更正 entered in error")
    page.click("#confirm-form button[type=submit]")
    page.wait_for_load_state()
    assert page.get_attribute("#state", "data-state") == "needs_confirmation"
    assert page.inner_text("#outstanding") == "1"
    # the rest by rule
    page.check("#confirm-form input[name=rule_id][value='POL-002']")
    page.fill("#justification", "政策性业务费率含评审费，已向监管说明 fee includes appraisal")
    page.click("#confirm-form button[type=submit]")
    page.wait_for_load_state()
    assert page.get_attribute("#state", "data-state") == "accepted"
    assert "本报送 this submission" in page.inner_text("#record")
    confirmations = page.inner_text("#confirmations")
    assert "已于下月更正" in confirmations and "已向监管说明" in confirmations
    assert page.locator("#confirm").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "portal-accepted.png"), full_page=True)


def test_the_regulator_dashboard_renders_charts_with_data(page_for):
    page = page_for("regulator")
    assert page.url.endswith("/dashboard")
    for chart in ("leverage", "grades", "household_share", "subsidies", "late"):
        svg = page.locator(f"svg[data-chart='{chart}']")
        assert svg.count() == 1, chart
        box = svg.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 80, (chart, box)
        marks = svg.locator("[aria-roledescription='bar'], [aria-roledescription='point']")
        assert marks.count() > 0, chart
    bars = page.locator("svg[data-chart='leverage'] [aria-roledescription='bar']")
    assert all(bars.nth(i).bounding_box()["width"] > 0 for i in range(bars.count()))
    assert page.locator("svg[data-chart='household_share'] [aria-roledescription='target']").count() == 1
    assert page.locator("#datasets a", has_text="Parquet").count() >= 4
    page.screenshot(path=str(SCREENSHOTS / "portal-dashboard.png"), full_page=True)


def test_a_second_guarantor_is_refused_everywhere(page_for, live_sqlite, tmp_path):
    from tests.web.conftest import as_json, fresh_zip

    sid = as_json(live_sqlite.upload(fresh_zip(tmp_path), who="a"))["submission_id"]
    page = page_for("b")
    assert page.locator("#submissions").count() == 0  # B has filed nothing; A's filings are not listed
    for path, status in ((f"/submissions/{sid}", 404), ("/dashboard", 403),
                         (f"/api/submissions/{sid}/findings.json", 404), (f"/api/submissions/{sid}", 404)):
        response = page.goto(live_sqlite.url + path)
        assert response is not None and response.status == status, (path, response and response.status)
        assert "91500113095M34E68F" not in page.content()
    page.goto(live_sqlite.url + "/submissions")
    package = tmp_path / "a-package.zip"
    package.write_bytes(fresh_zip(tmp_path))
    before = live_sqlite.counts()
    page.set_input_files("#package", str(package))
    page.click("#upload-form button[type=submit]")
    page.wait_for_load_state()
    assert "another guarantor" in page.inner_text(".error")
    assert live_sqlite.counts() == before


def test_the_bulletin_renders_for_a_regulator(page_for):
    page = page_for("regulator")
    page.click("nav a[href='/bulletin']")
    page.wait_for_load_state()
    assert page.url.endswith("/bulletin")
    page.select_option("select[name=period]", "2026-09")  # the period with a late filer
    page.click(".filters button[type=submit]")
    page.wait_for_load_state()
    assert "2026-09" in page.inner_text("h1")
    rows = page.locator("#grades tr.grade-row")
    assert rows.count() == 3 and page.locator("#grades tr.grade-row[data-grade='D']").count() == 1
    assert "逾期未报 late" in page.inner_text("#grades")
    for section in ("#warnings", "#discipline", "#rollup", "#run-off"):
        box = page.locator(section).bounding_box()
        assert box and box["height"] > 40, section
    assert page.locator("#bulletin-html").get_attribute("href") == "/bulletin/download?period=2026-09&format=html"
    page.screenshot(path=str(SCREENSHOTS / "portal-bulletin.png"), full_page=True)


def test_a_bank_lands_on_its_lending(page_for):
    from tests.web.conftest import BANK_LENDER

    page = page_for("bank")
    assert page.url.endswith("/bank")
    assert BANK_LENDER in page.inner_text("h1")
    assert page.locator("nav a[href='/submissions']").count() == 0 and page.locator("nav a[href='/dashboard']").count() == 0
    assert page.locator("#exposures tbody tr").count() >= 1 and page.locator("#ratings tbody tr").count() >= 4
    page.screenshot(path=str(SCREENSHOTS / "portal-bank.png"), full_page=True)
