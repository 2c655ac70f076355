"""The UI's template filters: ``{% load web %}``.

Times are stored and sent in UTC. ``local_time`` writes a ``<time>`` element that reads
in UTC without JavaScript and carries the UTC time on hover; static/js/web.js rewrites
its text in the viewer's time zone. ``time_left`` does the same for a deadline, as the
time left (or overdue) at render time, and web.js keeps it counting."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()

_EMPTY = "—"


def _utc(value: datetime) -> datetime:
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


@register.filter
def local_time(value: datetime | None, style: str = "datetime") -> str:
    """``{{ when|local_time }}``, or ``{{ when|local_time:"date" }}`` for the day only."""
    if not isinstance(value, datetime):
        return _EMPTY
    utc = _utc(value)
    shown = utc.strftime("%Y-%m-%d") if style == "date" else utc.strftime("%Y-%m-%d %H:%M UTC")
    return format_html(
        '<time datetime="{}" title="{}" data-local-time="{}">{}</time>',
        _iso(utc),
        utc.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "date" if style == "date" else "datetime",
        shown,
    )


def duration_words(seconds: float) -> str:
    """'3 d 4 h', '5 h 12 min', '42 min' or 'under a minute'."""
    seconds = int(abs(seconds))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return "under a minute"


@register.filter
def time_left(deadline: datetime | None) -> str:
    """``{{ incident.deadline|time_left }}``: '2 d 3 h left' or 'overdue by 5 h 2 min'."""
    if not isinstance(deadline, datetime):
        return _EMPTY
    utc = _utc(deadline)
    seconds = (utc - timezone.now()).total_seconds()
    words = duration_words(seconds)
    words = f"{words} left" if seconds > 0 else f"overdue by {words}"
    return format_html(
        '<time datetime="{}" title="due {}" data-countdown class="{}">{}</time>',
        _iso(utc),
        utc.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "countdown" if seconds > 0 else "countdown overdue",
        words,
    )
