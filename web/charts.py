"""The dashboard's charts: Vega-Lite specifications built with altair and rendered to SVG on the server
by vl-convert (Vega's own renderer, embedded: no JavaScript in the page, nothing fetched). The SVG is
inlined into the page, so the Content-Security-Policy stays ``default-src 'none'``.

Every mark carries an ``aria-label`` (Vega writes the ``description`` channel there) such as
``A: 3`` or ``重庆某担保 (9150…): 1.41%``, which screen readers read and tests count; the root ``<svg>``
gets ``data-chart`` and the chart's title. Labels are never cut (``labelLimit: 0``) and widths are per
band (a single period is one 48-pixel bar, not one bar across the page)."""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

PALETTE = ["#2f6fb0", "#d9822b", "#3a9a5b", "#b8455a", "#7b5ea7", "#8c6d46", "#c05fa6", "#6b7a8f", "#a5a53a", "#2aa3a3"]
OVER = "#c0392b"
INK = "#2b2f36"
MUTED = "#6b7280"
# Vega measures labels with this font when it renders on the server, the browser draws them with it:
# the same CJK font on both sides keeps long Chinese names from being clipped.
FONT = "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Microsoft YaHei', 'PingFang SC', sans-serif"
CONFIG = {
    "font": FONT,
    "view": {"stroke": None},
    "axis": {"labelLimit": 0, "labelFontSize": 12, "titleFontSize": 12, "titleColor": MUTED, "labelColor": INK,
             "gridColor": "#e5e9ee", "domainColor": "#c8cfd8", "tickColor": "#c8cfd8"},
    "legend": {"labelLimit": 0, "labelFontSize": 12, "titleFontSize": 12, "orient": "right"},
    "text": {"fontSize": 12, "color": INK},
}
_LOCK = threading.Lock()  # vl-convert's embedded engine is shared by the process


def render(chart: str, title: str, spec: Any) -> Markup:
    """An altair chart (or a Vega-Lite dict) as inline SVG with ``data-chart`` and an accessible title."""
    as_dict = spec if isinstance(spec, dict) else spec.to_dict()
    as_dict.setdefault("config", {}).update(CONFIG)
    svg = _to_svg(json.dumps(as_dict, sort_keys=True, ensure_ascii=False))
    svg = re.sub(r"<\?xml[^>]*>\s*", "", svg)
    head = (f'<svg data-chart="{escape(chart)}" role="img" aria-label="{escape(title)}" '
            f'style-note="" ').replace(' style-note=""', "")
    svg = svg.replace('<svg xmlns="http://www.w3.org/2000/svg"', head + 'xmlns="http://www.w3.org/2000/svg"', 1)
    svg = svg.replace('class="marks"', 'class="chart marks"', 1)
    svg = svg.replace(">", f"><title>{escape(title)}</title>", 1)
    return Markup(svg)


@functools.lru_cache(maxsize=256)
def _to_svg(spec_json: str) -> str:
    """Vega-Lite → SVG, remembered per specification (the dashboard is asked for the same data often)."""
    import vl_convert as vlc

    with _LOCK:
        return vlc.vegalite_to_svg(json.loads(spec_json))


def empty(chart: str, title: str) -> Markup:
    return Markup(f'<svg data-chart="{escape(chart)}" class="chart empty" xmlns="http://www.w3.org/2000/svg" '
                  f'role="img" aria-label="{escape(title)}" width="420" height="80" viewBox="0 0 420 80">'
                  f"<title>{escape(title)}</title>"
                  f'<text x="210" y="44" text-anchor="middle" fill="{MUTED}" font-size="14" '
                  f'font-family="system-ui, sans-serif">暂无已发布数据 · no published data</text></svg>')


def _alt() -> Any:
    import altair as alt

    return alt


def leverage(chart: str, title: str, rows: Sequence[tuple[str, str, float, float]]) -> Markup:
    """One horizontal bar per guarantor (name, id, ratio, cap), its cap as a red tick; red past the cap."""
    if not rows:
        return empty(chart, title)
    alt = _alt()
    data = [{"name": name, "id": ident, "ratio": ratio, "cap": cap, "over": ratio > cap,
             "label": f"{ratio:,.2f}× / 上限 cap {cap:g}×",
             "desc": f"{name} ({ident}): {ratio:,.2f}× / {cap:g}×"} for name, ident, ratio, cap in rows]
    base = alt.Chart(alt.Data(values=data)).encode(
        y=alt.Y("name:N", sort=None, title=None, axis=alt.Axis(labelLimit=0)))
    bars = base.mark_bar(height={"band": 0.6}).encode(
        x=alt.X("ratio:Q", title="杠杆倍数 leverage (×)", scale=alt.Scale(zero=True)),
        color=alt.condition("datum.over", alt.value(OVER), alt.value(PALETTE[0])),
        description=alt.Description("desc:N"),
    )
    caps = base.mark_tick(color=OVER, thickness=3, size=22, ariaRoleDescription="cap").encode(
        x="cap:Q", description=alt.Description("cap:Q", format=".0f"))
    labels = base.mark_text(align="left", dx=6, color=INK, ariaRoleDescription="label").encode(
        x=alt.X("max_x:Q"), text="label:N", description=alt.Description("label:N"),
    ).transform_calculate(max_x="max(datum.ratio, datum.cap)")
    spec = alt.layer(bars, caps, labels).properties(width=480, height=alt.Step(30))
    return render(chart, title, spec)


def columns(chart: str, title: str, items: Sequence[tuple[str, float]], *, unit: str = "",
            colors: Sequence[str] | None = None, integer: bool = False, money: bool = False) -> Markup:
    """Vertical columns, one per (label, value), 48 pixels each whatever their number, with the value on
    top; a label "中文 english" is written on two lines."""
    if not items:
        return empty(chart, title)
    alt = _alt()
    data = []
    for i, (label, value) in enumerate(items):
        text = f"¥{value:,.2f}" if money else (f"{value:,.0f}" if integer else f"{value:,.2f}")
        data.append({"label": label, "lines": label.split(" ", 1), "value": value, "text": text,
                     "desc": f"{label}: {text}", "color": (colors or PALETTE)[i % len(colors or PALETTE)]})
    peak = max((v for _, v in items), default=0) or 1
    if integer:  # whole numbers only, never 0, 1, 1 (ticks at halves printed as integers)
        step = max(1, int(peak) // 5 + (1 if int(peak) % 5 else 0)) if peak > 5 else 1
        y_axis = alt.Axis(values=list(range(0, int(peak * 1.15) + 2, step)), format="d")
    else:
        y_axis = alt.Axis(format="~s" if money else "~g")
    base = alt.Chart(alt.Data(values=data)).encode(
        x=alt.X("label:N", sort=None, title=None,
                axis=alt.Axis(labelAngle=0, labelExpr="split(datum.label, ' ')", labelLimit=0)))
    bars = base.mark_bar(size=40).encode(
        y=alt.Y("value:Q", title=unit or None, axis=y_axis, scale=alt.Scale(domain=[0, peak * 1.15])),
        color=alt.Color("color:N", scale=None), description=alt.Description("desc:N"))
    text = base.mark_text(dy=-8, ariaRoleDescription="label").encode(y="value:Q", text="text:N",
                                                                    description=alt.Description("desc:N"))
    widest = max(max(_width(part) for part in d["lines"]) for d in data)
    spec = alt.layer(bars, text).properties(width=alt.Step(max(56, min(widest + 16, 150))), height=180)
    return render(chart, title, spec)


def share(chart: str, title: str, periods: Sequence[str], series: Sequence[tuple[str, dict[str, float]]],
          target: float) -> Markup:
    """The household share against its target. Over several periods: a line per guarantor with points;
    for a single period a line has nothing to join, so: one bar per guarantor."""
    if not periods or not series:
        return empty(chart, title)
    alt = _alt()
    target_rule = alt.Chart(alt.Data(values=[{"target": target, "desc": f"目标 target {target:.0%}"}])).mark_rule(
        color=OVER, strokeDash=[6, 4], strokeWidth=2, ariaRoleDescription="target")
    shown = [p for p in periods if any(p in values for _, values in series)]
    if len(shown) <= 1:
        period = shown[0] if shown else periods[-1]
        data = [{"name": name, "share": values[period], "text": f"{values[period]:.1%}",
                 "desc": f"{name} {period}: {values[period]:.1%}"} for name, values in series if period in values]
        bars = alt.Chart(alt.Data(values=data)).mark_bar(height={"band": 0.6}).encode(
            y=alt.Y("name:N", sort=None, title=None, axis=alt.Axis(labelLimit=0)),
            x=alt.X("share:Q", title=f"{period} 户数占比 household share", scale=alt.Scale(domain=[0, 1]),
                    axis=alt.Axis(format="%")),
            color=alt.condition(f"datum.share < {target}", alt.value(OVER), alt.value(PALETTE[2])),
            description=alt.Description("desc:N"))
        text = bars.mark_text(align="left", dx=6, ariaRoleDescription="label").encode(text="text:N")
        rule = target_rule.encode(x="target:Q", description=alt.Description("desc:N"))
        spec = alt.layer(bars, text, rule).properties(width=480, height=alt.Step(30))
        return render(chart, title, spec)
    data = [{"name": name, "period": p, "share": v, "desc": f"{name} {p}: {v:.1%}"}
            for name, values in series for p, v in sorted(values.items())]
    x = alt.X("period:O", title=None, sort=list(periods), axis=alt.Axis(labelAngle=0))
    y = alt.Y("share:Q", title="户数占比 household share", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"))
    color = alt.Color("name:N", title="机构 guarantor", scale=alt.Scale(range=PALETTE),
                      legend=alt.Legend(labelLimit=0))
    lines = alt.Chart(alt.Data(values=data)).mark_line(strokeWidth=2).encode(x=x, y=y, color=color)
    points = alt.Chart(alt.Data(values=data)).mark_point(filled=True, size=60, opacity=1).encode(
        x=x, y=y, color=color, description=alt.Description("desc:N"))
    rule = target_rule.encode(y="target:Q", description=alt.Description("desc:N"))
    spec = alt.layer(lines, points, rule).properties(width=alt.Step(max(60, 480 // max(len(periods), 1))), height=220)
    return render(chart, title, spec)


def _width(text: str) -> int:
    """Pixels a 12 px label needs: a Chinese character about 12, a Latin one about 7."""
    return sum(12 if ord(c) > 0x2E80 else 7 for c in text)


_ELEMENT = re.compile(r"<(?:path|line|text|rect)\b[^>]*>")
_ATTR = re.compile(r'\b(aria-label|aria-roledescription)="([^"]*)"')


def marks(svg: str) -> list[tuple[str, str]]:
    """(role description, aria-label) of every mark of an SVG this module drew, as tests and screen
    readers find them: ``("bar", "A: 3")``, ``("target", "目标 target 75%")``."""
    out = []
    for element in _ELEMENT.findall(svg):
        attrs = dict(_ATTR.findall(element))
        if "aria-roledescription" in attrs and "aria-label" in attrs:
            out.append((attrs["aria-roledescription"], attrs["aria-label"]))
    return out
