"""Generate plausible JSON values that are valid against a JSON Schema.

The mock server needs such values in two places: the ``arguments`` of a fabricated tool call must
validate against the function's ``parameters`` schema, and a structured-output reply must validate
against the requested ``json_schema``.  :func:`generate_instance` produces them.

How it works
------------
* The schema is normalised once (OpenAPI 3.0 ``nullable``, draft-4 boolean
  ``exclusiveMinimum``/``exclusiveMaximum``, draft-7 tuple ``items`` under 2020-12) and compiled
  into a :mod:`jsonschema` validator; both are cached by the JSON text of the schema.
* The generator walks the schema keyword by keyword.  ``$ref`` and ``allOf`` are folded into a
  single schema by *merging*; ``anyOf``/``oneOf``/``if`` pick a branch in rng order and merge it
  with the surrounding keywords.  Merging is best effort: whatever it cannot combine exactly is
  kept as a "residual" schema and checked after generation.
* Values look like something a model would send: words, city and person names chosen from the
  property name, small non-negative integers, about half of the optional properties.
* Every result is validated with :mod:`jsonschema` before it is returned (see
  :func:`generate_instance` for why) and regenerated a bounded number of times if it fails.
* The work is bounded (:mod:`engine.generation_limits`): string lengths, item counts, depth,
  steps and output per request, regex matches with a timeout. A schema that needs more raises
  :class:`GenerationLimitError`; one that no value satisfies, :class:`UnsatisfiableSchemaError`.
* A ``suggest`` callback may propose values for named properties (the user's own words for a
  tool call, see :mod:`engine.mentions`); a proposal is kept only if the schema accepts it.

Output is a pure function of the schema and the rng state: no global ``random``, no clock, no
iteration over sets (``PYTHONHASHSEED`` would change the order between processes).

Keywords
--------
Generated directly: ``type`` (single, list, or inferred from the other keywords), ``properties``,
``required``, ``additionalProperties``, ``patternProperties``, ``propertyNames`` (pattern),
``minProperties``/``maxProperties``, ``dependentRequired`` (and array-valued ``dependencies``),
``enum``, ``const``, ``items``/``prefixItems``/``additionalItems``, ``minItems``/``maxItems``,
``uniqueItems``, ``contains``, ``minLength``/``maxLength``, ``pattern``, ``format`` (date-time,
date, time, email, uri, uuid, ipv4, ipv6, hostname, duration, ...), ``minimum``/``maximum``/
``exclusiveMinimum``/``exclusiveMaximum`` (draft-4 boolean and draft-6+ numeric forms),
``multipleOf``, ``allOf``, ``anyOf``, ``oneOf`` (exactly one branch, verified), ``not`` (a
variant violating one of its keywords, else redraw), ``if``/``then``/``else``, local ``$ref``
(JSON pointers, ``#``, ``$anchor``; recursion is bounded), ``nullable``, ``default``/``examples``/
``example``, boolean schemas.  Anything else (``dependentSchemas``, ``unevaluated*``,
``minContains``, ...) is only honoured through the final validate-and-redraw loop.  Remote
``$ref`` and draft-03 schemas are rejected.  Patterns use Python ``re`` syntax.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import random
import re
import string
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import chain
from typing import Any, Final, TypeAlias
from urllib.parse import unquote

import jsonschema  # type: ignore[import-untyped]
import jsonschema_rs
import referencing.exceptions
import regex  # type: ignore[import-untyped]  # no type information is installed
from jsonschema import validators as _jsv
from rstr.xeger import Xeger

from mockserver.engine.generation_limits import (
    BOUNDED_KEYWORDS,
    MAX_REF_CHAIN,
    MAX_STRING_LENGTH,
    MAX_VALUE_DEPTH,
    GenerationBudget,
    GenerationLimitError,
    check_count,
    check_pattern,
    check_schema_shape,
    check_string_length,
    freeze,
    search,
)

__all__ = ["GenerationLimitError", "Suggest", "UnsatisfiableSchemaError", "generate_instance"]

Schema: TypeAlias = Mapping[str, Any] | bool
# Proposes values for the property `name` with schema `schema`, best first (see
# engine.mentions); the generator keeps the first one the schema accepts.
Suggest: TypeAlias = Callable[[str, Mapping[str, Any]], Sequence[Any]]
# The $ref targets expanded on the way to the current subschema (JSON pointers).
_Trail: TypeAlias = tuple[str, ...]

# Whole-value attempts: a failed final validation is retried with fresh rng draws.
_MAX_ATTEMPTS: Final = 12
# Retries of a single node (pattern strings, `not`, residual checks).
_LOCAL_ATTEMPTS: Final = 6
# Attempts per anyOf/oneOf branch before moving on to the next branch.
_BRANCH_ATTEMPTS: Final = 2
# Once one $ref target has been entered this many times on the current path (a recursive
# schema), stop adding optional properties and array items so the recursion ends.
_SOFT_REF_DEPTH: Final = 2
# Entering the same $ref target more often than this means the schema demands infinite nesting.
_HARD_REF_DEPTH: Final = 12
# A multipleOf below this overflows value / step for plausible values (see _generate_integer).
_TINY_STEP: Final = 1e-300
# Enums longer than this are sampled instead of shuffled (see _generate_large_enum).
_SAMPLED_ENUM_SIZE: Final = 64
# Characters a regex draw may emit beyond what the string needs, before it is redrawn.
_XEGER_SLACK: Final = 1024
# How far beyond its minimum a regex repeat (`*`, `+`, `{2,}`) may go: keeps strings short.
_REPEAT_SPAN: Final = 6
# Internal key of merged schemas: schemas that must hold too but could not be merged in.
_RESIDUAL: Final = "\x00residual"

_OBJECT_KEYS: Final = (
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
_ARRAY_KEYS: Final = (
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
_STRING_KEYS: Final = ("minLength", "maxLength", "pattern")
_NUMBER_KEYS: Final = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
)
_NUMERIC_FORMATS: Final = ("int32", "int64", "float", "double")
# When merging, these take the larger / smaller of the two values.
_LOWER_BOUNDS: Final = (
    "minimum",
    "exclusiveMinimum",
    "minLength",
    "minItems",
    "minProperties",
    "minContains",
)
_UPPER_BOUNDS: Final = (
    "maximum",
    "exclusiveMaximum",
    "maxLength",
    "maxItems",
    "maxProperties",
    "maxContains",
)
# Annotations and containers that do not constrain the instance: merging keeps the first.
_ANNOTATIONS: Final = (
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
_SINGLE_SUBSCHEMA_KEYS: Final = (
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
_SUBSCHEMA_MAP_KEYS: Final = (
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
)
_SUBSCHEMA_LIST_KEYS: Final = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
_DRAFT6_URI: Final = "http://json-schema.org/draft-06/schema#"

# Characters used for regex `.` and negated classes: rstr would use all of string.printable,
# including \x0b and \x0c, which look broken in a mock reply.
_REGEX_ALPHABET: Final = string.ascii_letters + string.digits + "-_.,:;!?@#$%&*+=/ "

_WORDS: Final = (
    "alpha",
    "amber",
    "atlas",
    "birch",
    "cedar",
    "delta",
    "ember",
    "falcon",
    "harbor",
    "lumen",
    "maple",
    "meadow",
    "nova",
    "orbit",
    "pixel",
    "quartz",
    "river",
    "sierra",
    "summit",
    "willow",
)
_LOCATIONS: Final = (
    "San Francisco, CA",
    "New York, NY",
    "Boston, MA",
    "London, UK",
    "Paris, France",
    "Tokyo, Japan",
    "Berlin, Germany",
    "Sydney, Australia",
    "Toronto, Canada",
    "Madrid, Spain",
)
_CITIES: Final = (
    "Paris",
    "London",
    "Tokyo",
    "Berlin",
    "Madrid",
    "Toronto",
    "Sydney",
    "Boston",
    "Chicago",
    "Lisbon",
)
_COUNTRIES: Final = (
    "France",
    "Japan",
    "Germany",
    "Canada",
    "Brazil",
    "Spain",
    "Australia",
    "Italy",
    "Mexico",
    "India",
)
_STREETS: Final = (
    "221B Baker Street",
    "742 Evergreen Terrace",
    "1600 Amphitheatre Parkway",
    "10 Downing Street",
    "350 Fifth Avenue",
)
_FIRST_NAMES: Final = (
    "Alice",
    "Bob",
    "Carol",
    "David",
    "Emma",
    "Frank",
    "Grace",
    "Hiro",
    "Ines",
    "Jamal",
)
_LAST_NAMES: Final = (
    "Smith",
    "Johnson",
    "Garcia",
    "Chen",
    "Martin",
    "Nguyen",
    "Rossi",
    "Tanaka",
    "Silva",
    "Novak",
)
_QUERIES: Final = (
    "weather in Paris",
    "best pizza near me",
    "python list comprehension",
    "flights to Tokyo",
    "latest news on AI",
    "how to bake bread",
)
_TITLES: Final = (
    "Quarterly report",
    "Team sync notes",
    "Release plan",
    "Project kickoff",
    "Weekly summary",
)
_SENTENCES: Final = (
    "This is a sample value.",
    "Generated by the mock server.",
    "Please review the attached report.",
    "All systems are operating normally.",
    "Meeting moved to Thursday afternoon.",
)
_CATEGORIES: Final = ("general", "news", "sports", "technology", "travel", "finance")
_COMPANIES: Final = ("Acme Corp", "Globex", "Initech", "Umbrella Labs", "Stark Industries")
_COLORS: Final = ("red", "green", "blue", "orange", "purple", "teal")
_STATUSES: Final = ("active", "pending", "completed", "open", "closed")
_LANGUAGES: Final = ("en", "fr", "de", "es", "ja")
_CURRENCIES: Final = ("USD", "EUR", "GBP", "JPY")
_TIMEZONES: Final = ("UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo")
_FILES: Final = ("report.pdf", "notes.txt", "data.csv", "docs/readme.md", "images/logo.png")
_DOMAINS: Final = ("example.com", "example.org", "example.net")
_EXTRA_KEYS: Final = ("note", "tag", "label", "source", "category", "priority", "owner", "region")
_PERSON_PREFIXES: Final = (
    "full",
    "display",
    "contact",
    "person",
    "author",
    "customer",
    "user",
    "owner",
    "first",
)
_ID_TOKENS: Final = ("id", "ids", "uuid", "guid")


class UnsatisfiableSchemaError(ValueError):
    """No valid instance could be generated; the message names the keyword / JSON pointer."""


class _Retry(Exception):
    """A generated value failed a check; another draw from the rng may succeed."""


# --------------------------------------------------------------------------------------------
# Schema preparation and caching
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Compiled:
    root: Any
    validator: Any
    siblings_of_ref_apply: bool


def _normalize(node: Any, tuple_items_to_prefix: bool) -> Any:
    """Rewrite OpenAPI / older-draft spellings into the form the validator class understands."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SUBSCHEMA_MAP_KEYS and isinstance(value, dict):
            out[key] = {k: _normalize(v, tuple_items_to_prefix) for k, v in value.items()}
        elif key in _SUBSCHEMA_LIST_KEYS and isinstance(value, list):
            out[key] = [_normalize(v, tuple_items_to_prefix) for v in value]
        elif key in _SINGLE_SUBSCHEMA_KEYS and isinstance(value, dict | bool):
            out[key] = _normalize(value, tuple_items_to_prefix)
        elif key == "dependencies" and isinstance(value, dict):
            out[key] = {k: _normalize(v, tuple_items_to_prefix) for k, v in value.items()}
        else:
            out[key] = value
    # OpenAPI 3.0 `nullable: true` (as clarified in 3.0.3): null is allowed when `type` is given.
    nullable = out.pop("nullable", None) if isinstance(out.get("nullable"), bool) else None
    if nullable is True:
        kind = out.get("type")
        if isinstance(kind, str) and kind != "null":
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
        enum = out.get("enum")
        if isinstance(enum, list) and None not in enum:
            out["enum"] = [*enum, None]
    # Draft-4 boolean exclusive bounds -> draft-6+ numeric form.
    for exclusive, inclusive in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        flag = out.get(exclusive)
        if isinstance(flag, bool):
            del out[exclusive]
            if flag and inclusive in out:
                out[exclusive] = out.pop(inclusive)
    # Draft-7 tuple validation (`items: [...]`) is spelled `prefixItems` in 2020-12.
    if tuple_items_to_prefix and isinstance(out.get("items"), list):
        out["prefixItems"] = out.pop("items")
        if "additionalItems" in out:
            out["items"] = out.pop("additionalItems")
    return out


def _json_default(obj: object) -> object:
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, tuple | list):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _cache_key(schema: Schema) -> str:
    # Key order is kept (no sort_keys): the order of `properties` is the order of the generated
    # object, and two orderings must not share a cache entry or output would depend on history.
    try:
        return json.dumps(schema, separators=(",", ":"), default=_json_default, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise UnsatisfiableSchemaError(f"schema is not JSON-serialisable: {exc}") from exc


@functools.lru_cache(maxsize=512)
def _compile(key: str) -> _Compiled:
    raw = json.loads(key)
    cls = _jsv.validator_for(raw, default=jsonschema.Draft202012Validator)
    if cls is jsonschema.Draft3Validator:
        raise UnsatisfiableSchemaError("draft-03 schemas are not supported ($schema)")
    root = _normalize(raw, tuple_items_to_prefix=cls is jsonschema.Draft202012Validator)
    if cls is jsonschema.Draft4Validator:
        # Boolean exclusive bounds were rewritten to the numeric draft-6 form above, so the
        # schema is now a draft-6 schema (draft 6 otherwise only adds keywords to draft 4).
        cls = jsonschema.Draft6Validator
        root["$schema"] = _DRAFT6_URI
    try:
        # jsonschema's own check costs about 1 ms per property (6 s for the 5,000 that
        # structured outputs allow); jsonschema-rs checks the same metaschema in
        # milliseconds. jsonschema runs only to explain a schema the fast check refuses.
        if not _passes_metaschema(root, cls):
            cls.check_schema(root)
    except jsonschema.SchemaError as exc:
        where = _pointer(exc.absolute_path)
        raise UnsatisfiableSchemaError(f"invalid schema at {where!r}: {exc.message}") from exc
    # Same dialect, with regex matching and enum checks of bounded cost (generation_limits).
    bounded = _jsv.extend(cls, BOUNDED_KEYWORDS)
    validator = bounded(root, format_checker=cls.FORMAT_CHECKER)
    # Up to draft 7, keywords next to `$ref` are ignored; from 2019-09 on they apply too.
    siblings = cls not in (jsonschema.Draft6Validator, jsonschema.Draft7Validator)
    return _Compiled(root=root, validator=validator, siblings_of_ref_apply=siblings)


def _passes_metaschema(root: Any, cls: Any) -> bool:
    if not isinstance(root, Mapping):
        return False
    # Named by the dialect's own metaschema URI, so jsonschema-rs never tries to download an
    # unknown `$schema` (it would, over the network).
    dialect = cls.META_SCHEMA.get("$id") or cls.META_SCHEMA.get("id")
    return bool(jsonschema_rs.meta.is_valid({**root, "$schema": dialect}))


def _pointer(parts: Sequence[Any] | Iterator[Any]) -> str:
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return "/".join(chain(["#"], escaped))


def _shorten(path: str, limit: int = 80) -> str:
    """A long JSON pointer with its middle elided, for error messages."""
    return path if len(path) <= limit else f"{path[: limit // 2]}...{path[-limit // 2 :]}"


def _child(path: str, *parts: str | int) -> str:
    """JSON pointer `path` extended by the (unescaped) `parts`."""
    return path + "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _search(pattern: str, text: str) -> bool:
    """``re.search`` with a bounded cost (see generation_limits.search)."""
    try:
        return search(pattern, text)
    except regex.error as exc:
        raise UnsatisfiableSchemaError(f"pattern {pattern!r} is not a valid regex: {exc}") from exc


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _matches_type(value: object, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return _is_number(value) and float(value).is_integer()  # type: ignore[arg-type]
    if kind == "number":
        return _is_number(value)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return False


def _json_equal(a: Any, b: Any) -> bool:
    return bool(freeze(a) == freeze(b))


def _types_of(schema: Mapping[str, Any]) -> list[str] | None:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return list(dict.fromkeys(k for k in kind if isinstance(k, str)))
    return None


def _intersect_types(a: list[str], b: list[str]) -> list[str]:
    out: list[str] = []
    for kind in a:
        if kind in b:
            out.append(kind)
        elif {kind, "number"} == {"integer", "number"} and ({"integer", "number"} & set(b)):
            out.append("integer")
    return list(dict.fromkeys(out))


def _combine(a: Any, b: Any) -> Any:
    """Schema that is the conjunction of two subschemas, without merging them yet."""
    if a is False or b is False:
        return False
    if a is True or a == {}:
        return b
    if b is True or b == {} or _json_equal(a, b):
        return a
    return {"allOf": [a, b]}


def _is_multiple(value: int | float, step: int | float) -> bool:
    # Mirrors jsonschema's multipleOf check, float quirks included (0.3 is not a multiple of 0.1).
    if not math.isfinite(value):  # k * step overflowed: JSON has no infinity
        return False
    if isinstance(step, float):
        try:
            quotient = value / step
            return int(quotient) == quotient
        except OverflowError:
            return (Fraction(value) / Fraction(step)).denominator == 1
    return value % step == 0


def _ceil_div(value: float, step: float) -> int:
    if isinstance(value, int) and isinstance(step, int):
        return -(-value // step)
    try:
        return math.ceil(value / step)
    except OverflowError:  # a tiny step (1e-320): the float quotient is infinite
        return math.ceil(Fraction(value) / Fraction(step))


def _floor_div(value: float, step: float) -> int:
    if isinstance(value, int) and isinstance(step, int):
        return value // step
    try:
        return math.floor(value / step)
    except OverflowError:
        return math.floor(Fraction(value) / Fraction(step))


def _times(k: int, step: int | float) -> int | float:
    """``k * step``; exact through fractions where the float product would overflow."""
    try:
        return k * step
    except OverflowError:  # k is an int beyond the float range
        return float(Fraction(k) * Fraction(step))


def _binary_multiples(step: float, window: tuple[float, float]) -> list[float]:
    """Multiples of ``step`` near the ends of ``window``, computed exactly: ``unit = step *
    2**s`` is exact, and so is ``unit * j`` while the significant bits of the step and of
    ``j`` fit in a double's 53 (tried with ``j`` of several widths)."""
    found: list[float] = []
    for end in (window[1], window[0]):
        if end == 0 or step <= 0 or not math.isfinite(end):
            continue
        # log2(|end| / step) without the quotient, which overflows for a tiny step.
        magnitude = math.floor(math.log2(abs(end)) - math.log2(step))
        for bits in (20, 40, 6, 2):
            try:
                unit = math.ldexp(step, max(magnitude - bits, 0))
            except OverflowError:
                continue
            found += [unit * math.floor(end / unit), unit * math.ceil(end / unit)]
    return found


def _decimals(value: float) -> int:
    exponent = Decimal(repr(value)).as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _pick_range(
    lo: float | None, hi: float | None, preferred: tuple[float, float]
) -> tuple[float, float]:
    """Intersect the allowed range with a plausible one; fall back to the edge of the allowed."""
    p_lo, p_hi = preferred
    a = p_lo if lo is None else max(lo, p_lo)
    b = p_hi if hi is None else min(hi, p_hi)
    if a <= b:
        return a, b
    span = p_hi - p_lo
    if lo is None and hi is not None:
        return hi - span, hi
    if hi is None and lo is not None:
        return lo, lo + span
    assert lo is not None and hi is not None
    return lo, min(hi, lo + span)


@functools.lru_cache(maxsize=2048)
def _tokens(hint: str) -> tuple[str, ...]:
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", hint).lower()
    return tuple(t for t in re.split(r"[^a-z0-9]+", snake) if t)


def _singular(hint: str | None) -> str | None:
    if hint is None:
        return None
    if hint.endswith("ies"):
        return hint[:-3] + "y"
    if hint.endswith(("sses", "xes", "ches")):
        return hint[:-2]
    if hint.endswith("s") and not hint.endswith("ss"):
        return hint[:-1]
    return hint


def _recursion(trail: _Trail) -> int:
    """How often the most repeated $ref target occurs on the trail (0: not recursive).

    Only a *repeated* target counts, so schemas that use `$ref` for every nested model (as
    pydantic does) are not mistaken for recursive ones."""
    return max((trail.count(target) for target in dict.fromkeys(trail)), default=0)


def _has_ref(schema: Any) -> bool:
    if isinstance(schema, Mapping):
        return "$ref" in schema or any(_has_ref(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_has_ref(v) for v in schema)
    return False


_ALL_TYPES: Final = ("string", "integer", "number", "boolean", "object", "array", "null")
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


def _negate_keyword(key: str, value: Any) -> list[Mapping[str, Any]]:
    """Schemas whose instances violate the single keyword `key: value` (empty if unknown)."""
    if key == "type":
        kinds = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        others = [t for t in _ALL_TYPES if t not in kinds]
        if "number" in kinds:
            others = [t for t in others if t != "integer"]
        return [{"type": others}] if others and kinds else []
    if key in _NEGATED_BOUNDS and _as_number(value) is not None:
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


def _validatable(schema: Any) -> Any:
    """A merged schema as a real JSON Schema: residuals become an allOf."""
    if isinstance(schema, Mapping) and _RESIDUAL in schema:
        out = {k: v for k, v in schema.items() if k != _RESIDUAL}
        out["allOf"] = list(schema[_RESIDUAL])
        return out
    return schema


def _as_number(value: object) -> int | float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _bounds(schema: Mapping[str, Any]) -> tuple[float | None, bool, float | None, bool]:
    """Effective (low, low_exclusive, high, high_exclusive) from the numeric keywords."""
    lo, hi = _as_number(schema.get("minimum")), _as_number(schema.get("maximum"))
    lo_x = hi_x = False
    ex_lo = _as_number(schema.get("exclusiveMinimum"))
    ex_hi = _as_number(schema.get("exclusiveMaximum"))
    if ex_lo is not None and (lo is None or ex_lo >= lo):
        lo, lo_x = ex_lo, True
    if ex_hi is not None and (hi is None or ex_hi <= hi):
        hi, hi_x = ex_hi, True
    return lo, lo_x, hi, hi_x


def _within(value: float, lo: float | None, lo_x: bool, hi: float | None, hi_x: bool) -> bool:
    if lo is not None and (value <= lo if lo_x else value < lo):
        return False
    return not (hi is not None and (value >= hi if hi_x else value > hi))


def _describe_bounds(lo: float | None, lo_x: bool, hi: float | None, hi_x: bool) -> str:
    parts = []
    if lo is not None:
        parts.append(f"{'exclusiveMinimum' if lo_x else 'minimum'} {lo}")
    if hi is not None:
        parts.append(f"{'exclusiveMaximum' if hi_x else 'maximum'} {hi}")
    return " and ".join(parts) or "no bounds"


# --------------------------------------------------------------------------------------------
# Regex strings
# --------------------------------------------------------------------------------------------


class _Xeger(Xeger):
    """rstr's regex-to-string generator, made reproducible and tidier.

    rstr is used instead of a hand-written regex walker because it already covers Python's whole
    regex parse tree (classes, groups, alternation, back-references) and takes our own
    ``random.Random``.  Two spots in rstr iterate over a ``set`` (the ``\\W`` alphabet and negated
    classes such as ``[^,]``), whose order changes with ``PYTHONHASHSEED``; they are replaced
    here by ordered alphabets so the same seed gives the same string in every process.
    """

    def __init__(self, rng: random.Random, budget: GenerationBudget) -> None:
        super().__init__(rng)
        self.budget = budget
        # Also keeps \W and \s to readable characters (no \r, \x0b, \x0c).
        self._alphabets["nonword"] = " " + string.punctuation.replace("_", "")
        self._alphabets["whitespace"] = " "
        self.repeat_floor = 0
        # Characters emitted by repeats since the last reset: nested repeats multiply, and
        # the cap stops them long before the product (`((a*)*)*` with a floor) is reached.
        self.emitted = 0
        self.cap = MAX_STRING_LENGTH
        cases = dict(self._cases)
        cases["any"] = lambda _value: self._random.choice(_REGEX_ALPHABET)
        cases["not_literal"] = lambda value: self._random.choice(
            [c for c in _REGEX_ALPHABET if c != chr(value)]
        )
        self._cases = cases

    def _handle_in(self, value: Any) -> Any:
        candidates = list(chain.from_iterable(self._handle_state(i) for i in value))
        if candidates and candidates[0] is False:
            excluded = set(candidates[1:])
            candidates = [c for c in _REGEX_ALPHABET if c not in excluded] or [
                c for c in string.printable if c not in excluded
            ]
        return self._random.choice(candidates)

    def _handle_repeat(self, start_range: int, end_range: int, value: str) -> str:
        low = min(end_range, max(start_range, self.repeat_floor))
        times = self._random.randint(low, min(end_range, low + _REPEAT_SPAN))
        parts = []
        for _ in range(times):
            part = "".join(self._handle_state(i) for i in value)
            self.emitted += len(part)
            if self.emitted > self.cap:
                raise _Retry("regex repeats ran past the length wanted")
            self.budget.check_clock()
            parts.append(part)
        return "".join(parts)


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


class _Generator:
    def __init__(
        self,
        compiled: _Compiled,
        rng: random.Random,
        suggest: Suggest | None = None,
        budget: GenerationBudget | None = None,
    ) -> None:
        self.root = compiled.root
        self.suggest = suggest
        self.budget = budget if budget is not None else GenerationBudget()
        self.depth = 0
        self.validator = compiled.validator
        self.siblings_of_ref_apply = compiled.siblings_of_ref_apply
        self.rng = rng
        self._xeger: _Xeger | None = None

    # -- plumbing ---------------------------------------------------------------------------

    def tick(self) -> None:
        self.budget.spend_step()

    def is_valid(self, schema: Any, value: Any) -> bool:
        self.budget.check_clock()
        try:
            if schema is self.root:
                return bool(self.validator.is_valid(value))
            return bool(self.validator.evolve(schema=_validatable(schema)).is_valid(value))
        # What a schema that passed check_schema can still hold; anything else is a bug and
        # surfaces as one.
        except (
            referencing.exceptions.Unresolvable,
            jsonschema.exceptions.UnknownType,
            regex.error,
        ) as exc:
            raise UnsatisfiableSchemaError(f"jsonschema cannot evaluate the schema: {exc}") from exc

    def xeger(self, pattern: str, floor: int, path: str, wanted: int = 0) -> str:
        """A string matching `pattern`, its repeats at least `floor` long; drawing stops
        (``_Retry``) once it has emitted a few times the `wanted` length."""
        shortest = check_pattern(pattern, path)
        if self._xeger is None:
            self._xeger = _Xeger(self.rng, self.budget)
        self._xeger.repeat_floor = floor
        self._xeger.emitted = 0
        # Nested repeats count their characters once per level, hence the factor.
        self._xeger.cap = min(MAX_STRING_LENGTH, 8 * max(wanted, shortest, _XEGER_SLACK))
        try:
            return str(self._xeger.xeger(pattern))
        # rstr has no case for some of Python's regex syntax (lookarounds, conditionals, ...)
        # and fails with a KeyError, or a ValueError/IndexError on odd ranges.
        except (KeyError, ValueError, IndexError, re.error) as exc:
            raise UnsatisfiableSchemaError(
                f"at {path!r}: cannot generate from pattern {pattern!r}: {exc!r}"
            ) from exc

    def resolve(self, ref: Any, path: str) -> tuple[Any, str]:
        if not isinstance(ref, str):
            raise UnsatisfiableSchemaError(f"at {path!r}: $ref must be a string")
        target = ref
        root_id = self.root.get("$id") if isinstance(self.root, Mapping) else None
        if isinstance(root_id, str) and root_id and target.startswith(root_id.rstrip("#")):
            target = target[len(root_id.rstrip("#")) :]
        if target in ("", "#"):
            return self.root, "#"
        if target.startswith("#/"):
            node: Any = self.root
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
            found = self._find_anchor(self.root, target[1:], "#")
            if found is not None:
                return found
        raise UnsatisfiableSchemaError(
            f"at {path!r}: unsupported $ref {ref!r} (only local references are supported)"
        )

    def _find_anchor(self, node: Any, name: str, path: str) -> tuple[Any, str] | None:
        if isinstance(node, Mapping):
            if node.get("$anchor") == name:
                return node, path
            children: Iterator[tuple[str, Any]] = iter(node.items())
        elif isinstance(node, list):
            children = ((str(i), v) for i, v in enumerate(node))
        else:
            return None
        for key, child in children:
            found = self._find_anchor(child, name, _child(path, key))
            if found is not None:
                return found
        return None

    # -- combinators ------------------------------------------------------------------------

    def flatten(self, schema: Any, path: str, trail: _Trail) -> tuple[Mapping[str, Any], _Trail]:
        """Fold `$ref` and `allOf` into one schema; also returns the trail of $refs followed."""
        self.tick()
        if schema is True:
            return {}, trail
        if schema is False:
            raise UnsatisfiableSchemaError(f"at {path!r}: schema is false (nothing is valid)")
        if not isinstance(schema, Mapping):
            raise UnsatisfiableSchemaError(f"at {path!r}: not a schema: {schema!r}")
        if "$ref" not in schema and "allOf" not in schema:
            return schema, trail
        result: Mapping[str, Any] = {k: v for k, v in schema.items() if k not in ("$ref", "allOf")}
        deepest = trail
        if "$ref" in schema:
            target, target_path = self.resolve(schema["$ref"], path)
            if len(trail) >= MAX_REF_CHAIN:
                raise GenerationLimitError(
                    f"at {_shorten(path)!r}: more than {MAX_REF_CHAIN} $refs followed in a chain"
                )
            if trail.count(target_path) >= _HARD_REF_DEPTH:
                raise UnsatisfiableSchemaError(
                    f"at {_shorten(path)!r}: $ref {schema['$ref']!r} recurses more than"
                    f" {_HARD_REF_DEPTH} times (does the schema require infinite nesting?)"
                )
            flat, deepest = self.flatten(target, target_path, (*trail, target_path))
            result = self.merge(flat, result, path) if self.siblings_of_ref_apply else flat
        subschemas = schema.get("allOf", [])
        for index, sub in enumerate(subschemas if isinstance(subschemas, list) else []):
            flat, sub_trail = self.flatten(sub, _child(path, "allOf", index), trail)
            deepest = max(deepest, sub_trail, key=_recursion)
            result = self.merge(result, flat, path)
        return result, deepest

    def merge(self, a: Mapping[str, Any], b: Mapping[str, Any], path: str) -> Mapping[str, Any]:
        """Best-effort conjunction of two flattened schemas (exact for the common keywords)."""
        if not b:
            return a
        if not a:
            return b
        out: dict[str, Any] = dict(a)
        residual: list[Any] = [*a.get(_RESIDUAL, ()), *b.get(_RESIDUAL, ())]
        for key, bv in b.items():
            if key == _RESIDUAL:
                continue
            if key not in out:
                out[key] = bv
                continue
            av = out[key]
            if key in _ANNOTATIONS or _json_equal(av, bv):
                continue
            if key == "type":
                ta, tb = _types_of(a) or [], _types_of(b) or []
                common = _intersect_types(ta, tb)
                if not common:
                    raise UnsatisfiableSchemaError(
                        f"at {path!r}: allOf requires type {av!r} and type {bv!r} at once"
                        " (keyword 'type')"
                    )
                out["type"] = common if len(common) > 1 else common[0]
            elif key in ("properties", "patternProperties") and isinstance(av, Mapping):
                merged = dict(av)
                for name, sub in bv.items() if isinstance(bv, Mapping) else ():
                    merged[name] = _combine(merged[name], sub) if name in merged else sub
                out[key] = merged
            elif key == "required" and isinstance(av, list) and isinstance(bv, list):
                out[key] = list(dict.fromkeys([*av, *bv]))
            elif key == "enum" and isinstance(av, list) and isinstance(bv, list):
                common_values = [v for v in av if any(_json_equal(v, w) for w in bv)]
                if not common_values:
                    raise UnsatisfiableSchemaError(
                        f"at {path!r}: allOf branches share no enum value (keyword 'enum')"
                    )
                out[key] = common_values
            elif key == "const":
                raise UnsatisfiableSchemaError(
                    f"at {path!r}: allOf requires const {av!r} and const {bv!r} (keyword 'const')"
                )
            elif key in _LOWER_BOUNDS and _is_number(av) and _is_number(bv):
                out[key] = max(av, bv)
            elif key in _UPPER_BOUNDS and _is_number(av) and _is_number(bv):
                out[key] = min(av, bv)
            elif key == "multipleOf" and _is_number(av) and _is_number(bv):
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
                key in _SINGLE_SUBSCHEMA_KEYS
                and not isinstance(av, list | tuple)
                and (not isinstance(bv, list | tuple))
                and key not in ("contains", "not", "if", "then", "else")
            ):
                out[key] = _combine(av, bv)
            elif key in ("if", "then", "else"):
                conditional = {k: b[k] for k in ("if", "then", "else") if k in b}
                if conditional not in residual:
                    residual.append(conditional)
            else:
                # pattern, format, oneOf, contains, dependencies, ...: checked afterwards.
                residual.append({key: bv})
        self._restrict_additional(out, a, b, path)
        if residual:
            out[_RESIDUAL] = residual
        return out

    def _restrict_additional(
        self, out: dict[str, Any], a: Mapping[str, Any], b: Mapping[str, Any], path: str
    ) -> None:
        """Apply one side's `additionalProperties` to the properties only the other side names."""
        for side, other in ((a, b), (b, a)):
            extra = side.get("additionalProperties", True)
            if extra is True or extra == {}:
                continue
            own = side.get("properties", {})
            patterns = side.get("patternProperties", {})

            def covered(name: str, own: Any = own, patterns: Any = patterns) -> bool:
                return name in own or any(_search(p, name) for p in patterns)

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
                        props[name] = _combine(props[name], extra)
            if "properties" in out:
                out["properties"] = props

    # -- generation ---------------------------------------------------------------------------

    def generate(self, schema: Any, path: str, trail: _Trail, hint: str | None) -> Any:
        self.tick()
        if schema is True:
            schema = {}
        elif schema is False:
            raise UnsatisfiableSchemaError(f"at {path!r}: schema is false (nothing is valid)")
        elif not isinstance(schema, Mapping):
            raise UnsatisfiableSchemaError(f"at {path!r}: not a schema: {schema!r}")
        suggested = self._suggested(schema, hint)
        if suggested is not None:
            return suggested[0]
        example = self._example(schema)
        if example is not None:
            return example[0]
        if "$ref" in schema or "allOf" in schema:
            merged, trail = self.flatten(schema, path, trail)
            return self.generate(merged, path, trail, hint)
        if "not" not in schema and _RESIDUAL not in schema:
            return self._generate_branching(schema, path, trail, hint)
        # `not` and residual constraints are checked after generation (and the value redrawn);
        # for `not`, variants that violate one of its keywords are tried first, since a plain
        # redraw rarely escapes e.g. `"not": {"minimum": 0}`.
        variants: list[tuple[Mapping[str, Any], int]] = []
        for negation in self._negations(schema.get("not")):
            try:
                variants.append((self.merge(schema, negation, path), _BRANCH_ATTEMPTS))
            except UnsatisfiableSchemaError:
                continue
        variants.append((schema, _LOCAL_ATTEMPTS))
        failure: Exception | None = None
        for variant, attempts in variants:
            for _ in range(attempts):
                try:
                    value = self._generate_branching(variant, path, trail, hint)
                except (_Retry, UnsatisfiableSchemaError) as exc:
                    failure = exc
                    break
                if "not" in schema and self.is_valid(schema["not"], value):
                    failure = _Retry(f"at {path!r}: value {value!r} matches the 'not' schema")
                    continue
                broken = next(
                    (r for r in schema.get(_RESIDUAL, ()) if not self.is_valid(r, value)), None
                )
                if broken is not None:
                    failure = _Retry(
                        f"at {path!r}: value {value!r} fails the constraint {broken!r}"
                    )
                    continue
                return value
        assert failure is not None
        raise failure

    def _negations(self, negated: Any) -> list[Mapping[str, Any]]:
        """Schemas each violating one keyword of `negated` (so matching `not`), in rng order."""
        if not isinstance(negated, Mapping):
            return []
        out = [n for key, value in negated.items() for n in _negate_keyword(key, value)]
        self.rng.shuffle(out)
        return out

    def _suggested(self, schema: Mapping[str, Any], hint: str | None) -> tuple[Any] | None:
        """The first suggested value for the property `hint` that the schema accepts."""
        if self.suggest is None or hint is None:
            return None
        for value in self.suggest(hint, schema):
            if self.is_valid(schema, value):
                return (self._copied(value),)
        return None

    def _example(self, schema: Mapping[str, Any]) -> tuple[Any] | None:
        """Sometimes reuse an author-supplied example or default: they read naturally."""
        candidates: list[Any] = []
        if isinstance(schema.get("examples"), list):
            candidates.extend(schema["examples"])
        for key in ("example", "default"):
            if key in schema:
                candidates.append(schema[key])
        # null / {} / [] (typical defaults, e.g. pydantic's Optional fields) say nothing:
        # generating a real value reads better.
        candidates = [c for c in candidates if c not in (None, {}, [])]
        if not candidates or self.rng.random() >= 0.5:
            return None
        value = self.rng.choice(candidates)
        if self.is_valid(schema, value):
            return (self._copied(value),)
        return None

    def _generate_branching(
        self, schema: Mapping[str, Any], path: str, trail: _Trail, hint: str | None
    ) -> Any:
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list):
                return self._generate_choice(schema, key, path, trail, hint)
        if "if" in schema:
            return self._generate_conditional(schema, path, trail, hint)
        return self._generate_typed(schema, path, trail, hint)

    def _branch_order(self, branches: list[Any], trail: _Trail) -> list[int]:
        order = list(range(len(branches)))
        self.rng.shuffle(order)
        minimal = _recursion(trail) >= _SOFT_REF_DEPTH

        def key(index: int) -> tuple[bool, bool]:
            branch = branches[index]
            only_null = isinstance(branch, Mapping) and branch.get("type") == "null"
            return (minimal and _has_ref(branch), only_null)

        return sorted(order, key=key)  # stable: keeps the rng order within each group

    def _generate_choice(
        self, schema: Mapping[str, Any], key: str, path: str, trail: _Trail, hint: str | None
    ) -> Any:
        branches: list[Any] = schema[key]
        if not branches:
            raise UnsatisfiableSchemaError(f"at {path!r}: empty {key}")
        base = {k: v for k, v in schema.items() if k != key}
        errors: list[str] = []
        only_unsat = True
        for index in self._branch_order(branches, trail):
            branch = branches[index]
            branch_path = _child(path, key, index)
            try:
                flat, branch_trail = self.flatten(branch, branch_path, trail)
                candidate = self.merge(base, flat, branch_path)
            except UnsatisfiableSchemaError as exc:
                errors.append(str(exc))
                continue
            for _ in range(_BRANCH_ATTEMPTS):
                try:
                    value = self.generate(candidate, branch_path, branch_trail, hint)
                except UnsatisfiableSchemaError as exc:
                    errors.append(str(exc))
                    break
                except _Retry as exc:
                    only_unsat = False
                    errors.append(str(exc))
                    continue
                only_unsat = False
                if not self.is_valid(branch, value):
                    errors.append(f"at {branch_path!r}: value {value!r} fails the branch")
                    continue
                if key == "oneOf" and any(
                    self.is_valid(other, value) for i, other in enumerate(branches) if i != index
                ):
                    errors.append(f"at {branch_path!r}: value {value!r} matches several branches")
                    continue
                return value
        summary = f"at {path!r}: no {key} branch could be satisfied: " + "; ".join(errors[:4])
        if only_unsat:
            raise UnsatisfiableSchemaError(summary)
        raise _Retry(summary)

    def _generate_conditional(
        self, schema: Mapping[str, Any], path: str, trail: _Trail, hint: str | None
    ) -> Any:
        condition = schema["if"]
        rest = {k: v for k, v in schema.items() if k not in ("if", "then", "else")}
        options: list[Any] = [
            {"allOf": [condition, schema.get("then", True)]},
            {"allOf": [schema.get("else", True)], "not": condition},
        ]
        self.rng.shuffle(options)
        whole = {k: schema[k] for k in ("if", "then", "else") if k in schema}
        failure: Exception = _Retry(f"at {path!r}: neither if/then nor else could be satisfied")
        for option in options:
            try:
                flat, option_trail = self.flatten(option, path, trail)
                value = self.generate(self.merge(rest, flat, path), path, option_trail, hint)
            except (_Retry, UnsatisfiableSchemaError) as exc:
                failure = exc
                continue
            if self.is_valid(whole, value):
                return value
        raise failure

    def _generate_typed(
        self, schema: Mapping[str, Any], path: str, trail: _Trail, hint: str | None
    ) -> Any:
        if "const" in schema:
            return self._copied(schema["const"])
        if "enum" in schema:
            return self._generate_enum(schema, path)
        kinds = self._candidate_types(schema, trail)
        if not kinds:
            raise UnsatisfiableSchemaError(f"at {path!r}: no usable type (keyword 'type')")
        failures: list[Exception] = []
        for kind in kinds:
            try:
                return self._generate_of_type(kind, schema, path, trail, hint)
            except (_Retry, UnsatisfiableSchemaError) as exc:
                failures.append(exc)
        if len(failures) == 1:
            raise failures[0]
        summary = f"at {path!r}: none of the types {kinds} could be generated: " + "; ".join(
            str(f) for f in failures[:4]
        )
        if all(isinstance(f, UnsatisfiableSchemaError) for f in failures):
            raise UnsatisfiableSchemaError(summary)
        raise _Retry(summary)

    def _candidate_types(self, schema: Mapping[str, Any], trail: _Trail) -> list[str]:
        kinds = _types_of(schema)
        if kinds is None:
            kinds = []
            if any(k in schema for k in _OBJECT_KEYS):
                kinds.append("object")
            if any(k in schema for k in _ARRAY_KEYS):
                kinds.append("array")
            if schema.get("format") in _NUMERIC_FORMATS:
                kinds.append("number")
            elif any(k in schema for k in _STRING_KEYS) or "format" in schema:
                kinds.append("string")
            if any(k in schema for k in _NUMBER_KEYS):
                step = schema.get("multipleOf")
                kinds.append("integer" if isinstance(step, int) else "number")
            if not kinds:
                # Unconstrained: mostly strings, which read best in a mock reply.
                common = ["string", "string", "integer", "boolean"]
                first = self.rng.choice(common)
                kinds = [first, *dict.fromkeys(common), "number", "object", "array", "null"]
                return list(dict.fromkeys(kinds))
        non_null = [k for k in kinds if k != "null"]
        if len(non_null) > 1:
            self.rng.shuffle(non_null)
        if _recursion(trail) >= _SOFT_REF_DEPTH:
            # Deep in a recursive schema: scalars first so that the recursion ends.
            non_null.sort(key=lambda k: k in ("object", "array"))
        # OpenAPI `nullable` becomes a "null" type: allowed, but a real value reads better.
        return non_null + (["null"] if "null" in kinds else [])

    def _generate_enum(self, schema: Mapping[str, Any], path: str) -> Any:
        values = schema["enum"]
        if isinstance(values, list) and len(values) > _SAMPLED_ENUM_SIZE:
            return self._generate_large_enum(schema, values, path)
        kinds = _types_of(schema)
        if kinds is not None:
            values = [v for v in values if any(_matches_type(v, k) for k in kinds)]
        order = list(range(len(values)))
        self.rng.shuffle(order)
        order.sort(key=lambda i: values[i] is None)
        simple = all(k in ("enum", "type", *_ANNOTATIONS) for k in schema)
        for index in order:
            if simple or self.is_valid(schema, values[index]):
                return self._copied(values[index])
        raise UnsatisfiableSchemaError(
            f"at {path!r}: no enum value satisfies the other constraints (keyword 'enum')"
        )

    def _generate_large_enum(self, schema: Mapping[str, Any], values: list[Any], path: str) -> Any:
        """A member of a large enum, drawn at random: shuffling or filtering the whole list
        for every value (128 choices of a 300,000-member enum) would cost more than the rest
        of the request. The walk from a random start is bounded by the step budget."""
        kinds = _types_of(schema)
        simple = all(k in ("enum", "type", *_ANNOTATIONS) for k in schema)
        start = self.rng.randrange(len(values))
        fallback: tuple[Any] | None = None
        for offset in range(len(values)):
            self.tick()
            value = values[(start + offset) % len(values)]
            if kinds is not None and not any(_matches_type(value, k) for k in kinds):
                continue
            if simple or self.is_valid(schema, value):
                if value is not None:
                    return self._copied(value)
                fallback = fallback or (value,)
            if fallback is not None and offset >= _SAMPLED_ENUM_SIZE:
                break
        if fallback is not None:
            return fallback[0]
        raise UnsatisfiableSchemaError(
            f"at {path!r}: no enum value satisfies the other constraints (keyword 'enum')"
        )

    def _copied(self, value: Any) -> Any:
        """A copy of a value the schema spells out (const, enum, example), counted against
        the output budget: a large const repeated by minItems is as costly as a long string."""
        if isinstance(value, str):
            self.budget.spend_chars(len(value))
            return value
        if isinstance(value, list | dict):
            self.budget.spend_chars(len(json.dumps(value)))
            return copy.deepcopy(value)
        return value

    def _generate_of_type(
        self, kind: str, schema: Mapping[str, Any], path: str, trail: _Trail, hint: str | None
    ) -> Any:
        if kind == "null":
            return None
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "integer":
            return self._generate_integer(schema, path, hint)
        if kind == "number":
            return self._generate_number(schema, path, hint)
        if kind == "string":
            return self._generate_string(schema, path, hint)
        if kind in ("array", "object"):
            self.depth += 1
            try:
                if self.depth > MAX_VALUE_DEPTH:
                    raise GenerationLimitError(
                        f"at {_shorten(path)!r}: the value would nest more than"
                        f" {MAX_VALUE_DEPTH} arrays/objects deep"
                    )
                if kind == "array":
                    return self._generate_array(schema, path, trail, hint)
                return self._generate_object(schema, path, trail, hint)
            finally:
                self.depth -= 1
        raise UnsatisfiableSchemaError(f"at {path!r}: unknown type {kind!r} (keyword 'type')")

    # -- numbers ------------------------------------------------------------------------------

    def _generate_integer(self, schema: Mapping[str, Any], path: str, hint: str | None) -> int:
        lo, lo_x, hi, hi_x = _bounds(schema)
        low = None if lo is None else (math.floor(lo) + 1 if lo_x else math.ceil(lo))
        high = None if hi is None else (math.ceil(hi) - 1 if hi_x else math.floor(hi))
        if low is not None and high is not None and low > high:
            raise UnsatisfiableSchemaError(
                f"at {path!r}: no integer satisfies {_describe_bounds(lo, lo_x, hi, hi_x)}"
            )
        raw_step = _as_number(schema.get("multipleOf"))
        step: int | float = 1
        if raw_step is not None and raw_step > 0:
            # An integer is a multiple of p/q (in lowest terms) exactly when p divides it.
            step = raw_step if isinstance(raw_step, int) else Fraction(repr(raw_step)).numerator
            if isinstance(raw_step, float) and raw_step < _TINY_STEP:
                # value / step overflows, so jsonschema compares exact binary fractions:
                # 1e-320 is 253 / 2**1071, and its integer multiples are those of 253.
                step = Fraction(raw_step).numerator
        p_lo, p_hi, _ = _number_preference(hint)
        window = _pick_range(low, high, (p_lo, p_hi))
        value = self._search_multiples(step, raw_step, (low, False, high, False), window, path)
        return int(value)

    def _generate_number(
        self, schema: Mapping[str, Any], path: str, hint: str | None
    ) -> int | float:
        lo, lo_x, hi, hi_x = _bounds(schema)
        if lo is not None and hi is not None and (lo > hi or (lo == hi and (lo_x or hi_x))):
            raise UnsatisfiableSchemaError(
                f"at {path!r}: no number satisfies {_describe_bounds(lo, lo_x, hi, hi_x)}"
            )
        step = _as_number(schema.get("multipleOf"))
        p_lo, p_hi, digits = _number_preference(hint)
        a, b = _pick_range(lo, hi, (p_lo, p_hi))
        if step is not None and step > 0:
            return self._search_multiples(step, step, (lo, lo_x, hi, hi_x), (a, b), path)
        if a == b and not _within(a, lo, lo_x, hi, hi_x):
            # The plausible window shrank onto an exclusive bound: widen it inside the bounds.
            span = p_hi - p_lo
            a, b = (
                (lo, hi)
                if lo is not None and hi is not None
                else ((lo, lo + span) if lo is not None else (b - span, b))
            )
        candidates: list[float] = []
        for _ in range(3):
            drawn = round(self.rng.uniform(a, b), digits)
            candidates.append(int(drawn) if digits == 0 else drawn)
        candidates += [self.rng.uniform(a, b) for _ in range(3)]
        candidates += [a / 2 + b / 2, a, b]
        if lo is not None:
            candidates.append(math.nextafter(lo, math.inf))
        if hi is not None:
            candidates.append(math.nextafter(hi, -math.inf))
        for value in candidates:
            if math.isfinite(value) and _within(value, lo, lo_x, hi, hi_x):
                return value
        raise UnsatisfiableSchemaError(
            f"at {path!r}: no number found for {_describe_bounds(lo, lo_x, hi, hi_x)}"
        )

    def _search_multiples(
        self,
        step: int | float,
        required_step: Any,
        bounds: tuple[float | None, bool, float | None, bool],
        window: tuple[float, float],
        path: str,
    ) -> int | float:
        """A value k*step inside `bounds`, preferably inside `window`, that jsonschema accepts
        as a multiple of `required_step` (None: any value on the grid)."""
        lo, lo_x, hi, hi_x = bounds
        k_lo, k_hi = _ceil_div(window[0], step), _floor_div(window[1], step)
        if k_lo > k_hi:  # the plausible window holds no multiple: use the schema's own bounds
            b_lo = None if lo is None else _ceil_div(lo, step)
            b_hi = None if hi is None else _floor_div(hi, step)
            if b_lo is None:
                b_lo = 0 if b_hi is None else b_hi - 3
            if b_hi is None:
                b_hi = b_lo + 3
            k_lo, k_hi = b_lo, b_hi
        # Float division can be off by one ulp at the edges: look one step beyond them.
        k_lo, k_hi = k_lo - 1, k_hi + 1
        ks = [self.rng.randint(k_lo, k_hi) for _ in range(8)]
        small = k_hi - k_lo <= 16
        if small:
            ks += list(range(k_lo, k_hi + 1))
        places = _decimals(step) if isinstance(step, float) else 0
        for k in ks:
            exact = _times(k, step)
            options: tuple[int | float, ...] = (exact,)
            if isinstance(exact, float):
                options = (round(exact, places), exact)
            for value in options:
                if _within(value, lo, lo_x, hi, hi_x) and (
                    required_step is None or _is_multiple(value, required_step)
                ):
                    return value
        if isinstance(step, float):
            # A step of a few significant bits (1e-320 is 2024 * 2**-1074) has multiples
            # that no rounded k * step reaches.
            for value in _binary_multiples(step, window):
                if _within(value, lo, lo_x, hi, hi_x) and (
                    required_step is None or _is_multiple(value, required_step)
                ):
                    return value
        message = (
            f"at {path!r}: no multiple of {required_step} (keyword 'multipleOf') satisfies"
            f" {_describe_bounds(lo, lo_x, hi, hi_x)}"
        )
        if small:
            raise UnsatisfiableSchemaError(message)
        raise _Retry(message)

    # -- strings ------------------------------------------------------------------------------

    def _generate_string(self, schema: Mapping[str, Any], path: str, hint: str | None) -> str:
        low = schema.get("minLength", 0)
        high = schema.get("maxLength")
        low = low if isinstance(low, int) else 0
        high = high if isinstance(high, int) else None
        if high is not None and low > high:
            raise UnsatisfiableSchemaError(
                f"at {path!r}: minLength {low} is greater than maxLength {high}"
            )
        check_string_length(low, path)
        pattern = schema.get("pattern")
        fmt = schema.get("format")
        maker = _FORMATS.get(fmt) if isinstance(fmt, str) else None
        for attempt in range(_LOCAL_ATTEMPTS * 2):
            if isinstance(pattern, str):
                # Later attempts push regex repeats towards minLength.
                boost = max(0, attempt - _LOCAL_ATTEMPTS + 1)
                floor = low * boost // _LOCAL_ATTEMPTS
                try:
                    text = self.xeger(pattern, floor, path, max(low, high or 0))
                except _Retry:  # the repeats ran past the length limit: draw again
                    continue
            elif maker is not None:
                text = maker(self.rng)
            else:
                text = self._plain_string(hint, low, high)
            if (
                len(text) >= low
                and (high is None or len(text) <= high)
                and (not isinstance(pattern, str) or _search(pattern, text))
            ):
                self.budget.spend_chars(len(text))
                return text
        raise _Retry(
            f"at {path!r}: no string found for pattern/format/minLength/maxLength constraints"
        )

    def _plain_string(self, hint: str | None, low: int, high: int | None) -> str:
        rng = self.rng
        text = _hinted_string(rng, hint) if hint else None
        if text is None:
            text = rng.choice(_WORDS)
        if len(text) < low or (high is not None and len(text) > high):
            fitting = [w for w in _WORDS if low <= len(w) and (high is None or len(w) <= high)]
            if fitting:
                return rng.choice(fitting)
        while len(text) < low:
            text += " " + rng.choice(_WORDS)
        if high is not None and len(text) > high:
            text = text[:high]
            while text.endswith(" ") and len(text) > low:
                text = text[:-1]
        return text

    # -- arrays -------------------------------------------------------------------------------

    def _generate_array(
        self, schema: Mapping[str, Any], path: str, trail: _Trail, hint: str | None
    ) -> list[Any]:
        items = schema.get("items", True)
        if isinstance(schema.get("prefixItems"), list):
            prefix: list[Any] = schema["prefixItems"]
            rest = items if not isinstance(items, list) else True
            rest_key = "items"
        elif isinstance(items, list):
            prefix, rest, rest_key = items, schema.get("additionalItems", True), "additionalItems"
        else:
            prefix, rest, rest_key = [], items, "items"
        low = schema.get("minItems", 0)
        low = low if isinstance(low, int) else 0
        check_count(low, "minItems", path)
        high = schema.get("maxItems")
        high = high if isinstance(high, int) else None
        if rest is False:
            high = len(prefix) if high is None else min(high, len(prefix))
        if high is not None and low > high:
            raise UnsatisfiableSchemaError(
                f"at {path!r}: minItems {low} cannot be met (at most {high} items allowed by"
                " maxItems/items)"
            )
        if _recursion(trail) >= _SOFT_REF_DEPTH:
            length = low
        elif prefix:
            length = max(low, len(prefix))
        else:
            start = max(low, 1)
            length = self.rng.randint(start, start + 2)
        if high is not None:
            length = min(length, high)
        unique = schema.get("uniqueItems") is True
        item_hint = _singular(hint)
        seen: set[Any] = set()
        result: list[Any] = []
        for index in range(length):
            if index < len(prefix):
                sub, sub_path = prefix[index], _child(path, "prefixItems", index)
            else:
                sub, sub_path = rest, _child(path, rest_key)
            value = self._array_item(sub, sub_path, trail, item_hint, unique, seen)
            if value is None:
                if index < low:
                    raise _Retry(f"at {path!r}: cannot generate {low} items (keyword 'minItems')")
                break
            result.append(value[0])
        contains = schema.get("contains")
        if contains is not None and not any(self.is_valid(contains, v) for v in result):
            self._add_contained(contains, rest, len(prefix), result, path, trail, item_hint, high)
        return result

    def _array_item(
        self, sub: Any, path: str, trail: _Trail, hint: str | None, unique: bool, seen: set[Any]
    ) -> tuple[Any] | None:
        for _ in range(_LOCAL_ATTEMPTS if unique else 1):
            try:
                value = self.generate(sub, path, trail, hint)
            except (_Retry, UnsatisfiableSchemaError):
                return None
            if unique:
                frozen = freeze(value)
                if frozen in seen:
                    continue
                seen.add(frozen)
            return (value,)
        return None

    def _add_contained(
        self,
        contains: Any,
        rest: Any,
        prefix_len: int,
        result: list[Any],
        path: str,
        trail: _Trail,
        hint: str | None,
        high: int | None,
    ) -> None:
        value = self.generate(_combine(rest, contains), _child(path, "contains"), trail, hint)
        if high is None or len(result) < high:
            result.insert(self.rng.randint(prefix_len, len(result)), value)
        elif len(result) > prefix_len:
            result[self.rng.randint(prefix_len, len(result) - 1)] = value

    # -- objects ------------------------------------------------------------------------------

    def _generate_object(
        self, schema: Mapping[str, Any], path: str, trail: _Trail, hint: str | None
    ) -> dict[str, Any]:
        props: Mapping[str, Any] = schema.get("properties") or {}
        patterns: Mapping[str, Any] = schema.get("patternProperties") or {}
        extra = schema.get("additionalProperties", True)
        required = [r for r in dict.fromkeys(schema.get("required") or []) if isinstance(r, str)]
        low = schema.get("minProperties", 0)
        low = low if isinstance(low, int) else 0
        check_count(low, "minProperties", path)
        high = schema.get("maxProperties")
        high = high if isinstance(high, int) else None
        if high is not None and len(required) > high:
            raise UnsatisfiableSchemaError(
                f"at {path!r}: {len(required)} required properties exceed maxProperties {high}"
            )
        minimal = _recursion(trail) >= _SOFT_REF_DEPTH
        must = set(required)
        optional = [k for k in props if k not in must and props[k] is not False]
        chosen = {k for k in optional if not minimal and self.rng.random() < 0.5}
        keys = [k for k in props if k in must or k in chosen]
        keys += [r for r in required if r not in props]
        keys = self._add_dependents(schema, keys)
        if high is not None:
            while len(keys) > high:
                drop = next(k for k in reversed(keys) if k not in must)
                keys.remove(drop)
        for key in optional:
            if len(keys) >= low:
                break
            if key not in keys:
                keys.append(key)
        wants_extra = not props and (patterns or isinstance(extra, Mapping)) and not minimal
        n_extra = max(low - len(keys), self.rng.randint(1, 2) if wants_extra else 0)
        if high is not None:
            n_extra = min(n_extra, high - len(keys))
        keys += self._extra_keys(schema, keys, n_extra, path)
        result: dict[str, Any] = {}
        for key in keys:
            sub = self._property_schema(props, patterns, extra, key)
            sub_path = _child(path, "properties", key)
            if sub is False and key in must:
                raise UnsatisfiableSchemaError(
                    f"at {sub_path!r}: property {key!r} is required but not allowed"
                    " (keywords 'required' / 'additionalProperties')"
                )
            try:
                result[key] = self.generate(sub, sub_path, trail, key)
            except (_Retry, UnsatisfiableSchemaError):
                if key in must or len(keys) - 1 < low:
                    raise
                keys = [k for k in keys if k != key]
        return result

    def _add_dependents(self, schema: Mapping[str, Any], keys: list[str]) -> list[str]:
        dependents: dict[str, list[str]] = {}
        for source in ("dependentRequired", "dependencies"):
            spec = schema.get(source)
            if isinstance(spec, Mapping):
                for name, needed in spec.items():
                    if isinstance(needed, list):
                        dependents.setdefault(name, []).extend(needed)
        if not dependents:
            return keys
        out = list(keys)
        for key in out:  # grows while iterating: pulls in transitive dependencies
            out.extend(d for d in dependents.get(key, []) if d not in out)
        return out

    def _extra_keys(
        self, schema: Mapping[str, Any], taken: list[str], count: int, path: str
    ) -> list[str]:
        if count <= 0:
            return []
        patterns = [p for p in (schema.get("patternProperties") or {}) if isinstance(p, str)]
        names_schema = schema.get("propertyNames", True)
        allow_any = schema.get("additionalProperties", True) is not False
        names: list[str] = []
        for attempt in range(count * _LOCAL_ATTEMPTS):
            if len(names) >= count:
                break
            self.tick()
            if patterns and (not allow_any or attempt % 2 == 0):
                name = self.xeger(self.rng.choice(patterns), 0, path)
            elif allow_any:
                if isinstance(names_schema, Mapping) and isinstance(
                    names_schema.get("pattern"), str
                ):
                    name = self.xeger(names_schema["pattern"], 0, path)
                else:
                    name = self.rng.choice(_EXTRA_KEYS)
                    if attempt >= len(_EXTRA_KEYS):
                        name = f"{name}_{attempt}"
            else:
                break
            if name in taken or name in names:
                continue
            if names_schema is not True and not self.is_valid(names_schema, name):
                continue
            names.append(name)
        if len(names) < count and len(taken) + len(names) < schema.get("minProperties", 0):
            raise UnsatisfiableSchemaError(
                f"at {path!r}: minProperties {schema.get('minProperties')} cannot be met"
                " (keywords 'additionalProperties' / 'patternProperties' / 'propertyNames')"
            )
        return names

    @staticmethod
    def _property_schema(
        props: Mapping[str, Any], patterns: Mapping[str, Any], extra: Any, key: str
    ) -> Any:
        found: list[Any] = [props[key]] if key in props else []
        found += [s for p, s in patterns.items() if _search(p, key)]
        if not found:
            return extra
        if len(found) == 1:
            return found[0]
        return {"allOf": found}


# --------------------------------------------------------------------------------------------
# Plausible values
# --------------------------------------------------------------------------------------------


def _number_preference(hint: str | None) -> tuple[float, float, int]:
    """Plausible (low, high, decimals) for a number named `hint`."""
    tokens = set(_tokens(hint)) if hint else set()
    table: tuple[tuple[tuple[str, ...], tuple[float, float, int]], ...] = (
        (("lat", "latitude"), (-90, 90, 4)),
        (("lon", "lng", "long", "longitude"), (-180, 180, 4)),
        (("age",), (18, 90, 0)),
        (("year",), (1990, 2030, 0)),
        (("month",), (1, 12, 0)),
        (("day",), (1, 28, 0)),
        (("hour", "hours"), (0, 23, 0)),
        (("minute", "minutes", "second", "seconds"), (0, 59, 0)),
        (("page",), (1, 5, 0)),
        (("rating", "stars"), (1, 5, 1)),
        (("temperature", "temp"), (-10, 35, 1)),
        (("price", "amount", "cost", "total", "balance", "salary"), (1, 500, 2)),
        (("percent", "percentage", "pct"), (0, 100, 1)),
        (("port",), (1024, 65535, 0)),
        (("id",), (1, 9999, 0)),
        (
            (
                "limit",
                "count",
                "num",
                "max",
                "top",
                "k",
                "n",
                "size",
                "quantity",
                "qty",
                "results",
                "guests",
                "people",
                "nights",
                "days",
            ),
            (1, 10, 0),
        ),
    )
    for names, preference in table:
        if tokens.intersection(names):
            return preference
    return (0, 100, 1)


def _email(rng: random.Random) -> str:
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    return f"{first.lower()}.{last.lower()}@{rng.choice(_DOMAINS)}"


def _url(rng: random.Random) -> str:
    return f"https://{rng.choice(_DOMAINS)}/{rng.choice(_WORDS)}"


def _date(rng: random.Random) -> str:
    return f"{rng.randint(2023, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _time(rng: random.Random) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.choice((0, 15, 30, 45)):02d}:00Z"


def _datetime(rng: random.Random) -> str:
    return f"{_date(rng)}T{_time(rng)}"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _short_id(rng: random.Random, prefix: str) -> str:
    return f"{prefix}_{rng.getrandbits(24):06x}"


_FORMATS: Final[Mapping[str, Callable[[random.Random], str]]] = {
    "date-time": _datetime,
    "date": _date,
    "time": _time,
    "email": _email,
    "idn-email": _email,
    "uri": _url,
    "url": _url,
    "iri": _url,
    "uri-reference": _url,
    "iri-reference": _url,
    "uri-template": lambda rng: f"https://{rng.choice(_DOMAINS)}/items/{{id}}",
    "uuid": _uuid,
    "ipv4": lambda rng: f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
    "ipv6": lambda rng: f"2001:db8::{rng.getrandbits(16):x}",
    "hostname": lambda rng: f"{rng.choice(_WORDS)}.{rng.choice(_DOMAINS)}",
    "idn-hostname": lambda rng: f"{rng.choice(_WORDS)}.{rng.choice(_DOMAINS)}",
    "duration": lambda rng: rng.choice(("P1D", "PT30M", "PT2H", "P1W", "P3M")),
    "json-pointer": lambda rng: f"/{rng.choice(_WORDS)}/0",
    "relative-json-pointer": lambda rng: f"1/{rng.choice(_WORDS)}",
    "regex": lambda rng: "^[a-z]+$",
    "byte": lambda rng: rng.choice(("aGVsbG8=", "bW9jaw==", "ZGF0YQ==")),
    "password": lambda rng: f"s3cret-{rng.getrandbits(16):04x}",
}


def _hinted_string(rng: random.Random, hint: str) -> str | None:
    """A value that suits a property called `hint`, or None if the name says nothing."""
    tokens = _tokens(hint)
    if not tokens:
        return None
    words = set(tokens)
    last = tokens[-1]

    def has(*names: str) -> bool:
        return not words.isdisjoint(names)

    if has("email", "mail"):
        return _email(rng)
    if has("url", "uri", "link", "website", "homepage", "href", "endpoint"):
        return _url(rng)
    if last in _ID_TOKENS or (last == "key" and len(tokens) > 1):
        if last in ("uuid", "guid"):
            return _uuid(rng)
        prefix = tokens[0] if tokens[0] not in _ID_TOKENS else "id"
        return _short_id(rng, prefix[:4])
    if last in ("unit", "units"):
        return "celsius"
    if has("file", "filename", "path"):
        return rng.choice(_FILES)
    if has("city", "town"):
        return rng.choice(_CITIES)
    if has("location", "place", "destination", "origin", "where", "region", "area"):
        return rng.choice(_LOCATIONS)
    if has("street"):
        return rng.choice(_STREETS)
    if has("address"):
        return f"{rng.choice(_STREETS)}, {rng.choice(_CITIES)}"
    if has("country"):
        return rng.choice(_COUNTRIES)
    if has("username", "handle", "login") or tokens == ("user",):
        return f"{rng.choice(_FIRST_NAMES).lower()}{rng.randint(1, 99)}"
    if (last == "name" and tokens[0] == "first") or has("firstname"):
        return rng.choice(_FIRST_NAMES)
    if last in ("surname", "lastname") or (last == "name" and tokens[0] in ("last", "family")):
        return rng.choice(_LAST_NAMES)
    if (last == "name" and (len(tokens) == 1 or tokens[0] in _PERSON_PREFIXES)) or has(
        "author", "assignee", "person", "recipient", "sender", "customer", "owner", "contact"
    ):
        return f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
    if has("company", "organization", "organisation", "org", "employer", "vendor"):
        return rng.choice(_COMPANIES)
    if last == "name":
        return f"{rng.choice(_WORDS).title()} {rng.choice(_WORDS).title()}"
    if has("phone", "mobile", "tel", "telephone"):
        return f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
    if has("timezone", "tz"):
        return rng.choice(_TIMEZONES)
    if has("timestamp", "datetime", "time") or last == "at":
        return _datetime(rng)
    if has("date", "day", "birthday", "dob", "deadline", "due"):
        return _date(rng)
    if has("lang", "language", "locale"):
        return rng.choice(_LANGUAGES)
    if has("currency"):
        return rng.choice(_CURRENCIES)
    if has("color", "colour"):
        return rng.choice(_COLORS)
    if has("status"):
        return rng.choice(_STATUSES)
    if has("query", "q", "search", "keyword", "keywords", "term", "prompt", "question", "topic"):
        return rng.choice(_QUERIES)
    if has("title", "subject", "headline"):
        return rng.choice(_TITLES)
    if has(
        "description",
        "text",
        "content",
        "message",
        "body",
        "comment",
        "note",
        "notes",
        "reason",
        "details",
        "summary",
        "instructions",
        "answer",
        "response",
    ):
        return rng.choice(_SENTENCES)
    if has("category", "tag", "label", "type", "kind", "genre", "group"):
        return rng.choice(_CATEGORIES)
    if has("zip", "postal", "postcode", "zipcode"):
        return f"{rng.randint(10000, 99999)}"
    if has("symbol", "ticker"):
        return rng.choice(("AAPL", "MSFT", "GOOG", "AMZN"))
    if has("sort", "order", "direction"):
        return rng.choice(("asc", "desc"))
    if has("format"):
        return rng.choice(("json", "csv", "markdown"))
    if has("version"):
        return f"{rng.randint(1, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}"
    if has("password", "secret", "token"):
        return f"tok_{rng.getrandbits(32):08x}"
    return None


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def generate_instance(
    schema: Mapping[str, Any] | bool,
    rng: random.Random,
    suggest: Suggest | None = None,
    budget: GenerationBudget | None = None,
) -> Any:
    """Return a JSON value (dict/list/str/int/float/bool/None) valid against `schema`.

    `schema` is a JSON Schema (draft 4 to 2020-12, chosen by ``$schema``, default 2020-12) and
    may use OpenAPI 3.0's ``nullable``.  The value depends only on the schema and the state of
    `rng` (which is advanced).  Raises :class:`UnsatisfiableSchemaError` when no value can be
    produced; the message names the keyword and JSON pointer at fault.

    ``suggest``, when given, proposes values for named properties (the user's own words for a
    tool call's arguments); a proposal is used only where the property's schema accepts it.
    ``budget`` is what the caller's request may still spend (one per request, shared by its
    choices); :class:`GenerationLimitError` says which limit a schema would exceed.
    """
    if not isinstance(schema, Mapping | bool):
        raise TypeError(f"schema must be a mapping or a bool, not {type(schema).__name__}")
    budget = budget if budget is not None else GenerationBudget()
    compiled = budget.prepared(schema, _prepare)
    generator = _Generator(compiled, rng, suggest, budget)
    problem = "no attempt made"
    # Why validate and retry: the generator is a heuristic (lossy allOf merges, regex
    # lookarounds, float multipleOf, oneOf overlap, `not`, ...), while the caller promises the
    # client a valid value.  jsonschema is the referee; a failed draw is simply redrawn, and the
    # attempts are bounded so an unsatisfiable schema ends in a clear error, not a hang.
    try:
        for _ in range(_MAX_ATTEMPTS):
            try:
                value = generator.generate(compiled.root, "#", (), None)
            except (_Retry, UnsatisfiableSchemaError) as exc:
                problem = str(exc)
                continue
            if generator.is_valid(compiled.root, value):
                return value
            problem = _describe_failure(compiled.validator, value)
    except RecursionError:
        # The backstop behind the depth and $ref-chain limits: jsonschema follows `$ref`
        # inside `not`/`anyOf` by recursion too, one chain the generator never walks.
        raise GenerationLimitError(
            "the schema nests (through $ref, not, anyOf, ...) deeper than Python's stack"
        ) from None
    raise UnsatisfiableSchemaError(
        f"could not generate a valid instance in {_MAX_ATTEMPTS} attempts: {problem}"
    )


def _prepare(schema: Schema) -> _Compiled:
    # The shape is checked first: serialising or compiling a deeper schema, or parsing a
    # deeper pattern, would recurse past Python's stack limit.
    check_schema_shape(schema)
    return _compile(_cache_key(schema))


def _describe_failure(validator: Any, value: Any) -> str:
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is None:
        return "validation failed"
    keyword_path = _pointer(error.absolute_schema_path)
    return f"generated value fails {keyword_path!r} (keyword {error.validator!r}): {error.message}"
