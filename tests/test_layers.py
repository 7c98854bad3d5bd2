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
# transaction that an action holds (the sign-in's), or inside a short housekeeping write (`Database.housekeeping`,
# which appends nothing to the audit chain).
BOOKKEEPING_WRITES = {
    "service/throttle.py": {"record_failure", "clear_failures", "forget_failure"},  # sign-in throttling's counters
    # who is signed in: the session middleware's store, in housekeeping writes
    "service/web/session_store.py": {"store_session", "end_session", "end_all_sessions", "delete_expired_sessions"},
    # replacing the whole file, by `handover restore` with the service stopped (recorded by actions.maintenance)
    "service/cli.py": {"restore"},
}
WEB = ("service.web", "service.app", "litestar")


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files(folder: Path = SERVICE) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(PROJECT_ROOT).as_posix()


def imports(tree: ast.AST, *, module_level_only: bool = False, package: str = "") -> list[tuple[str, int]]:
    """Every module this source imports, with its line; `module_level_only` skips imports inside functions and
    classes. Relative imports are resolved against `package` (the importing module's package)."""
    found: list[tuple[str, int]] = []
    nodes = tree.body if module_level_only and isinstance(tree, ast.Module) else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            found.append((base, node.lineno))
            found.extend((f"{base}.{alias.name}", node.lineno) for alias in node.names)
    return found


def package_of(path: Path) -> str:
    name = module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def transactions_opened(tree: ast.AST) -> list[int]:
    """Lines that open a write transaction or write by SQL: `<anything>.transaction()`, or SQL text that begins or
    commits a transaction or changes rows."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "transaction":
            lines.append(node.lineno)
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text and re.search(r"\b(BEGIN|COMMIT|SAVEPOINT)\b|^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", node.value):
            lines.append(node.lineno)
    return lines


def store_writes() -> set[str]:
    """The store's functions whose SQL changes rows (INSERT, UPDATE, DELETE), found from their text, and those that
    call one of them (`append_audit` appends through `append_audit_stored`)."""
    texts = {}
    for path in source_files(SERVICE / "db"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) and not node.name.startswith("_"):
                texts[node.name] = ast.get_source_segment(path.read_text(), node) or ""
    writes = {name for name, text in texts.items() if re.search(r"\b(INSERT|UPDATE|DELETE)\b", text)}
    while True:
        calling = {name for name, text in texts.items() if any(re.search(rf"\b{w}\(", text) for w in writes)}
        if calling <= writes:
            return writes
        writes |= calling


def store_aliases(tree: ast.AST) -> tuple[set[str], set[str]]:
    """Names bound to the store or one of its modules, and names bound to functions imported from it."""
    modules, functions = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if within(alias.name, ("service.db",)):
                    modules.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                bound = alias.asname or alias.name
                if node.module == "service" and alias.name == "db":
                    modules.add(bound)
                elif within(node.module, ("service.db",)):
                    (modules if alias.name in STORE_MODULES else functions).add(bound)
    return modules, functions


STORE_MODULES = {path.stem for path in (SERVICE / "db").glob("*.py")}


def calls_to(tree: ast.AST, names: set[str]) -> list[tuple[str, int]]:
    """Calls (or any other use) of the store's functions among `names`: `db.<name>`, `<store module>.<name>`, or a
    name imported from the store, also when it is first assigned to a variable."""
    modules, functions = store_aliases(tree)
    modules.add("db")
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in names:
            base = node.value
            while isinstance(base, ast.Attribute):  # service.db.handovers.save_section
                base = base.value
            if isinstance(base, ast.Name) and base.id in modules:
                found.append((node.attr, node.lineno))
        elif isinstance(node, ast.Name) and node.id in names and node.id in functions:
            found.append((node.id, node.lineno))
    return found


# ---------------------------------------------------------------- the rules, each over every module it concerns


def core_violations(path: Path, tree: ast.AST) -> list[str]:
    """The core imports from the service only the core and the definitions read from data files: the checklists, the
    time limits and the letters."""
    return [
        f"{relative(path)}:{line} imports {name}"
        for name, line in imports(tree, package=package_of(path))
        if within(name, ("service",))
        and not within(name, ("service.core", "service.checklist", "service.time_limits", "service.letters"))
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
        serve = [
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == "_serve"
        ]
        allowed = {id(node) for function in serve for node in ast.walk(function)}
        found = [
            item
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in allowed
            for item in imports(ast.Module(body=[node], type_ignores=[]))
        ]
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
    assert {
        "save_section",
        "append_audit",
        "append_audit_stored",
        "create_case",
        "create_user",
        "revoke_api_token",
    } <= (store_writes())
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
        ("service/core/x.py", "from ..web import forms\n", "imports service.web"),
        ("service/web/x.py", "from service.db import handovers as h\nh.update_handover(1)\n", "writes"),
        ("service/web/x.py", "import service.db as store\nstore.create_case(1)\n", "writes"),
        ("service/web/x.py", "from service.db.cases import create_case\nmake = create_case\n", "writes"),
        (
            "service/web/x.py",
            "async def f(d):\n    await d.reader.execute('UPDATE handovers SET state = 1')\n",
            "trans",
        ),
        ("service/cli.py", "class C:\n    import litestar\n", "imports litestar"),
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
