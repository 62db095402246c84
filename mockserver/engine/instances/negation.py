"""Schemas that violate one keyword: how `not` is met without blind redraws."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from mockserver.engine.instances.keywords import as_number

ALL_TYPES: Final = ("string", "integer", "number", "boolean", "object", "array", "null")
# keyword -> (type it applies to, keyword that expresses its violation, offset to the bound)
_NEGATED_BOUNDS: Final[Mapping[str, tuple[str, str, int]]] = {
    "minimum": ("number", "exclusiveMaximum", 0),
    "exclusiveMinimum": ("number", "maximum", 0),
    "maximum": ("number", "exclusiveMinimum", 0),
    "exclusiveMaximum": ("number", "minimum", 0),
    "minLength": ("string", "maxLength", -1),
    "maxLength": ("string", "minLength", 1),
    "minItems": ("array", "maxItems", -1),
    "maxItems": ("array", "minItems", 1),
    "minProperties": ("object", "maxProperties", -1),
    "maxProperties": ("object", "minProperties", 1),
}


def negate_keyword(key: str, value: Any) -> list[Mapping[str, Any]]:
    """Schemas whose instances violate the single keyword `key: value` (empty if unknown)."""
    if key == "type":
        kinds = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        others = [t for t in ALL_TYPES if t not in kinds]
        if "number" in kinds:
            others = [t for t in others if t != "integer"]
        return [{"type": others}] if others and kinds else []
    if key in _NEGATED_BOUNDS and as_number(value) is not None:
        kind, opposite, offset = _NEGATED_BOUNDS[key]
        bound = value + offset
        return [{"type": kind, opposite: bound}] if bound >= 0 or kind == "number" else []
    if key == "required" and isinstance(value, list):
        return [
            {"type": "object", "properties": {name: False}}
            for name in value
            if isinstance(name, str)
        ]
    return []
