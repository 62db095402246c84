"""Apply OpenAPI Overlay 1.0 documents to a spec document.

Written by hand on top of python-jsonpath (an RFC 9535 implementation) because the one
overlay library on PyPI (``oas-patch``) sits on a non-RFC JSONPath engine and crashes on
filter selectors inside ``oneOf`` (specs/README.md §2). The applier is small; what it adds
over the Overlay 1.0 text is one rule: an action whose target selects nothing is an
error, because it means the published spec changed under the correction.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonpath
import yaml

from harness.errors import OverlayError

# Lists whose entries are a set: merging must not repeat a value (an `enum` that
# gains `null` from two actions would otherwise list it twice).
_SET_LIKE_KEYS = frozenset({"enum", "required", "type"})


@dataclass(frozen=True)
class OverlayAction:
    """One action of an overlay: a JSONPath target and either an update or a removal."""

    target: str
    description: str
    update: Any = None
    remove: bool = False
    drift_id: str | None = None
    evidence: str | None = None


@dataclass(frozen=True)
class Overlay:
    """A parsed overlay document."""

    title: str
    extends: str | None
    actions: tuple[OverlayAction, ...]
    source: str = "<overlay>"


def read_overlay(path: Path) -> Overlay:
    """Parse an overlay file (YAML or JSON) and check its shape."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise OverlayError(f"{path}: cannot read overlay: {exc}") from exc
    return parse_overlay(raw, source=str(path))


def parse_overlay(raw: Any, source: str = "<overlay>") -> Overlay:
    """Check an overlay document's shape and turn it into an :class:`Overlay`."""
    if not isinstance(raw, Mapping) or not str(raw.get("overlay", "")).startswith("1."):
        raise OverlayError(f"{source}: not an Overlay 1.x document (missing `overlay: 1.0.0`)")
    info = raw.get("info")
    if not isinstance(info, Mapping) or "title" not in info:
        raise OverlayError(f"{source}: `info.title` is required")
    actions_raw = raw.get("actions")
    if not isinstance(actions_raw, list) or not actions_raw:
        raise OverlayError(f"{source}: `actions` must be a non-empty list")
    actions = []
    for number, item in enumerate(actions_raw):
        where = f"{source}: actions[{number}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("target"), str):
            raise OverlayError(f"{where}: each action needs a string `target`")
        remove = bool(item.get("remove", False))
        if remove == ("update" in item):
            raise OverlayError(f"{where}: give exactly one of `update` or `remove: true`")
        actions.append(
            OverlayAction(
                target=item["target"],
                description=str(item.get("description", "")),
                update=item.get("update"),
                remove=remove,
                drift_id=item.get("x-drift-id"),
                evidence=item.get("x-evidence"),
            )
        )
    extends = raw.get("extends")
    return Overlay(
        title=str(info["title"]),
        extends=str(extends) if extends is not None else None,
        actions=tuple(actions),
        source=source,
    )


def apply_overlay(document: Any, overlay: Overlay) -> Any:
    """Return a copy of ``document`` with every action of ``overlay`` applied in order."""
    result = copy.deepcopy(document)
    for number, action in enumerate(overlay.actions):
        result = apply_action(result, action, where=f"{overlay.source}: actions[{number}]")
    return result


def apply_action(document: Any, action: OverlayAction, where: str = "action") -> Any:
    """Apply one action in place and return the document; zero matches raise."""
    try:
        matches = list(jsonpath.finditer(action.target, document))
    except jsonpath.JSONPathError as exc:
        raise OverlayError(f"{where}: bad JSONPath {action.target!r}: {exc}") from exc
    if not matches:
        raise OverlayError(
            f"{where}: target {action.target!r} selects nothing; the published spec "
            f"changed under this correction ({action.description or 'no description'})"
        )
    if action.remove:
        _remove_matches(matches, where)
        return document
    for match in matches:
        node = match.obj
        if isinstance(node, dict) and isinstance(action.update, Mapping):
            _merge_into(node, action.update)
        elif isinstance(node, list):
            values = action.update if isinstance(action.update, list) else [action.update]
            node.extend(copy.deepcopy(values))
        else:
            raise OverlayError(
                f"{where}: `update` needs an object or array target, got {type(node).__name__}"
                f" at {match.path}"
            )
    return document


def _remove_matches(matches: list[Any], where: str) -> None:
    # Remove list entries from the highest index down so earlier removals do not
    # shift the positions of later ones.
    ordered = sorted(
        matches,
        key=lambda m: m.parts[-1] if m.parts and isinstance(m.parts[-1], int) else -1,
        reverse=True,
    )
    for match in ordered:
        if match.parent is None or not match.parts:
            raise OverlayError(f"{where}: cannot remove the document root")
        parent = match.parent.obj
        key = match.parts[-1]
        if isinstance(parent, dict):
            parent.pop(key, None)
        elif isinstance(parent, list) and isinstance(key, int):
            del parent[key]
        else:
            raise OverlayError(f"{where}: cannot remove {match.path}")


def _merge_into(target: dict[str, Any], update: Mapping[str, Any]) -> None:
    """Overlay 1.0 merge: objects merge recursively, arrays concatenate, primitives replace."""
    for key, value in update.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            _merge_into(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            additions = copy.deepcopy(value)
            if key in _SET_LIKE_KEYS:
                additions = [item for item in additions if item not in current]
            current.extend(additions)
        else:
            target[key] = copy.deepcopy(value)
