"""Local `$ref` resolution, and how deep the current path is into a recursive schema."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final, TypeAlias
from urllib.parse import unquote

from mockserver.engine.instances.errors import UnsatisfiableSchemaError
from mockserver.engine.instances.pointers import child_pointer

# The $ref targets expanded on the way to the current subschema (JSON pointers).
Trail: TypeAlias = tuple[str, ...]

# Once one $ref target has been entered this many times on the current path (a recursive
# schema), stop adding optional properties and array items so the recursion ends.
SOFT_REF_DEPTH: Final = 2
# Entering the same $ref target more often than this means the schema demands infinite nesting.
HARD_REF_DEPTH: Final = 12


def recursion_depth(trail: Trail) -> int:
    """How often the most repeated $ref target occurs on the trail (0: not recursive).

    Only a *repeated* target counts, so schemas that use `$ref` for every nested model (as
    pydantic does) are not mistaken for recursive ones."""
    return max((trail.count(target) for target in dict.fromkeys(trail)), default=0)


def has_ref(schema: Any) -> bool:
    if isinstance(schema, Mapping):
        return "$ref" in schema or any(has_ref(v) for v in schema.values())
    if isinstance(schema, list):
        return any(has_ref(v) for v in schema)
    return False


def resolve(root: Any, ref: Any, path: str) -> tuple[Any, str]:
    """The subschema a local `$ref` names in `root`, and its JSON pointer."""
    if not isinstance(ref, str):
        raise UnsatisfiableSchemaError(f"at {path!r}: $ref must be a string")
    target = ref
    root_id = root.get("$id") if isinstance(root, Mapping) else None
    if isinstance(root_id, str) and root_id and target.startswith(root_id.rstrip("#")):
        target = target[len(root_id.rstrip("#")) :]
    if target in ("", "#"):
        return root, "#"
    if target.startswith("#/"):
        node: Any = root
        for raw in target[2:].split("/"):
            part = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise UnsatisfiableSchemaError(f"at {path!r}: $ref {ref!r} does not resolve")
        return node, target
    if target.startswith("#"):
        found = _find_anchor(root, target[1:], "#")
        if found is not None:
            return found
    raise UnsatisfiableSchemaError(
        f"at {path!r}: unsupported $ref {ref!r} (only local references are supported)"
    )


def _find_anchor(node: Any, name: str, path: str) -> tuple[Any, str] | None:
    if isinstance(node, Mapping):
        if node.get("$anchor") == name:
            return node, path
        children: Iterator[tuple[str, Any]] = iter(node.items())
    elif isinstance(node, list):
        children = ((str(i), v) for i, v in enumerate(node))
    else:
        return None
    for key, child in children:
        found = _find_anchor(child, name, child_pointer(path, key))
        if found is not None:
            return found
    return None
