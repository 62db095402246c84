"""The packages' public names, pinned: adding, renaming or dropping one is a deliberate change.

A name users import from ``harness`` or ``mockserver`` is a promise; a refactor that moves a
module must keep these, and one that changes them must change this list too.
"""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "harness": [
        "CompiledSchema",
        "HarnessError",
        "Operation",
        "OverlayError",
        "SpecLoadError",
        "SpecSet",
        "TaggedUnion",
        "UsageError",
        "Violation",
        "__version__",
        "load_specs",
        "to_json_schema",
    ],
    "mockserver": ["MockConfig", "close_app", "create_app"],
}


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_all_is_exactly_the_pinned_list(package: str) -> None:
    module = importlib.import_module(package)
    assert sorted(module.__all__) == PUBLIC[package]
    assert len(set(module.__all__)) == len(module.__all__)


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_every_public_name_imports_and_star_import_gives_exactly_them(package: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {package} import *", namespace)  # what `import *` users get
    namespace.pop("__builtins__")
    assert sorted(namespace) == PUBLIC[package]
    assert all(value is not None for value in namespace.values())
