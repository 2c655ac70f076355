"""Monitoring charts as inline SVG (vector in the PDF, the same in the UI): per-feature
reference vs current distributions, drift over time, estimated vs realized
performance over time. Hand-built and deterministic, like apps/reports/charts.py; value
axes start at zero and no label is cut."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

REFERENCE, CURRENT, ESTIMATE, REALIZED = "#1f4e79", "#c55a11", "#7030a0", "#548235"
DISTRIBUTIONS_MAX = 12


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="chart" role="img" '
        f'aria-label="{escape(title)}">'
        f'<text x="0" y="12" font-size="10" font-weight="bold">{escape(title)}</text>'
        + "".join(body)
        + "</svg>"
    )


def _bins(histogram: Any) -> tuple[list[str], list[float]]:
    """Labels and counts of a histogram as the drift figures hold it: ``{"edges",
    "counts"}`` for numbers, ``{"categories", "counts"}`` for categories."""
    if not isinstance(histogram, dict):
        return [], []
    counts = [float(c or 0) for c in histogram.get("counts") or []]
    if histogram.get("categories"):
        labels = [str(c) for c in histogram["categories"]]
    else:
        edges = histogram.get("edges") or []
        labels = [f"{float(edges[i]):.3g}" for i in range(min(len(edges), len(counts)))]
    return labels[: len(counts)], counts[: len(labels)]


def _shares(counts: list[float]) -> list[float]:
    total = sum(counts) or 1.0
    return [c / total for c in counts]


def distribution(feature: dict[str, Any], *, width: int = 480, height: int = 150) -> str:
    """Reference and current shares per bin (or category) of one feature, side by side."""
    labels, ref = _bins(feature.get("reference_histogram"))
    _, cur = _bins(feature.get("current_histogram"))
    if not labels or len(cur) != len(ref):
        return ""
    ref, cur = _shares(ref), _shares(cur)
    left, top, bottom = 30, 20, 26
    plot_w, plot_h = width - left - 10, height - top - bottom
    high = max(*ref, *cur) or 1.0
    step = plot_w / len(ref)
    bar = max(step / 2 - 1, 0.5)
    body = []
    for i, (r, c) in enumerate(zip(ref, cur, strict=True)):
        x = left + i * step
        for offset, value, colour in ((0, r, REFERENCE), (bar, c, CURRENT)):
            h = value / high * plot_h
            body.append(
                f'<rect x="{x + offset:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{colour}"/>'
            )
        if len(ref) <= 12 or i % max(len(ref) // 8, 1) == 0:
            # Never cut: a long category gets a smaller font to fit its slot.
            room = step if len(ref) <= 12 else step * max(len(ref) // 8, 1)
            size = max(4.0, min(7.0, room / (0.55 * max(len(labels[i]), 1))))
            body.append(
                f'<text x="{x:.1f}" y="{height - 12}" font-size="{size:.1f}">'
                f"{escape(labels[i])}</text>"
            )
    verdict = "drifted" if feature.get("drifted") else "no drift"
    statistic = feature.get("statistic")
    figure = f"{feature.get('test')} {statistic:.3g}" if isinstance(statistic, float) else ""
    body.append(
        f'<text x="{left}" y="{height - 2}" font-size="7"><tspan fill="{REFERENCE}">■ reference'
        f'</tspan> <tspan fill="{CURRENT}">■ current</tspan> {escape(figure)} ({verdict})</text>'
    )
    return _svg(width, height, f"{feature.get('feature')}: reference vs current", body)


def distributions(report: Any) -> list[str]:
    """A report's per-feature charts, drifted features first."""
    features = sorted(report.features, key=lambda f: not f.get("drifted"))
    return [c for c in (distribution(f) for f in features[:DISTRIBUTIONS_MAX]) if c]


def _lines(
    series: dict[str, tuple[str, Sequence[float | None]]],
    labels: Sequence[str],
    *,
    title: str,
    width: int = 480,
    height: int = 180,
    band: tuple[Sequence[float | None], Sequence[float | None]] | None = None,
) -> str:
    values = [v for _, points in series.values() for v in points if v is not None]
    if band:
        values += [v for v in (*band[0], *band[1]) if v is not None]
    if not values or not labels:
        return ""
    left, right, top, bottom = 40, 100, 20, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    # From zero: a point's height is proportional to its value (no cropped axis).
    low, high = min(0.0, *values), max(0.0, *values)
    if low == high:
        high = low + 1.0
    n = len(labels)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - (v - low) / (high - low) * plot_h

    body = [
        f'<text x="2" y="{y(tick) + 2:.1f}" font-size="7">{tick:.3g}</text>'
        for tick in sorted({low, 0.0, (low + high) / 2, high})
    ]
    if band:
        for i, (lo, hi) in enumerate(zip(*band, strict=True)):
            if lo is not None and hi is not None:
                body.append(
                    f'<line x1="{x(i):.1f}" y1="{y(lo):.1f}" x2="{x(i):.1f}" y2="{y(hi):.1f}" '
                    f'stroke="{ESTIMATE}" stroke-width="3" opacity="0.3"/>'
                )
    for k, (name, (colour, points)) in enumerate(series.items()):
        marks = [(x(i), y(v)) for i, v in enumerate(points) if v is not None]
        if len(marks) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in marks)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.2"/>'
            )
        body += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2" fill="{colour}"/>' for px, py in marks]
        body.append(
            f'<text x="{width - right + 6}" y="{top + 10 + k * 12}" font-size="8" '
            f'fill="{colour}">{escape(name)}</text>'
        )
    for i in (0, n - 1) if n > 1 else (0,):
        body.append(
            f'<text x="{x(i):.1f}" y="{height - 8}" font-size="7">{escape(labels[i])}</text>'
        )
    return _svg(width, height, title, body)


def drift_over_time(reports: Sequence[Any]) -> str:
    """Share of drifted features per report, over time, with the policy's share."""
    done = [r for r in reports if r.status == "completed"]
    if not done:
        return ""
    return _lines(
        {
            "drifted share": (CURRENT, [r.share for r in done]),
            "alert at": (REFERENCE, [r.policy.drift_share for r in done]),
        },
        [r.created_at.strftime("%Y-%m-%d %H:%M") for r in done],
        title="Drift over time (share of watched features that drifted)",
    )


def performance_over_time(reports: Sequence[Any]) -> str:
    """Estimated (with its interval) and realized performance per batch, over time."""
    batches = sorted({r.batch_id for r in reports})
    if not batches:
        return ""
    by = {(r.batch_id, r.kind): r for r in reports}
    est = [by.get((b, "estimated")) for b in batches]
    real = [by.get((b, "realized")) for b in batches]
    metric = reports[0].metric
    return _lines(
        {
            f"estimated {metric}": (ESTIMATE, [e.value if e else None for e in est]),
            f"realized {metric}": (REALIZED, [r.value if r else None for r in real]),
        },
        [f"batch {b}" for b in batches],
        title=f"Estimated (CBPE, with interval) vs realized {metric} per batch",
        band=([e.lower if e else None for e in est], [e.upper if e else None for e in est]),
    )
