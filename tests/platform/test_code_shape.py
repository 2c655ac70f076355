"""The shape of the code that CI holds: functions a person can read in one go."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LONGEST_LINES = 60
# A longer function says why in its docstring, in a sentence starting with this.
REASON = "Long because"


def too_long(source: str) -> list[str]:
    """The functions of ``source`` longer than LONGEST_LINES whose docstring gives no
    reason, as ``name:line (n lines)``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = node.end_lineno - node.lineno + 1
            if lines > LONGEST_LINES and REASON not in (ast.get_docstring(node) or ""):
                found.append(f"{node.name}:{node.lineno} ({lines} lines)")
    return found


def test_no_function_is_longer_than_sixty_lines_without_a_reason():
    problems = [
        f"{path.relative_to(ROOT)} {function}"
        for package in ("apps", "audit_platform")
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        for function in too_long(path.read_text(encoding="utf-8"))
    ]
    assert not problems, (
        f"Split these, or say in their docstring why they are long ('{REASON} ...'):\n"
        + "\n".join(problems)
    )


def test_the_check_finds_a_long_function_and_accepts_a_stated_reason():
    body = "    x = 1\n" * LONGEST_LINES
    assert too_long("def f():\n" + body) == ["f:1 (61 lines)"]
    assert too_long("def f():\n" + body[: -len("    x = 1\n")]) == []
    reasoned = f'def f():\n    """{REASON} it is one table."""\n' + body
    assert too_long(reasoned) == []
