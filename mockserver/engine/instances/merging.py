"""Merging: the best-effort conjunction of two flattened schemas (`$ref`, `allOf`, branches)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any, Final, TypeAlias

from mockserver.engine.instances.errors import UnsatisfiableSchemaError
from mockserver.engine.instances.keywords import (
    ANNOTATIONS,
    LOWER_BOUNDS,
    RESIDUAL,
    SINGLE_SUBSCHEMA_KEYS,
    UPPER_BOUNDS,
    combine,
    intersect_types,
    is_number,
    json_equal,
    types_of,
)
from mockserver.engine.instances.regex_strings import search_pattern

# What a keyword rule returns when it cannot combine the two values exactly: the second value
# is then kept as a residual schema and checked after generation.
_UNMERGED: Final = object()

KeywordRule: TypeAlias = Callable[[Any, Any, str, list[Any]], Any]


def merge(a: Mapping[str, Any], b: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    """Best-effort conjunction of two flattened schemas (exact for the common keywords)."""
    if not b:
        return a
    if not a:
        return b
    out: dict[str, Any] = dict(a)
    residual: list[Any] = [*a.get(RESIDUAL, ()), *b.get(RESIDUAL, ())]
    for key, bv in b.items():
        if key == RESIDUAL:
            continue
        if key not in out:
            out[key] = bv
        else:
            _merge_keyword(out, key, bv, b, path, residual)
    _restrict_additional(out, a, b, path)
    if residual:
        out[RESIDUAL] = residual
    return out


def _merge_keyword(
    out: dict[str, Any], key: str, bv: Any, b: Mapping[str, Any], path: str, residual: list[Any]
) -> None:
    """Fold `key: bv` of schema `b` into `out`, which already has `key`."""
    av = out[key]
    if key in ANNOTATIONS or json_equal(av, bv):
        return
    if key in ("if", "then", "else"):
        conditional = {k: b[k] for k in ("if", "then", "else") if k in b}
        if conditional not in residual:
            residual.append(conditional)
        return
    rule = _RULES.get(key)
    merged = _UNMERGED if rule is None else rule(av, bv, path, residual)
    if merged is _UNMERGED:
        # pattern, format, oneOf, contains, dependencies, ...: checked afterwards.
        residual.append({key: bv})
    else:
        out[key] = merged


# -- one rule per keyword: (value in a, value in b, path, residual list) -> merged value --------


def _merge_type(av: Any, bv: Any, path: str, residual: list[Any]) -> Any:
    common = intersect_types(types_of({"type": av}) or [], types_of({"type": bv}) or [])
    if not common:
        raise UnsatisfiableSchemaError(
            f"at {path!r}: allOf requires type {av!r} and type {bv!r} at once (keyword 'type')"
        )
    return common if len(common) > 1 else common[0]


def _merge_subschema_map(av: Any, bv: Any, path: str, residual: list[Any]) -> Any:
    if not isinstance(av, Mapping):
        return _UNMERGED
    merged = dict(av)
    for name, sub in bv.items() if isinstance(bv, Mapping) else ():
        merged[name] = combine(merged[name], sub) if name in merged else sub
    return merged


def _merge_required(av: Any, bv: Any, path: str, residual: list[Any]) -> Any:
    if isinstance(av, list) and isinstance(bv, list):
        return list(dict.fromkeys([*av, *bv]))
    return _UNMERGED


def _merge_enum(av: Any, bv: Any, path: str, residual: list[Any]) -> Any:
    if not (isinstance(av, list) and isinstance(bv, list)):
        return _UNMERGED
    common_values = [v for v in av if any(json_equal(v, w) for w in bv)]
    if not common_values:
        raise UnsatisfiableSchemaError(
            f"at {path!r}: allOf branches share no enum value (keyword 'enum')"
        )
    return common_values


def _merge_const(av: Any, bv: Any, path: str, residual: list[Any]) -> Any:
    raise UnsatisfiableSchemaError(
        f"at {path!r}: allOf requires const {av!r} and const {bv!r} (keyword 'const')"
    )


def _larger(av: Any, bv: Any, path: str, residual: list[Any]) -> Any:
    return max(av, bv) if is_number(av) and is_number(bv) else _UNMERGED


def _smaller(av: Any, bv: Any, path: str, residual: list[Any]) -> Any:
    return min(av, bv) if is_number(av) and is_number(bv) else _UNMERGED


def _merge_multiple_of(av: Any, bv: Any, path: str, residual: list[Any]) -> Any:
    if not (is_number(av) and is_number(bv)):
        return _UNMERGED
    if isinstance(av, int) and isinstance(bv, int):
        return math.lcm(av, bv)
    # The exact least common multiple of the decimals; jsonschema's float check may still
    # disagree, so both originals stay as residuals.
    fa, fb = Fraction(repr(av)), Fraction(repr(bv))
    both = Fraction(
        math.lcm(fa.numerator, fb.numerator),
        math.gcd(fa.denominator, fb.denominator),
    )
    residual += [{"multipleOf": av}, {"multipleOf": bv}]
    return int(both) if both.denominator == 1 else float(both)


def _merge_unique_items(av: Any, bv: Any, path: str, residual: list[Any]) -> Any:
    return bool(av) or bool(bv)


def _merge_not(av: Any, bv: Any, path: str, residual: list[Any]) -> Any:
    return {"anyOf": [av, bv]}


def _merge_any_of(av: Any, bv: Any, path: str, residual: list[Any]) -> Any:
    if isinstance(av, list) and isinstance(bv, list) and len(av) * len(bv) <= 64:
        return [{"allOf": [x, y]} for x in av for y in bv]
    return _UNMERGED


def _merge_subschema(av: Any, bv: Any, path: str, residual: list[Any]) -> Any:
    if isinstance(av, list | tuple) or isinstance(bv, list | tuple):
        return _UNMERGED
    return combine(av, bv)


_RULES: Final[Mapping[str, KeywordRule]] = {
    # Single subschemas whose conjunction is their allOf (`contains`, `not` and the
    # conditional keywords are not: two `contains` may be met by different items).
    **{
        key: _merge_subschema
        for key in SINGLE_SUBSCHEMA_KEYS
        if key not in ("contains", "not", "if", "then", "else")
    },
    **{key: _larger for key in LOWER_BOUNDS},
    **{key: _smaller for key in UPPER_BOUNDS},
    "type": _merge_type,
    "properties": _merge_subschema_map,
    "patternProperties": _merge_subschema_map,
    "required": _merge_required,
    "enum": _merge_enum,
    "const": _merge_const,
    "multipleOf": _merge_multiple_of,
    "uniqueItems": _merge_unique_items,
    "not": _merge_not,
    "anyOf": _merge_any_of,
}


def _restrict_additional(
    out: dict[str, Any], a: Mapping[str, Any], b: Mapping[str, Any], path: str
) -> None:
    """Apply one side's `additionalProperties` to the properties only the other side names."""
    for side, other in ((a, b), (b, a)):
        extra = side.get("additionalProperties", True)
        if extra is True or extra == {}:
            continue
        own = side.get("properties", {})
        patterns = side.get("patternProperties", {})

        def covered(name: str, own: Any = own, patterns: Any = patterns) -> bool:
            return name in own or any(search_pattern(p, name) for p in patterns)

        for name in other.get("required", []):
            if not covered(name) and extra is False:
                raise UnsatisfiableSchemaError(
                    f"at {path!r}: property {name!r} is required but another allOf branch"
                    " forbids it (keyword 'additionalProperties')"
                )
        props = dict(out.get("properties", {}))
        for name in other.get("properties", {}):
            if name in props and not covered(name):
                if extra is False:
                    del props[name]
                else:
                    props[name] = combine(props[name], extra)
        if "properties" in out:
            out["properties"] = props
