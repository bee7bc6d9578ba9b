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
