"""The event vocabulary: every type the code writes is declared once with its payload
keys, ``record_event`` refuses anything else, and ``docs/events.md`` is what the
declarations render."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.ledger.events import EventType, UndeclaredEvent, declared, events_doc
from apps.ledger.models import Log
from apps.registry.events import DATASET_CREATED, TRAINING_RUN_COMPLETED
from apps.tenancy.records import record_event
from audit_platform.principal import Principal

ROOT = Path(settings.BASE_DIR)
APPS = ROOT / "apps"
# The ledger appends its own entries (key rotation); records.py is the one helper
# every other app appends through.
MAY_APPEND = {APPS / "tenancy" / "records.py"}
APPEND_CALLS = {"entry_append", "entries_append", "EntryDraft"}


def _sources() -> list[Path]:
    return sorted(p for p in APPS.rglob("*.py") if "migrations" not in p.parts)


def _calls(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _module(path: Path):
    return importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))


def test_docs_events_md_is_what_the_declarations_render():
    on_disk = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    assert on_disk == events_doc(), "docs/events.md is stale: run manage.py events_doc"
    call_command("events_doc", "--check")


def test_events_doc_check_fails_on_a_page_edited_by_hand(tmp_path, settings):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "events.md").write_text(events_doc() + "\nan edit\n")
    settings.BASE_DIR = tmp_path
    with pytest.raises(CommandError, match="differs from the declared events"):
        call_command("events_doc", "--check")


def test_every_event_type_is_declared_once_and_documented():
    names = [event.name for event in declared()]
    assert len(names) == len(set(names))
    doc = events_doc()
    for name in names:
        assert f"| `{name}` |" in doc


def test_no_domain_app_appends_to_the_ledger_but_through_record_event():
    offenders = [
        f"{path.relative_to(ROOT)}:{call.lineno}"
        for path in _sources()
        if APPS / "ledger" not in path.parents and path not in MAY_APPEND
        for call in _calls(path)
        if _name(call.func) in APPEND_CALLS
    ]
    assert offenders == []


def test_every_record_event_call_names_a_declared_event_type():
    checked = 0
    for path in _sources():
        calls = [c for c in _calls(path) if _name(c.func) == "record_event"]
        if not calls or path == APPS / "tenancy" / "records.py":
            continue
        module = _module(path)
        for call in calls:
            where = f"{path.relative_to(ROOT)}:{call.lineno}"
            (event,) = [k.value for k in call.keywords if k.arg == "event"] or [None]
            assert event is not None, f"{where}: record_event without event="
            assert not isinstance(event, ast.Constant | ast.JoinedStr), f"{where}: a string"
            if isinstance(event, ast.Attribute) and isinstance(event.value, ast.Name):
                value = getattr(getattr(module, event.value.id), event.attr)
                assert value in declared(), f"{where}: {ast.unparse(event)} is not declared"
            checked += 1
    assert checked > 40


def test_every_declared_event_type_is_written_somewhere():
    constants = {}
    for path in APPS.glob("*/events.py"):
        module = _module(path)
        constants.update({name: v for name, v in vars(module).items() if v in declared()})
    assert sorted(e.name for e in constants.values()) == sorted(e.name for e in declared())
    code = "\n".join(p.read_text(encoding="utf-8") for p in _sources() if p.name != "events.py")
    assert [name for name in constants if not re.search(rf"\b{name}\b", code)] == []


def test_strings_shaped_like_event_types_name_declared_ones():
    # Readers look entries up by type (a report citing "dataset.created"): a typo there
    # would find nothing, silently.
    names = {event.name for event in declared()}
    subjects = {event.subject for event in declared()} | {n.split(".")[0] for n in names}
    shaped = re.compile(rf"(?:{'|'.join(sorted(subjects))})\.[a-z_]+")
    unknown = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value}"
        for path in _sources()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and shaped.fullmatch(node.value)
        and node.value not in names
    ]
    assert unknown == []


@pytest.fixture
def actor(org):
    return Principal.system(organization=org, name="tests")


def _size(org) -> int:
    return Log.objects.get(organization=org).size


@pytest.mark.django_db
def test_record_event_refuses_a_type_given_as_a_string(org, actor):
    before = _size(org)
    with pytest.raises(UndeclaredEvent):
        record_event(actor=actor, event="dataset.created", id=1, data={"name": "x"})
    assert _size(org) == before


@pytest.mark.django_db
def test_record_event_refuses_an_event_type_that_was_not_declared(org, actor):
    forged = EventType(name="dataset.forged", subject="dataset", section=DATASET_CREATED.section)
    copy = EventType(
        name=DATASET_CREATED.name,
        subject=DATASET_CREATED.subject,
        section=DATASET_CREATED.section,
        fields=DATASET_CREATED.fields,
    )
    before = _size(org)
    for event in (forged, copy):
        with pytest.raises(UndeclaredEvent, match="not declared"):
            record_event(actor=actor, event=event, id=1, data={"name": "x", "parent": None})
    assert _size(org) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data, problem",
    [
        ({"name": "x"}, r"missing: \['parent'\]"),
        ({"name": "x", "parent": None, "colour": "red"}, r"not declared: \['colour'\]"),
    ],
)
def test_record_event_refuses_a_payload_with_undeclared_or_missing_keys(org, actor, data, problem):
    before = _size(org)
    with pytest.raises(UndeclaredEvent, match=problem):
        record_event(actor=actor, event=DATASET_CREATED, id=1, data=data)
    assert _size(org) == before


@pytest.mark.django_db
def test_an_optional_key_may_be_left_out(org, actor):
    data = {"metrics": {}, "energy_joules": None, "duration_seconds": 1.5}
    receipt = record_event(actor=actor, event=TRAINING_RUN_COMPLETED, id=7, data=data)
    assert receipt.seq == _size(org) - 1
