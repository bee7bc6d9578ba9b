"""The dashboard's charts (altair → Vega-Lite → SVG by vl-convert, on the server): one period and many,
full names, bars of a fixed width, no script in the SVG."""

from __future__ import annotations

import re

from web import charts

LONG = "重庆市巴南区兴农政策性融资担保有限责任公司"


def _size(svg: str) -> tuple[float, float]:
    width, height = re.search(r'<svg[^>]*\bwidth="([\d.]+)"[^>]*\bheight="([\d.]+)"', svg).groups()
    return float(width), float(height)


def test_one_period_of_late_filers_is_one_narrow_bar():
    svg = str(charts.columns("late", "Late filers", [("2026-10", 1.0)], unit="机构数 guarantors", integer=True))
    assert charts.marks(svg).count(("bar", "2026-10: 1")) == 1
    width, height = _size(svg)
    assert width < 200 and height < 260  # not one 1,000-pixel bar with a giant label
    axis_labels = "".join(re.findall(r'role-axis-label"(.*?)</g>', svg, re.S))
    ticks = re.findall(r'<text[^>]*>(\d+)</text>', axis_labels)
    assert ticks and len(ticks) == len(set(ticks))  # whole numbers once each, never "0, 1, 1"


def test_many_periods_get_a_bar_each_of_the_same_width():
    one = _size(str(charts.columns("late", "t", [("2026-10", 1.0)], integer=True)))[0]
    twelve = _size(str(charts.columns("late", "t", [(f"2026-{m:02d}", float(m % 3)) for m in range(1, 13)],
                                      integer=True)))[0]
    assert 8 < twelve / one < 14  # widths grow with the bars, they do not stretch


def test_household_share_over_one_period_is_bars_against_the_target():
    svg = str(charts.share("household_share", "t", ["2026-10"], [(LONG, {"2026-10": 0.846}), ("B", {"2026-10": 0.5})],
                           0.75))
    roles = [role for role, _ in charts.marks(svg)]
    assert roles.count("bar") == 2 and "line mark" not in roles and roles.count("target") == 1
    assert f"{LONG} 2026-10: 84.6%" in [label for _, label in charts.marks(svg)]


def test_household_share_over_periods_is_lines_with_points():
    svg = str(charts.share("household_share", "t", ["2026-09", "2026-10"],
                           [("A", {"2026-09": 0.7, "2026-10": 0.8}), ("B", {"2026-10": 0.5})], 0.75))
    roles = [role for role, _ in charts.marks(svg)]
    assert roles.count("point") == 3 and "line mark" in roles and roles.count("target") == 1


def test_names_are_never_cut_and_the_svg_runs_no_script():
    svg = str(charts.leverage("leverage", "t", [(LONG, "91500113095M34E68F", 0.0575, 10.0), ("B", "x", 12.0, 10.0)]))
    assert f">{LONG}</text>" in svg and "…" not in svg
    assert "<script" not in svg and "javascript:" not in svg and "<foreignObject" not in svg
    assert ("bar", "B (x): 12.00× / 10×") in charts.marks(svg)
    assert 'fill="#c0392b"' in svg  # over the cap: red


def test_labels_are_escaped():
    svg = str(charts.columns("x", "<b>t</b>", [("<script>alert(1)</script>", 1.0)]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_one_period_and_many_in_the_browser(tmp_path):
    """A screenshot of the charts for one period and for three (tests/screenshots/charts-one-and-many-periods.png)."""
    import os
    from pathlib import Path

    import pytest

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists() and os.environ.get("CI", "").lower() != "true":
        pytest.skip("no chromium")
    from playwright.sync_api import sync_playwright

    from tests.web.conftest import SCREENSHOTS

    names = [LONG, "重庆市渝南融资担保有限公司", "重庆某小微融资担保有限公司"]
    one = [charts.columns("late", "Late filers", [("2026-10", 1.0)], unit="机构数 guarantors", integer=True),
           charts.share("household_share", "Share", ["2026-10"], [(n, {"2026-10": v}) for n, v in
                                                                  zip(names, (0.846, 0.62, 0.91), strict=True)], 0.75)]
    many = [charts.columns("late", "Late filers", [("2026-08", 0.0), ("2026-09", 1.0), ("2026-10", 2.0)],
                           unit="机构数 guarantors", integer=True),
            charts.share("household_share", "Share", ["2026-08", "2026-09", "2026-10"],
                         [(n, {"2026-08": v - 0.1, "2026-09": v - 0.05, "2026-10": v}) for n, v in
                          zip(names, (0.846, 0.62, 0.91), strict=True)], 0.75)]
    html = ("<html><body style='font-family: sans-serif'><h3>一个期间 one period</h3>" + "".join(map(str, one))
            + "<h3>三个期间 three periods</h3>" + "".join(map(str, many)) + "</body></html>")
    page_file = tmp_path / "charts.html"
    page_file.write_text(html, encoding="utf-8")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=["--no-sandbox", "--headless"])
        page = browser.new_page(viewport={"width": 1100, "height": 800})
        page.goto(page_file.as_uri())
        late = page.locator("svg[data-chart='late']").first.bounding_box()
        assert late["width"] < 200  # one period: one narrow bar, not a page-wide one
        labels = page.locator("svg[data-chart='household_share'] text", has_text=LONG)
        box = labels.first.bounding_box()
        assert box["x"] >= 0  # the long name is drawn whole, inside the chart
        page.screenshot(path=str(SCREENSHOTS / "charts-one-and-many-periods.png"), full_page=True)
        browser.close()
