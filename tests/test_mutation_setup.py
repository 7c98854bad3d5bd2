"""The mutation-testing set-up stays runnable and honest (the run itself is by hand: scripts/mutation.sh).

What is mutated and which tests judge it are in pyproject.toml; every survivor kept is in bench/mutation_accepted/
with why. These checks catch the set-up rotting between runs: a listed test folder gone, an accepted survivor naming a
function that no longer exists, a reason that says neither "equivalent" nor "accepted", or a slow test (one that
starts the app) creeping into the selection, which would take the full run past an hour.
"""

from __future__ import annotations

import ast
import fnmatch
import re
import tomllib
from pathlib import Path

import pytest

from bench.mutation import ACCEPTED, accepted

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mutmut"]
# mutmut's names: module.x_function__mutmut_N, or module.xǁClassǁmethod__mutmut_N for a method
MUTANT_NAME = re.compile(r"(?P<module>[a-z_.]+)\.x(?:_|ǁ[A-Za-z0-9_]+ǁ)(?P<function>[A-Za-z0-9_]+?)__mutmut_[0-9]+")


def test_every_test_path_in_the_selection_exists() -> None:
    for path in CONFIG["pytest_add_cli_args_test_selection"]:
        assert (ROOT / path).exists(), path


def test_every_module_pattern_to_mutate_matches_a_file() -> None:
    sources = [str(path.relative_to(ROOT)) for path in (ROOT / "service").rglob("*.py")]
    for pattern in CONFIG["only_mutate"]:
        assert any(fnmatch.fnmatch(source, pattern) for source in sources), pattern


def test_the_selection_never_starts_the_app() -> None:
    """Each mutant runs the selected tests that reach it: an HTTP test costs a hundred times a core one."""
    for path in CONFIG["pytest_add_cli_args_test_selection"]:
        files = sorted((ROOT / path).rglob("test_*.py")) if (ROOT / path).is_dir() else [ROOT / path]
        for file in files:
            text = file.read_text(encoding="utf-8")
            assert "site: Site" not in text and "AsyncTestClient" not in text, file


@pytest.mark.parametrize("path", sorted(ACCEPTED.glob("*.toml")), ids=lambda path: path.name)
def test_every_accepted_survivor_says_why_and_names_a_function_that_exists(path: Path) -> None:
    entries = tomllib.loads(path.read_text(encoding="utf-8"))["mutants"]
    assert entries, path
    for name, why in entries.items():
        assert why.startswith(("equivalent: ", "accepted: ")), (name, why)
        assert len(why) > len("equivalent: ") + 20, (name, "say why in a sentence")
        match = MUTANT_NAME.fullmatch(name)
        assert match, name
        source = ROOT / (match["module"].replace(".", "/") + ".py")
        functions = {
            node.name
            for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        assert match["function"] in functions, (name, "no such function: the code changed; run the mutation again")


def test_accepted_survivors_are_read_from_every_file() -> None:
    names = accepted()
    for path in ACCEPTED.glob("*.toml"):
        assert set(tomllib.loads(path.read_text(encoding="utf-8"))["mutants"]) <= set(names)
