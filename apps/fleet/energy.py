"""Energy and its cost per AI system, model version and deployment over time, from
the energy our workers measured for each batch (NVML's total-energy counter, or mean
power x time where the GPU has none; formats in apps/inference/telemetry.py), for
Annex XI documentation and sustainability reports."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from html import escape
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate

from apps.registry.models import PredictionBatch

JOULES_PER_KWH = Decimal(3_600_000)
GROUPS = {
    "system": "deployment__system",
    "model_version": "model_version",
    "deployment": "deployment",
}


def _batches(
    *,
    organization: Any,
    start: datetime | None,
    end: datetime | None,
    system_ids: frozenset[Any] | None = None,
) -> Any:
    batches = PredictionBatch.objects.filter(
        deployment__system__organization=organization,
        status=PredictionBatch.Status.COMPLETED,
        energy_joules__isnull=False,
    )
    if system_ids is not None:  # an API key limited to some systems sees only theirs
        batches = batches.filter(deployment__system__in=sorted(system_ids))
    if start is not None:
        batches = batches.filter(finished_at__gte=start)
    if end is not None:
        batches = batches.filter(finished_at__lt=end)
    return batches


def _kwh(joules: float) -> Decimal:
    return (Decimal(repr(joules)) / JOULES_PER_KWH).quantize(Decimal("0.000001"), ROUND_HALF_UP)


def _cost(kwh: Decimal) -> str:
    price = Decimal(settings.FLEET_ENERGY_PRICE_PER_KWH)
    return str((kwh * price).quantize(Decimal("0.01"), ROUND_HALF_UP))


def energy_by(
    *,
    organization: Any,
    group_by: str,
    start: datetime | None = None,
    end: datetime | None = None,
    system_ids: frozenset[Any] | None = None,
) -> dict[str, Any]:
    """kWh and cost per system, model version or deployment: texts, not floats (money)."""
    field = GROUPS[group_by]
    rows = (
        _batches(organization=organization, start=start, end=end, system_ids=system_ids)
        .values(key=F(field))
        .annotate(joules=Sum("energy_joules"), batches=Count("id"), rows=Sum("row_count"))
        .order_by("key")
    )
    groups = []
    for row in rows:
        kwh = _kwh(row["joules"] or 0.0)
        groups.append(
            {
                group_by: str(row["key"]),
                "batches": row["batches"],
                "rows": row["rows"] or 0,
                "kwh": str(kwh),
                "cost": _cost(kwh),
            }
        )
    return {
        "group_by": group_by,
        "price_per_kwh": settings.FLEET_ENERGY_PRICE_PER_KWH,
        "currency": settings.FLEET_ENERGY_CURRENCY,
        "groups": groups,
        "measured_by": "NVML per batch: total-energy counter, else mean power x time; "
        "CPU-only batches have no energy figure and are not counted",
    }


def energy_per_day(
    *,
    organization: Any,
    start: datetime | None = None,
    end: datetime | None = None,
    system_ids: frozenset[Any] | None = None,
) -> list[tuple[date, Decimal]]:
    rows = (
        _batches(organization=organization, start=start, end=end, system_ids=system_ids)
        .annotate(day=TruncDate("finished_at"))
        .values("day")
        .annotate(joules=Sum("energy_joules"))
        .order_by("day")
    )
    return [(row["day"], _kwh(row["joules"] or 0.0)) for row in rows]


def energy_chart_svg(
    days: list[tuple[date, Decimal]], *, width: int = 560, height: int = 180
) -> str:
    """kWh per day as bars, in SVG (deterministic: the same data, the same bytes)."""
    title = f"Energy per day (kWh), {len(days)} days"
    left, top, bottom = 50, 20, 30
    plot_w, plot_h = width - left - 10, height - top - bottom
    high = max((float(k) for _, k in days), default=0.0) or 1.0
    step = plot_w / max(len(days), 1)
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#444"/>',
        f'<text x="{left - 4}" y="{top + 8}" font-size="9" text-anchor="end">{high:.3g}</text>',
    ]
    for i, (day, kwh) in enumerate(days):
        h = float(kwh) / high * plot_h
        x = left + i * step
        body.append(
            f'<rect x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" width="{max(step - 2, 0.5):.1f}" '
            f'height="{h:.1f}" fill="#548235"><title>{day.isoformat()}: {kwh} kWh</title></rect>'
        )
    if days:
        for i in sorted({0, len(days) - 1}):
            body.append(
                f'<text x="{left + i * step + step / 2:.1f}" y="{height - 10}" font-size="9" '
                f'text-anchor="middle">{days[i][0].isoformat()}</text>'
            )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="chart" role="img" '
        f'aria-label="{escape(title)}">'
        f'<text x="0" y="12" font-size="10" font-weight="bold">{escape(title)}</text>'
        + "".join(body)
        + "</svg>"
    )
