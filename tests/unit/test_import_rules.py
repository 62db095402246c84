"""The arrows between the two packages point one way: ``mockserver`` builds on ``harness``.

``harness`` is the contract library (specs, schemas, validation, the wire formats, the OpenAI
error envelope); it reaches into ``mockserver`` only where a server is put together: the
composition roots below. And the mock never reaches back into those roots. Read from the
source with :mod:`ast`, so an import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Module (path from the repository root) -> the functions inside it that may import the mock;
# None: the whole module is a composition root.
COMPOSITION_ROOTS: dict[str, frozenset[str] | None] = {
    "harness/cli/serve.py": None,
    "harness/testing.py": None,
    "harness/pytest_plugin.py": None,
    # `harness cassettes compare` without --target starts the mock as its default target.
    "harness/cli/cassettes.py": frozenset({"compare"}),
}
ROOTS_THE_MOCK_NEVER_IMPORTS = ("harness.cli", "harness.testing", "harness.pytest_plugin")


def imports(tree: ast.AST) -> Iterator[tuple[str, list[str]]]:
    """Every absolute module an import names, with the functions it sits in (outermost first)."""

    def walk(node: ast.AST, scope: list[str]) -> Iterator[tuple[str, list[str]]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, scope
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                yield child.module, scope
                for alias in child.names:  # `from harness import cli`
                    yield f"{child.module}.{alias.name}", scope
            inner = (
                [*scope, child.name]
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                else scope
            )
            yield from walk(child, inner)

    yield from walk(tree, [])


def names(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def harness_to_mock(path: Path) -> list[str]:
    relative = path.relative_to(ROOT).as_posix()
    allowed = COMPOSITION_ROOTS.get(relative, frozenset())
    return [
        f"{relative}: imports {module}" + (f" in {'.'.join(scope)}" if scope else "")
        for module, scope in imports(ast.parse(path.read_text(encoding="utf-8")))
        if names(module, "mockserver") and not (allowed is None or (scope and scope[0] in allowed))
    ]


def mock_to_roots(path: Path) -> list[str]:
    relative = path.relative_to(ROOT).as_posix()
    return [
        f"{relative}: imports {module}"
        for module, _ in imports(ast.parse(path.read_text(encoding="utf-8")))
        if any(names(module, root) for root in ROOTS_THE_MOCK_NEVER_IMPORTS)
    ]


def test_the_contract_library_imports_the_mock_only_in_its_composition_roots() -> None:
    found = [line for path in sources("harness") for line in harness_to_mock(path)]
    assert found == []


def test_the_mock_never_imports_the_composition_roots() -> None:
    found = [line for path in sources("mockserver") for line in mock_to_roots(path)]
    assert found == []


def test_the_composition_roots_exist() -> None:
    # A renamed root would make its entry allow nothing and the rule pass for the wrong reason.
    for relative, functions in COMPOSITION_ROOTS.items():
        tree = ast.parse((ROOT / relative).read_text(encoding="utf-8"))
        defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        assert functions is None or functions <= defined, relative


@pytest.mark.parametrize(
    ("source", "path", "broken"),
    [
        ("from mockserver.errors import ErrorReply\n", "harness/cassettes/replay.py", True),
        ("def f():\n    import mockserver.app\n", "harness/validate.py", True),
        ("from mockserver import MockConfig\n", "harness/cli/cassettes.py", True),
        (
            "def compare():\n    from mockserver import MockConfig\n",
            "harness/cli/cassettes.py",
            False,
        ),
        ("from mockserver import create_app\n", "harness/cli/serve.py", False),
        ("import mockservers\n", "harness/validate.py", False),
    ],
)
def test_the_rule_sees_what_it_is_meant_to_see(
    tmp_path: Path, source: str, path: str, broken: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    target = tmp_path / path
    target.parent.mkdir(parents=True)
    target.write_text(source, encoding="utf-8")
    assert bool(harness_to_mock(target)) is broken


@pytest.mark.parametrize(
    ("source", "broken"),
    [
        ("from harness.testing import LiveServer\n", True),
        ("def f():\n    from harness.cli import serve\n", True),
        ("from harness import pytest_plugin\n", True),
        ("from harness.sse import dump_json\n", False),
    ],
)
def test_the_reverse_rule_sees_what_it_is_meant_to_see(
    tmp_path: Path, source: str, broken: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    target = tmp_path / "mockserver" / "app.py"
    target.parent.mkdir(parents=True)
    target.write_text(source, encoding="utf-8")
    assert bool(mock_to_roots(target)) is broken


# Reading files for the CLI (harness.inputs) and the CLI itself sit above the library:
# the contract runner and the spec index never reach up into them.
LAYERED_BELOW_THE_CLI = ("harness/contract", "harness/spec")
ABOVE_THE_LIBRARY = ("harness.inputs", "harness.cli")


def test_the_contract_and_spec_packages_do_not_import_the_cli_layer() -> None:
    found = [
        f"{path.relative_to(ROOT).as_posix()}: imports {module}"
        for folder in LAYERED_BELOW_THE_CLI
        for path in sources(folder)
        for module, _ in imports(ast.parse(path.read_text(encoding="utf-8")))
        if any(names(module, above) for above in ABOVE_THE_LIBRARY)
    ]
    assert found == []
