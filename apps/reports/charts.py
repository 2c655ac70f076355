"""Charts as inline SVG, so they stay vector graphics in the PDF. Hand-built: no
plotting library, no raster, deterministic output."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6")


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def bar_chart(
    items: Sequence[tuple[str, float]], *, title: str, width: int = 480, bar_height: int = 16
) -> str:
    """Horizontal bars, one per (label, value); values may be negative."""
    if not items:
        return ""
    label_w, pad = 150, 6
    height = pad * 2 + 18 + len(items) * (bar_height + 4)
    low = min(0.0, *(v for _, v in items))
    high = max(0.0, *(v for _, v in items)) or 1.0
    span = (high - low) or 1.0
    plot_w = width - label_w - 60
    zero_x = label_w + (0 - low) / span * plot_w
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="chart" role="img">',
        f'<text x="0" y="12" font-size="10" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = pad + 18 + i * (bar_height + 4)
        x0 = zero_x if value >= 0 else zero_x - (-value) / span * plot_w
        w = abs(value) / span * plot_w
        parts.append(
            f'<text x="{label_w - 4}" y="{y + bar_height - 4}" font-size="8" '
            f'text-anchor="end">{escape(label[:28])}</text>'
            f'<rect x="{x0:.1f}" y="{y}" width="{max(w, 0.5):.1f}" height="{bar_height}" '
            f'fill="{PALETTE[0]}"/>'
            f'<text x="{x0 + w + 3:.1f}" y="{y + bar_height - 4}" font-size="8">'
            f"{_fmt(value)}</text>"
        )
    parts.append(
        f'<line x1="{zero_x:.1f}" y1="{pad + 14}" x2="{zero_x:.1f}" y2="{height - pad}" '
        'stroke="#333" stroke-width="0.6"/></svg>'
    )
    return "".join(parts)


def line_chart(
    series: dict[str, Sequence[float | None]],
    labels: Sequence[str],
    *,
    title: str,
    width: int = 480,
    height: int = 200,
) -> str:
    """One line per series over shared x labels (versions, dates); gaps for None."""
    values = [v for points in series.values() for v in points if v is not None]
    if not values or not labels:
        return ""
    left, right, top, bottom = 44, 110, 20, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    low, high = min(values), max(values)
    if low == high:
        low, high = low - 0.5, high + 0.5
    n = len(labels)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - (v - low) / (high - low) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="chart" role="img">',
        f'<text x="0" y="12" font-size="10" font-weight="bold">{escape(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#999" stroke-width="0.5"/>',
        f'<text x="{left - 3}" y="{top + 4}" font-size="7" text-anchor="end">{_fmt(high)}</text>',
        f'<text x="{left - 3}" y="{top + plot_h}" font-size="7" text-anchor="end">'
        f"{_fmt(low)}</text>",
    ]
    step = max(1, n // 8)
    for i in range(0, n, step):
        parts.append(
            f'<text x="{x(i):.1f}" y="{top + plot_h + 10}" font-size="7" '
            f'text-anchor="middle">{escape(str(labels[i])[:12])}</text>'
        )
    for s, (name, points) in enumerate(series.items()):
        color = PALETTE[s % len(PALETTE)]
        coords = [(x(i), y(v)) for i, v in enumerate(points) if v is not None]
        if len(coords) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in coords)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.2"/>'
            )
        for px, py in coords:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="1.8" fill="{color}"/>')
        ly = top + 8 + s * 11
        parts.append(
            f'<rect x="{left + plot_w + 8}" y="{ly - 6}" width="8" height="6" fill="{color}"/>'
            f'<text x="{left + plot_w + 19}" y="{ly}" font-size="7">{escape(name[:18])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
