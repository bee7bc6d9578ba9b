"""Charts as inline SVG, drawn on the server: no JavaScript, no chart library, nothing fetched, and a
test can count the bars. Every label is escaped (guarantor names come from the registry, but the
page treats all text as data)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#2f6fb0", "#d9822b", "#3a9a5b", "#b8455a", "#7b5ea7", "#8c6d46", "#c05fa6", "#6b7a8f", "#a5a53a", "#2aa3a3")
OVER = "#c0392b"
GRID = "#d8dde3"
INK = "#2b2f36"
MUTED = "#6b7280"
FONT = 'font-family="system-ui, sans-serif"'


def _num(value: float, pct: bool = False) -> str:
    if pct:
        return f"{value * 100:.1f}%"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value)}"


def _svg(chart: str, title: str, width: int, height: int, body: list[str]) -> Markup:
    head = (f'<svg class="chart" data-chart="{escape(chart)}" xmlns="http://www.w3.org/2000/svg" '
            f'viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(title)}" {FONT}>'
            f"<title>{escape(title)}</title>")
    return Markup(head + "".join(body) + "</svg>")


def empty(chart: str, title: str, width: int = 640, height: int = 120) -> Markup:
    return _svg(chart, title, width, height, [
        f'<text class="empty" x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="{MUTED}" font-size="14">'
        "暂无已发布数据 · no published data</text>"
    ])


def leverage_bars(chart: str, title: str, rows: Sequence[tuple[str, str, float, float]]) -> Markup:
    """One horizontal bar per guarantor (label, tooltip, ratio, cap) with its cap marked; red past the cap."""
    if not rows:
        return empty(chart, title)
    label_w, bar_w, row_h, top = 200, 420, 30, 30
    width, height = label_w + bar_w + 110, top + row_h * len(rows) + 10
    scale_max = max(max(r[2] for r in rows), max(r[3] for r in rows)) * 1.1 or 1.0
    x = lambda v: label_w + bar_w * v / scale_max  # noqa: E731
    body = [f'<text x="{label_w}" y="16" fill="{MUTED}" font-size="12">杠杆倍数 leverage (×) · 红线 = 上限 cap</text>']
    for i, (label, tip, ratio, cap) in enumerate(rows):
        y = top + i * row_h
        color = OVER if ratio > cap else PALETTE[0]
        body += [
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" fill="{INK}" font-size="13">{escape(label)}</text>',
            f'<rect class="bar" data-value="{ratio:.6g}" data-cap="{cap:g}" x="{label_w}" y="{y + 4}" '
            f'width="{max(x(ratio) - label_w, 2):.1f}" height="{row_h - 10}" fill="{color}"><title>{escape(tip)}: '
            f"{ratio:.4g}× / {cap:g}×</title></rect>",
            f'<line class="cap" x1="{x(cap):.1f}" x2="{x(cap):.1f}" y1="{y}" y2="{y + row_h - 2}" stroke="{OVER}" stroke-width="2"/>',
            f'<text x="{max(x(ratio), x(cap)) + 6:.1f}" y="{y + 17}" fill="{INK}" font-size="12">{ratio:.3g}× / {cap:g}×</text>',
        ]
    return _svg(chart, title, width, height, body)


def columns(chart: str, title: str, items: Sequence[tuple[str, float]], *, unit: str = "",
            colors: Sequence[str] | None = None) -> Markup:
    """Vertical columns, one per (label, value), with the value on top; a label "中文 english" is
    written on two lines."""
    if not items or not any(v for _, v in items):
        return empty(chart, title, width=420, height=160)
    lines = [label.split(" ", 1) for label, _ in items]
    widest = max(len(part) * (13 if ord(part[0]) > 0x2E80 else 7) for parts in lines for part in parts)
    left, top, plot_h, gap = 24, 44, 170, 24
    col_w = max(48, min(widest, 140))
    width = left + len(items) * (col_w + gap) + 12
    height = top + plot_h + (44 if any(len(p) > 1 for p in lines) else 28)
    peak = max(v for _, v in items) or 1.0
    body = [f'<line x1="{left}" x2="{width - 8}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{GRID}"/>']
    if unit:
        body.append(f'<text x="{left}" y="16" fill="{MUTED}" font-size="12">{escape(unit)}</text>')
    for i, ((label, value), parts) in enumerate(zip(items, lines, strict=True)):
        h = plot_h * value / peak
        x = left + gap / 2 + i * (col_w + gap)
        color = (colors or PALETTE)[i % len(colors or PALETTE)]
        body += [
            f'<rect class="bar" data-label="{escape(label)}" data-value="{value:.6g}" x="{x:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{col_w}" height="{max(h, 0.5):.1f}" fill="{color}"><title>{escape(label)}: {_num(value)}</title></rect>',
            f'<text x="{x + col_w / 2:.1f}" y="{top + plot_h - h - 6:.1f}" text-anchor="middle" fill="{INK}" font-size="12">{_num(value)}</text>',
        ]
        for j, part in enumerate(parts):
            body.append(f'<text x="{x + col_w / 2:.1f}" y="{top + plot_h + 18 + 16 * j}" text-anchor="middle" '
                        f'fill="{INK if j == 0 else MUTED}" font-size="12">{escape(part)}</text>')
    return _svg(chart, title, width, height, body)


def share_lines(chart: str, title: str, periods: Sequence[str], series: Sequence[tuple[str, dict[str, float]]],
                target: float) -> Markup:
    """One line per guarantor over the periods (share as 0..1), and the target as a dashed line."""
    if not periods or not series:
        return empty(chart, title)
    left, top, plot_w, plot_h = 50, 20, 460, 200
    legend_w = 220
    width, height = left + plot_w + legend_w, top + plot_h + 40
    step = plot_w / max(len(periods) - 1, 1)
    xs = {p: left + (i * step if len(periods) > 1 else plot_w / 2) for i, p in enumerate(periods)}
    y = lambda v: top + plot_h * (1 - v)  # noqa: E731
    body = []
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        body += [f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="{GRID}"/>',
                 f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="{MUTED}" font-size="11">{tick:.0%}</text>']
    for p in periods:
        body.append(f'<text x="{xs[p]:.1f}" y="{top + plot_h + 18}" text-anchor="middle" fill="{INK}" font-size="11">{escape(p)}</text>')
    body.append(f'<line class="target" data-value="{target}" x1="{left}" x2="{left + plot_w}" y1="{y(target):.1f}" '
                f'y2="{y(target):.1f}" stroke="{OVER}" stroke-width="2" stroke-dasharray="6 4"/>')
    body.append(f'<text x="{left + plot_w - 4}" y="{y(target) - 6:.1f}" text-anchor="end" fill="{OVER}" font-size="11">'
                f"目标 target {target:.0%}</text>")
    for i, (label, values) in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        points = [(xs[p], y(values[p])) for p in periods if p in values]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            body.append(f'<polyline class="series" points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for p in periods:
            if p in values:
                body.append(f'<circle class="point" data-value="{values[p]:.6g}" cx="{xs[p]:.1f}" cy="{y(values[p]):.1f}" r="4" '
                            f'fill="{color}"><title>{escape(label)} {escape(p)}: {values[p]:.1%}</title></circle>')
        ly = top + 10 + i * 18
        body += [f'<rect x="{left + plot_w + 16}" y="{ly - 9}" width="10" height="10" fill="{color}"/>',
                 f'<text x="{left + plot_w + 32}" y="{ly}" fill="{INK}" font-size="11">{escape(label)}</text>']
    return _svg(chart, title, width, height, body)
