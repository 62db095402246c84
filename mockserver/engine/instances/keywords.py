"""JSON Schema keywords grouped by what they constrain, and small predicates over their values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from mockserver.engine.generation_limits import freeze

# Internal key of merged schemas: schemas that must hold too but could not be merged in.
RESIDUAL: Final = "\x00residual"


OBJECT_KEYS: Final = (
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "minProperties",
    "maxProperties",
    "propertyNames",
    "dependentRequired",
    "dependentSchemas",
    "dependencies",
    "unevaluatedProperties",
)
ARRAY_KEYS: Final = (
    "items",
    "prefixItems",
    "additionalItems",
    "minItems",
    "maxItems",
    "uniqueItems",
    "contains",
    "minContains",
    "maxContains",
    "unevaluatedItems",
)
STRING_KEYS: Final = ("minLength", "maxLength", "pattern")
NUMBER_KEYS: Final = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
)
NUMERIC_FORMATS: Final = ("int32", "int64", "float", "double")
# When merging, these take the larger / smaller of the two values.
LOWER_BOUNDS: Final = (
    "minimum",
    "exclusiveMinimum",
    "minLength",
    "minItems",
    "minProperties",
    "minContains",
)
UPPER_BOUNDS: Final = (
    "maximum",
    "exclusiveMaximum",
    "maxLength",
    "maxItems",
    "maxProperties",
    "maxContains",
)
# Annotations and containers that do not constrain the instance: merging keeps the first.
ANNOTATIONS: Final = (
    "title",
    "description",
    "$comment",
    "$schema",
    "$id",
    "$anchor",
    "$dynamicAnchor",
    "$defs",
    "definitions",
    "examples",
    "example",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
)
SINGLE_SUBSCHEMA_KEYS: Final = (
    "additionalProperties",
    "additionalItems",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "items",
)
SUBSCHEMA_MAP_KEYS: Final = (
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
)
SUBSCHEMA_LIST_KEYS: Final = ("allOf", "anyOf", "oneOf", "prefixItems", "items")


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def matches_type(value: object, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return is_number(value) and float(value).is_integer()  # type: ignore[arg-type]
    if kind == "number":
        return is_number(value)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return False


def json_equal(a: Any, b: Any) -> bool:
    return bool(freeze(a) == freeze(b))


def types_of(schema: Mapping[str, Any]) -> list[str] | None:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return list(dict.fromkeys(k for k in kind if isinstance(k, str)))
    return None


def intersect_types(a: list[str], b: list[str]) -> list[str]:
    out: list[str] = []
    for kind in a:
        if kind in b:
            out.append(kind)
        elif {kind, "number"} == {"integer", "number"} and ({"integer", "number"} & set(b)):
            out.append("integer")
    return list(dict.fromkeys(out))


def combine(a: Any, b: Any) -> Any:
    """Schema that is the conjunction of two subschemas, without merging them yet."""
    if a is False or b is False:
        return False
    if a is True or a == {}:
        return b
    if b is True or b == {} or json_equal(a, b):
        return a
    return {"allOf": [a, b]}


def validatable(schema: Any) -> Any:
    """A merged schema as a real JSON Schema: residuals become an allOf."""
    if isinstance(schema, Mapping) and RESIDUAL in schema:
        out = {k: v for k, v in schema.items() if k != RESIDUAL}
        out["allOf"] = list(schema[RESIDUAL])
        return out
    return schema


def as_number(value: object) -> int | float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None
