"""The layers stay layered: one rulebook in the core, one write path through the actions, a store that knows nothing
of the web. Read from the source with `ast`, so a new module or a new call is checked the day it is written."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from service.settings import PROJECT_ROOT

SERVICE = PROJECT_ROOT / "service"

# Writes that are bookkeeping, not records people care about, and where they may be made. Each runs inside a
# transaction that an action holds (the sign-in's), so it is never a transaction of its own.
BOOKKEEPING_WRITES = {
    "service/throttle.py": {"record_failure", "clear_failures"},  # sign-in throttling's counters
    # operations on the whole file, by `handover backup` and `handover restore` with the service stopped
    "service/cli.py": {"backup", "restore"},
}
WEB = ("service.web", "service.app", "litestar")


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files(folder: Path = SERVICE) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(PROJECT_ROOT).as_posix()


def imports(tree: ast.AST, *, module_level_only: bool = False) -> list[tuple[str, int]]:
    """Every module this source imports, with its line; `module_level_only` skips imports inside functions."""
    found: list[tuple[str, int]] = []
    nodes = tree.body if module_level_only and isinstance(tree, ast.Module) else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
            found.extend((f"{node.module}.{alias.name}", node.lineno) for alias in node.names)
    return found


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def transactions_opened(tree: ast.AST) -> list[int]:
    """Lines that open a write transaction: `<anything>.transaction()` or SQL that begins or commits one."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "transaction":
            lines.append(node.lineno)
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text and re.search(r"\b(BEGIN|COMMIT|SAVEPOINT)\b", node.value):
            lines.append(node.lineno)
    return lines


def store_writes() -> set[str]:
    """The store's functions whose SQL changes rows (INSERT, UPDATE, DELETE), found from their text."""
    writes = set()
    for path in source_files(SERVICE / "db"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) and not node.name.startswith("_"):
                text = ast.get_source_segment(path.read_text(), node) or ""
                if re.search(r"\b(INSERT|UPDATE|DELETE)\b", text):
                    writes.add(node.name)
    return writes


def calls_to(tree: ast.AST, names: set[str]) -> list[tuple[str, int]]:
    """Calls of `db.<name>` (or a name imported from the store) among `names`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.attr in names:
                if func.value.id == "db":
                    found.append((func.attr, node.lineno))
            elif isinstance(func, ast.Name) and func.id in names:
                found.append((func.id, node.lineno))
    return found


# ---------------------------------------------------------------- the rules, each over every module it concerns


def core_violations(path: Path, tree: ast.AST) -> list[str]:
    """The core imports from the service only the core and the checklist definitions."""
    return [
        f"{relative(path)}:{line} imports {name}"
        for name, line in imports(tree)
        if within(name, ("service",)) and not within(name, ("service.core", "service.checklist"))
    ]


def transaction_violations(path: Path, tree: ast.AST) -> list[str]:
    if relative(path).startswith(("service/actions/", "service/db/")):
        return []
    return [f"{relative(path)}:{line} opens a write transaction" for line in transactions_opened(tree)]


def write_violations(path: Path, tree: ast.AST, writes: set[str]) -> list[str]:
    name = relative(path)
    if name.startswith(("service/actions/", "service/db/")):
        return []
    allowed = BOOKKEEPING_WRITES.get(name, set())
    return [f"{name}:{line} writes through db.{call}" for call, line in calls_to(tree, writes - allowed)]


def web_import_violations(path: Path, tree: ast.AST) -> list[str]:
    """The store and the actions never import the web layer; neither does the CLI, except where `serve` starts it."""
    name = relative(path)
    if name.startswith(("service/db/", "service/actions/", "service/core/")):
        found = imports(tree)
    elif name == "service/cli.py":
        found = imports(tree, module_level_only=True)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name != "_serve":
                found.extend(imports(node))
    else:
        return []
    return [f"{name}:{line} imports {module}" for module, line in found if within(module, WEB)]


def store_imports_actions(path: Path, tree: ast.AST) -> list[str]:
    if not relative(path).startswith("service/db/"):
        return []
    return [
        f"{relative(path)}:{line} imports {name}" for name, line in imports(tree) if within(name, ("service.actions",))
    ]


def violations(paths: list[Path]) -> list[str]:
    writes = store_writes()
    found: list[str] = []
    for path in paths:
        tree = ast.parse(path.read_text(), filename=str(path))
        if relative(path).startswith("service/core/"):
            found += core_violations(path, tree)
        found += transaction_violations(path, tree)
        found += write_violations(path, tree, writes)
        found += web_import_violations(path, tree)
        found += store_imports_actions(path, tree)
    return found


def test_every_module_keeps_to_its_layer() -> None:
    assert violations(source_files()) == []


def test_the_store_writes_are_found() -> None:
    """The write list is read from the SQL; if it came out empty, the write rule would check nothing."""
    assert {"save_section", "append_audit", "create_case", "create_user", "revoke_api_token"} <= store_writes()
    assert "handover_by_id" not in store_writes()


@pytest.mark.parametrize(
    ("where", "source", "expected"),
    [
        ("service/core/x.py", "from service.db import handovers\n", "imports service.db"),
        ("service/core/x.py", "import service.web.forms\n", "imports service.web.forms"),
        ("service/web/x.py", "async def f(d):\n    async with d.transaction() as c:\n        pass\n", "transaction"),
        ("service/reporting.py", "x = 'BEGIN IMMEDIATE'\n", "transaction"),
        ("service/web/x.py", "from service import db\nasync def f(c):\n    await db.append_audit(c)\n", "writes"),
        ("service/web/x.py", "from service import db\nasync def f(c):\n    await db.create_case(c)\n", "writes"),
        ("service/cli.py", "from service.web.api import token_hash\n", "imports service.web.api"),
        ("service/cli.py", "def _token():\n    from litestar import Router\n", "imports litestar"),
        ("service/db/x.py", "from service.web.context import page\n", "imports service.web.context"),
        ("service/db/x.py", "from service.actions import act\n", "imports service.actions"),
        ("service/actions/x.py", "from service.web import forms\n", "imports service.web"),
    ],
)
def test_each_rule_catches_what_it_forbids(tmp_path: Path, where: str, source: str, expected: str) -> None:
    """Each rule, given a module that breaks it, reports it (so a passing layering test means something)."""
    path = PROJECT_ROOT / where
    tree = ast.parse(source)
    writes = store_writes()
    found = (
        (core_violations(path, tree) if where.startswith("service/core/") else [])
        + transaction_violations(path, tree)
        + write_violations(path, tree, writes)
        + web_import_violations(path, tree)
        + store_imports_actions(path, tree)
    )
    assert any(expected in problem for problem in found), found


def test_serve_alone_may_start_the_web_layer_from_the_cli() -> None:
    tree = ast.parse("def _serve():\n    from service.app import create_app\n")
    assert web_import_violations(PROJECT_ROOT / "service/cli.py", tree) == []
