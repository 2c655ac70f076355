"""docs/compliance.md lists every rule of apps/compliance/rules.py with its source and
date: the page is generated, and a stale page fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.compliance import rules


def test_the_page_lists_every_rule_with_its_source_and_date():
    page = (Path(settings.BASE_DIR) / "docs" / "compliance.md").read_text(encoding="utf-8")
    assert rules.rules_markdown() in page, "docs/compliance.md is stale: manage.py compliance_doc"
    for rule in rules.OBLIGATION_RULES:
        assert f"| `{rule.code}` | {rule.article} |" in page
    for when in rules.DATES.values():
        assert f"{when.applies_from:%-d %b %Y} | {when.legal_source} |" in page
    call_command("compliance_doc", "--check")


def test_the_check_fails_on_a_rules_table_edited_by_hand(tmp_path, settings):
    source = Path(settings.BASE_DIR) / "docs" / "compliance.md"
    (tmp_path / "docs").mkdir()
    edited = source.read_text(encoding="utf-8").replace("| Art. 27(3) |", "| Art. 27(4) |")
    (tmp_path / "docs" / "compliance.md").write_text(edited, encoding="utf-8")
    settings.BASE_DIR = tmp_path
    with pytest.raises(CommandError, match=r"run manage\.py compliance_doc"):
        call_command("compliance_doc", "--check")
