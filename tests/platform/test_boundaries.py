"""App boundaries that import-linter cannot see: an app writes only its own tables."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# QuerySet and manager methods that write rows.
WRITES = {
    "create",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
    "update",
    "delete",
}


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def foreign_model_writes(source: str, *, app: str) -> list[str]:
    """``Model.objects...<write>(...)`` calls in ``source`` (a module of ``app``) on
    models imported from another app's ``models`` module."""
    tree = ast.parse(source)
    foreign: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith(".models"):
            parts = (node.module or "").split(".")
            if parts[0] == "apps" and len(parts) == 3 and parts[1] != app:
                for alias in node.names:
                    foreign[alias.asname or alias.name] = node.module or ""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in WRITES or ".objects" not in ast.unparse(node.func):
            continue
        name = _root_name(node.func)
        if name in foreign:
            write = f"{name}.objects….{node.func.attr}()"
            found.append(f"line {node.lineno}: {write} ({foreign[name]})")
    return found


def test_no_app_writes_another_apps_tables():
    problems = []
    for path in sorted((ROOT / "apps").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        app = path.relative_to(ROOT / "apps").parts[0]
        for problem in foreign_model_writes(path.read_text(encoding="utf-8"), app=app):
            problems.append(f"{path.relative_to(ROOT)} {problem}")
    assert not problems, "Write another app's records through that app's services:\n" + "\n".join(
        problems
    )


def test_the_check_sees_a_write_through_another_apps_model():
    source = (
        "from apps.tasks.models import TaskRecord\n"
        "def f(pk):\n"
        "    TaskRecord.objects.filter(pk=pk).update(state='failed')\n"
    )
    assert foreign_model_writes(source, app="inference") == [
        "line 3: TaskRecord.objects….update() (apps.tasks.models)"
    ]
    assert foreign_model_writes(source, app="tasks") == []
