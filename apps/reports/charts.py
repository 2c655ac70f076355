"""Charts as inline SVG, so they stay vector graphics in the PDF. Hand-built: no
plotting library, no raster, deterministic output.

Honest by construction: every value axis starts at zero (a bar's length, a point's
height is proportional to its value), an interval recorded with a value is drawn as a
whisker around it, and no label is cut (long ones get a smaller font and more room).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

PALETTE = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6")
# Width of a character at font size 1, roughly, for the fonts the PDFs embed.
CHAR_WIDTH = 0.55

Interval = tuple[float, float] | None


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _fit(text: str, room: float, size: float = 8.0, smallest: float = 4.5) -> float:
    """A font size at which ``text`` fits in ``room`` points, down to ``smallest``;
    the label is never cut (below that it may overflow into the margin)."""
    needed = len(text) * CHAR_WIDTH * size
    return size if needed <= room else max(smallest, room / (len(text) * CHAR_WIDTH))


def _axis_range(values: Sequence[float]) -> tuple[float, float]:
    """From zero (or below it, for negative values) to the largest value."""
    low = min(0.0, *values)
    high = max(0.0, *values)
    if low == high:
        high = low + 1.0
    return low, high


def bar_chart(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    width: int = 480,
    bar_height: int = 16,
    intervals: Sequence[Interval] | None = None,
) -> str:
    """Horizontal bars from zero, one per (label, value); values may be negative.
    ``intervals`` (one per item, None where none is recorded) are drawn as whiskers."""
    if not items:
        return ""
    intervals = list(intervals or [None] * len(items))
    longest = max(len(label) for label, _ in items)
    label_w = min(max(60, longest * CHAR_WIDTH * 8 + 8), width // 2)
    pad = 6
    height = pad * 2 + 18 + len(items) * (bar_height + 4) + 12
    extent = [v for _, v in items] + [b for i in intervals if i for b in i]
    low, high = _axis_range(extent)
    span = high - low
    plot_w = width - label_w - 40

    def x(value: float) -> float:
        return label_w + (value - low) / span * plot_w

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="chart" role="img">',
        f'<text x="0" y="12" font-size="10" font-weight="bold">{escape(title)}</text>',
    ]
    parts += [
        _bar(
            label,
            value,
            intervals[i] if i < len(intervals) else None,
            x,
            label_w,
            y=pad + 18 + i * (bar_height + 4),
            bar_height=bar_height,
        )
        for i, (label, value) in enumerate(items)
    ]
    axis_y = height - pad - 12
    parts.append(
        f'<line x1="{x(0.0):.1f}" y1="{pad + 14}" x2="{x(0.0):.1f}" y2="{axis_y}" '
        'stroke="#333" stroke-width="0.6"/>'
        f'<line x1="{label_w}" y1="{axis_y}" x2="{label_w + plot_w}" y2="{axis_y}" '
        'stroke="#333" stroke-width="0.6"/>'
    )
    parts += [
        f'<text x="{x(tick):.1f}" y="{axis_y + 9}" font-size="7" text-anchor="middle">'
        f"{_fmt(tick)}</text>"
        for tick in sorted({low, 0.0, high})
    ]
    parts.append("</svg>")
    return "".join(parts)


def _bar(
    label: str,
    value: float,
    bounds: Interval,
    x: Callable[[float], float],
    label_w: float,
    *,
    y: float,
    bar_height: float,
) -> str:
    """One bar from zero with its label, its interval where recorded, and its value."""
    x0, x1 = sorted((x(0.0), x(value)))
    size = _fit(label, label_w - 4)
    parts = [
        f'<text x="{label_w - 4}" y="{y + bar_height - 4}" font-size="{size:.1f}" '
        f'text-anchor="end">{escape(label)}</text>'
        f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 0.5):.1f}" '
        f'height="{bar_height}" fill="{PALETTE[0]}"/>'
    ]
    end = x1
    if bounds is not None:
        lo, hi = x(bounds[0]), x(bounds[1])
        parts.append(_whisker(lo, hi, y, bar_height))
        end = max(end, hi)
    parts.append(
        f'<text x="{end + 3:.1f}" y="{y + bar_height - 4}" font-size="8">{_fmt(value)}</text>'
    )
    return "".join(parts)


def _whisker(lo: float, hi: float, y: float, bar_height: float) -> str:
    """A horizontal interval from ``lo`` to ``hi`` across a bar at ``y``."""
    mid = y + bar_height / 2
    return (
        f'<g class="interval"><line x1="{lo:.1f}" y1="{mid:.1f}" x2="{hi:.1f}" '
        f'y2="{mid:.1f}" stroke="#000" stroke-width="0.8"/>'
        f'<line x1="{lo:.1f}" y1="{y + 3}" x2="{lo:.1f}" y2="{y + bar_height - 3}" '
        'stroke="#000" stroke-width="0.8"/>'
        f'<line x1="{hi:.1f}" y1="{y + 3}" x2="{hi:.1f}" y2="{y + bar_height - 3}" '
        'stroke="#000" stroke-width="0.8"/></g>'
    )


def _value_ticks(ticks: Sequence[float], y: Callable[[float], float], left: float) -> str:
    """The value axis' tick marks and labels, zero among them."""
    return "".join(
        f'<line x1="{left - 2}" y1="{y(tick):.1f}" x2="{left}" y2="{y(tick):.1f}" '
        'stroke="#333" stroke-width="0.5"/>'
        f'<text x="{left - 3}" y="{y(tick) + 2:.1f}" font-size="7" text-anchor="end">'
        f"{_fmt(tick)}</text>"
        for tick in ticks
    )


def _series(
    points: Sequence[float | None],
    bounds: Sequence[Interval],
    x: Callable[[int], float],
    y: Callable[[float], float],
    color: str,
) -> str:
    """One series' line, points and intervals."""
    coords = [(x(i), y(v)) for i, v in enumerate(points) if v is not None]
    parts = []
    if len(coords) > 1:
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.2"/>')
    parts += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="1.8" fill="{color}"/>' for px, py in coords]
    parts += [
        _vertical_whisker(x(i), y(b[1]), y(b[0]), color)
        for i, b in enumerate(bounds)
        if b is not None
    ]
    return "".join(parts)


def _vertical_whisker(x: float, top: float, bottom: float, color: str) -> str:
    """A vertical interval at ``x`` from ``bottom`` to ``top`` (SVG coordinates)."""
    return (
        f'<g class="interval"><line x1="{x:.1f}" y1="{bottom:.1f}" x2="{x:.1f}" '
        f'y2="{top:.1f}" stroke="{color}" stroke-width="0.8"/>'
        f'<line x1="{x - 3:.1f}" y1="{bottom:.1f}" x2="{x + 3:.1f}" y2="{bottom:.1f}" '
        f'stroke="{color}" stroke-width="0.8"/>'
        f'<line x1="{x - 3:.1f}" y1="{top:.1f}" x2="{x + 3:.1f}" y2="{top:.1f}" '
        f'stroke="{color}" stroke-width="0.8"/></g>'
    )


def line_chart(
    series: dict[str, Sequence[float | None]],
    labels: Sequence[str],
    *,
    title: str,
    width: int = 480,
    height: int = 200,
    intervals: dict[str, Sequence[Interval]] | None = None,
) -> str:
    """One line per series over shared x labels (versions, dates); gaps for None. The
    value axis starts at zero; ``intervals`` (per series, per point) are drawn as
    whiskers where recorded."""
    intervals = intervals or {}
    values = [v for points in series.values() for v in points if v is not None]
    values += [b for bounds in intervals.values() for i in bounds if i for b in i]
    if not values or not labels:
        return ""
    longest = max(len(name) for name in series)
    left, top, bottom = 44, 20, 34
    right = int(min(max(60, longest * CHAR_WIDTH * 7 + 24), width / 3))
    plot_w, plot_h = width - left - right, height - top - bottom
    low, high = _axis_range(values)
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
        _value_ticks(sorted({low, 0.0, (low + high) / 2, high}), y, left),
    ]
    step = max(1, n // 8)
    room = plot_w / max(1, (n + step - 1) // step)
    parts += [
        f'<text x="{x(i):.1f}" y="{top + plot_h + 10}" '
        f'font-size="{_fit(str(labels[i]), room, 7):.1f}" '
        f'text-anchor="middle">{escape(str(labels[i]))}</text>'
        for i in range(0, n, step)
    ]
    for k, (name, points) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)]
        parts.append(_series(points, intervals.get(name, ()), x, y, color))
        ly = top + 8 + k * 11
        parts.append(
            f'<rect x="{left + plot_w + 8}" y="{ly - 6}" width="8" height="6" fill="{color}"/>'
            f'<text x="{left + plot_w + 19}" y="{ly}" font-size="{_fit(name, right - 22, 7):.1f}">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
