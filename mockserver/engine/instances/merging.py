"""Merging: the best-effort conjunction of two flattened schemas (`$ref`, `allOf`, branches)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

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
            continue
        av = out[key]
        if key in ANNOTATIONS or json_equal(av, bv):
            continue
        if key == "type":
            ta, tb = types_of(a) or [], types_of(b) or []
            common = intersect_types(ta, tb)
            if not common:
                raise UnsatisfiableSchemaError(
                    f"at {path!r}: allOf requires type {av!r} and type {bv!r} at once"
                    " (keyword 'type')"
                )
            out["type"] = common if len(common) > 1 else common[0]
        elif key in ("properties", "patternProperties") and isinstance(av, Mapping):
            merged = dict(av)
            for name, sub in bv.items() if isinstance(bv, Mapping) else ():
                merged[name] = combine(merged[name], sub) if name in merged else sub
            out[key] = merged
        elif key == "required" and isinstance(av, list) and isinstance(bv, list):
            out[key] = list(dict.fromkeys([*av, *bv]))
        elif key == "enum" and isinstance(av, list) and isinstance(bv, list):
            common_values = [v for v in av if any(json_equal(v, w) for w in bv)]
            if not common_values:
                raise UnsatisfiableSchemaError(
                    f"at {path!r}: allOf branches share no enum value (keyword 'enum')"
                )
            out[key] = common_values
        elif key == "const":
            raise UnsatisfiableSchemaError(
                f"at {path!r}: allOf requires const {av!r} and const {bv!r} (keyword 'const')"
            )
        elif key in LOWER_BOUNDS and is_number(av) and is_number(bv):
            out[key] = max(av, bv)
        elif key in UPPER_BOUNDS and is_number(av) and is_number(bv):
            out[key] = min(av, bv)
        elif key == "multipleOf" and is_number(av) and is_number(bv):
            if isinstance(av, int) and isinstance(bv, int):
                out[key] = math.lcm(av, bv)
            else:
                fa, fb = Fraction(repr(av)), Fraction(repr(bv))
                both = Fraction(
                    math.lcm(fa.numerator, fb.numerator),
                    math.gcd(fa.denominator, fb.denominator),
                )
                out[key] = int(both) if both.denominator == 1 else float(both)
                residual += [{"multipleOf": av}, {"multipleOf": bv}]
        elif key == "uniqueItems":
            out[key] = bool(av) or bool(bv)
        elif key == "not":
            out[key] = {"anyOf": [av, bv]}
        elif (
            key == "anyOf"
            and isinstance(av, list)
            and isinstance(bv, list)
            and (len(av) * len(bv) <= 64)
        ):
            out[key] = [{"allOf": [x, y]} for x in av for y in bv]
        elif (
            key in SINGLE_SUBSCHEMA_KEYS
            and not isinstance(av, list | tuple)
            and (not isinstance(bv, list | tuple))
            and key not in ("contains", "not", "if", "then", "else")
        ):
            out[key] = combine(av, bv)
        elif key in ("if", "then", "else"):
            conditional = {k: b[k] for k in ("if", "then", "else") if k in b}
            if conditional not in residual:
                residual.append(conditional)
        else:
            # pattern, format, oneOf, contains, dependencies, ...: checked afterwards.
            residual.append({key: bv})
    _restrict_additional(out, a, b, path)
    if residual:
        out[RESIDUAL] = residual
    return out


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
