"""Template helpers for report PDFs: ledger citations, CSS strings, keys in words."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from apps.reports.kinds.common import words

register = template.Library()


@register.filter
def cite(seq: Any) -> str:
    """A footnote mark naming the ledger ``seq`` that backs the claim before it."""
    if seq is None or seq == "":
        return ""
    return format_html('<sup class="cite">[seq&#160;{}]</sup>', seq)


@register.filter
def css_string(value: Any) -> str:
    """Text for a CSS string literal in a <style> element (page margin boxes): CSS
    escapes, not HTML ones, which a style element would show verbatim."""
    text = " ".join(str(value).split())
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
    return mark_safe(text)  # noqa: S308 - escaped for CSS above; no "<" can remain


# The same words in the templates as in the kinds' gathered facts (one definition).
register.filter("words", words)
