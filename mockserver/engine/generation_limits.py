"""What generating one reply from a schema may cost, and the error that names the limit hit.

A structured-output schema or a tool's ``parameters`` is the client's to write, and a few
hundred bytes can ask for a 100-million-character string, a regex that backtracks for hours,
or a value nested deeper than Python's stack. The generator (:mod:`engine.instances`) spends a
:class:`GenerationBudget` shared by every choice of one request (so ``n: 128`` costs what one
budget allows, not 128 of them) and raises :class:`GenerationLimitError` when a schema asks
for more; the API answers it as a 400 that names the request field and the limit.

The limits are far above what a model's reply holds (a gpt-4 reply is at most a few thousand
tokens), so a schema a real client sends never meets them; they are constants, not options.

Regex matching uses the ``regex`` package instead of ``re``: the same syntax and semantics
(the docs say patterns follow Python's ``re``), plus a timeout, because a backtracking match
(``^(a|a)+$`` on "aaaa...ab") cannot be interrupted in ``re``. A match that times out stops
generation with a 400; it never blocks a worker.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar, cast

import regex  # type: ignore[import-untyped]  # no type information is installed
from jsonschema import _keywords  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]

try:  # Python 3.11+ moved the regex parser; rstr uses the same one.
    from re import _parser as sre_parse  # type: ignore[attr-defined,unused-ignore]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse  # type: ignore[no-redef,unused-ignore]

# Characters in one generated string (a `minLength`, or the shortest match of a `pattern`).
MAX_STRING_LENGTH: Final = 100_000
# Items of one generated array (`minItems`) and properties of one object (`minProperties`).
MAX_ITEMS: Final = 10_000
# Characters of all the values generated for one request, every choice included.
MAX_OUTPUT_CHARS: Final = 2_000_000
# Generator steps (one per schema node visited) for one request, every choice included.
MAX_STEPS: Final = 50_000
# Nesting of the schema document (objects and arrays) and of the generated value.
MAX_SCHEMA_DEPTH: Final = 64
MAX_VALUE_DEPTH: Final = 32
# `$ref`s followed one after another on one path (a chain of definitions).
MAX_REF_CHAIN: Final = 64
# One `pattern` (or `patternProperties` key): its length, and how deeply its groups nest
# (the regex parsers recurse once per group level).
MAX_PATTERN_LENGTH: Final = 10_000
MAX_PATTERN_DEPTH: Final = 50
# One regex match against one string; a slower match means catastrophic backtracking.
# Generous, since a loaded machine (2 cores shared by tens of processes) runs a valid match
# many times slower than an idle one; a backtracking match takes seconds to years.
REGEX_TIMEOUT_S: Final = 0.5
# Wall-clock backstop for one request's generation, whatever the cause. Valid work is kept
# far below it by the other limits, so a loaded CI machine never trips it on a valid request.
MAX_GENERATION_S: Final = 10.0
# How often (in steps) the wall clock is read.
_CLOCK_EVERY: Final = 256

LIMIT_CODE: Final = "schema_too_complex"

T = TypeVar("T")
R = TypeVar("R")


class GenerationLimitError(Exception):
    """A schema asks for more than generation attempts; ``param`` names the request field."""

    def __init__(self, detail: str, param: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.param = param

    def at(self, param: str) -> GenerationLimitError:
        """The same error, naming the request field the schema came from."""
        return type(self)(self.detail, param)

    @property
    def message(self) -> str:
        where = f"The schema in '{self.param}'" if self.param else "A schema"
        return f"{where} asks for more than the mock generates: {self.detail}."


class CannotGenerateError(GenerationLimitError):
    """The generator found no value for a schema it cannot prove unsatisfiable (regex syntax
    it cannot draw from, constraints it only checks after drawing). Answered as the same 400
    as a limit: content that breaks the schema, or a ``{}`` that claims a contradiction, would
    mislead the client more than a clear refusal."""

    @property
    def message(self) -> str:
        where = f"the schema in '{self.param}'" if self.param else "the schema"
        return (
            f"The mock cannot generate a value for {where}: {self.detail}. The schema may be"
            " satisfiable, but the mock's generator found no value for it; simplify it, or set"
            " the reply with a stub (POST /_mock/stubs)."
        )


@dataclass
class GenerationBudget:
    """What one request may still spend; every choice of the request draws on it."""

    steps: int = MAX_STEPS
    chars: int = MAX_OUTPUT_CHARS
    deadline: float = field(default_factory=lambda: time.monotonic() + MAX_GENERATION_S)
    # What `deadline` is measured on (a test passes a clock that does not depend on the
    # machine's speed).
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    # Schemas this request already prepared (checked, serialised, compiled), by identity of
    # the schema and of the preparation: each of n choices would otherwise serialise the same
    # large schema again.
    _prepared: dict[tuple[int, int], tuple[object, Any]] = field(default_factory=dict, repr=False)
    # A schema read from the prompt's words failed to generate (instances.generate_from_words).
    words_failed: bool = False

    def prepared(self, schema: T, prepare: Callable[[T], R]) -> R:
        """``prepare(schema)``, once per schema object and preparation for the whole request."""
        key = (id(schema), id(prepare))
        entry = self._prepared.get(key)
        if entry is not None and entry[0] is schema:
            return cast(R, entry[1])
        result = prepare(schema)
        self._prepared[key] = (schema, result)
        return result

    def spend_step(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise GenerationLimitError(
                f"more than {MAX_STEPS} generation steps (limit: schema nodes visited per"
                " request, all choices together; a large minItems, minProperties or n)"
            )
        if self.steps % _CLOCK_EVERY == 0:
            self.check_clock()

    def check_clock(self) -> None:
        """Stop once the request's generation time is spent (called where work is not
        counted in steps: regex strings, validation)."""
        if self.clock() > self.deadline:
            raise GenerationLimitError(f"generation took longer than {MAX_GENERATION_S:g} s")

    def spend_chars(self, count: int) -> None:
        self.chars -= count
        if self.chars < 0:
            raise GenerationLimitError(
                f"more than {MAX_OUTPUT_CHARS} characters of generated values (limit per"
                " request, all choices together)"
            )


def check_string_length(length: int, where: str) -> None:
    if length > MAX_STRING_LENGTH:
        raise GenerationLimitError(
            f"at {where!r}: a string of at least {length} characters is required; the limit"
            f" is {MAX_STRING_LENGTH} characters per string"
        )


def check_count(count: int, keyword: str, where: str) -> None:
    if count > MAX_ITEMS:
        raise GenerationLimitError(
            f"at {where!r}: {keyword} {count} asks for more than {MAX_ITEMS} members; the"
            f" limit is {MAX_ITEMS} items per array and properties per object"
        )


def check_schema_shape(schema: Any) -> None:
    """Refuse a schema document nested deeper than :data:`MAX_SCHEMA_DEPTH`, or holding a
    pattern longer or more deeply grouped than the pattern limits. Walked without recursion,
    so the check itself cannot overflow the stack."""
    stack: list[tuple[Any, int, str]] = [(schema, 1, "#")]
    while stack:
        node, depth, where = stack.pop()
        if depth > MAX_SCHEMA_DEPTH:
            raise GenerationLimitError(
                f"the schema is nested more than {MAX_SCHEMA_DEPTH} levels deep (objects and"
                f" arrays of the JSON document; about {MAX_SCHEMA_DEPTH // 2} levels of"
                " nested properties)"
            )
        if isinstance(node, Mapping):
            _check_patterns_of(node, where)
            children: Iterable[tuple[Any, Any]] = node.items()
        elif isinstance(node, list | tuple):
            children = enumerate(node)
        else:
            continue
        # Only containers go on the stack: a 300,000-value enum adds nothing to walk (the
        # scalar test first, since an ABC check on each string costs more than the walk).
        stack.extend(
            (child, depth + 1, f"{where}/{key}")
            for key, child in children
            if not isinstance(child, _SCALARS) and isinstance(child, Mapping | list | tuple)
        )


_SCALARS: Final = (str, int, float, bool, type(None))


def _check_patterns_of(node: Mapping[str, Any], where: str) -> None:
    patterns = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
    if isinstance(node.get("patternProperties"), Mapping):
        patterns += [key for key in node["patternProperties"] if isinstance(key, str)]
    for pattern in patterns:
        if len(pattern) > MAX_PATTERN_LENGTH:
            raise GenerationLimitError(
                f"at {_short(where)!r}: a pattern of {len(pattern)} characters; the limit is"
                f" {MAX_PATTERN_LENGTH} characters per pattern"
            )
        if _group_depth(pattern) > MAX_PATTERN_DEPTH:
            raise GenerationLimitError(
                f"at {_short(where)!r}: pattern {_short(pattern)!r} nests groups more than"
                f" {MAX_PATTERN_DEPTH} levels deep"
            )


def _group_depth(pattern: str) -> int:
    """How deeply the groups of `pattern` nest (escapes and character classes skipped; a
    scan, since parsing is what could recurse too deeply)."""
    depth = deepest = 0
    escaped = in_class = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth = max(0, depth - 1)
    return deepest


def check_pattern(pattern: str, where: str, parsable: str | None = None) -> int:
    """The length of the shortest match of `pattern`; refuses a pattern whose shortest match
    is longer than a generated string may be (``^(?:(?:a{1000}){1000}){100}$`` needs 100
    million characters). `parsable` is the pattern in ``re`` syntax, when it was rewritten."""
    shortest = _shortest_match(pattern if parsable is None else parsable)
    if shortest > MAX_STRING_LENGTH:
        raise GenerationLimitError(
            f"at {where!r}: pattern {_short(pattern)!r} only matches strings of at least"
            f" {shortest} characters; the limit is {MAX_STRING_LENGTH} characters per string"
        )
    return shortest


@functools.lru_cache(maxsize=1024)
def _shortest_match(pattern: str) -> int:
    try:
        return int(sre_parse.parse(pattern).getwidth()[0])
    except (sre_parse.error, OverflowError, RecursionError):
        return 0  # not a Python regex: generation reports it as unsatisfiable


def search(pattern: str, text: str) -> bool:
    """``re.search(pattern, text)`` that gives up after :data:`REGEX_TIMEOUT_S`."""
    try:
        return _compiled(pattern).search(text, timeout=REGEX_TIMEOUT_S) is not None
    except TimeoutError:
        raise GenerationLimitError(
            f"pattern {_short(pattern)!r} needs more than {REGEX_TIMEOUT_S:g} s to match a"
            f" {len(text)}-character string (it backtracks catastrophically)"
        ) from None


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Any:
    return regex.compile(pattern)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------------------------
# jsonschema keywords with bounded cost
# --------------------------------------------------------------------------------------------
# jsonschema matches `pattern`, `patternProperties` and the patterns `additionalProperties`
# consults with `re`, and checks `enum` by comparing the value with every member (0.3 s for a
# 300,000-value enum, once per validation). These replacements keep its semantics and its
# messages; they are installed with `jsonschema.validators.extend` by engine.instances.


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if validator.is_type(instance, "string") and not search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: Any, instance: Any, schema: Any) -> Any:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, extra: Any, instance: Any, schema: Any) -> Any:
    if not validator.is_type(instance, "object") or "patternProperties" not in schema:
        yield from _keywords.additionalProperties(validator, extra, instance, schema)
        return
    named = schema.get("properties", {})
    patterns = list(schema["patternProperties"])
    extras = [
        key
        for key in instance
        if key not in named and not any(search(pattern, key) for pattern in patterns)
    ]
    if validator.is_type(extra, "object"):
        for key in extras:
            yield from validator.descend(instance[key], extra, path=key)
    elif not extra and extras:
        verb = "does" if len(extras) == 1 else "do"
        joined = ", ".join(repr(each) for each in sorted(extras))
        listed = ", ".join(repr(each) for each in sorted(patterns))
        yield ValidationError(f"{joined} {verb} not match any of the regexes: {listed}")


def _enum(validator: Any, members: Any, instance: Any, schema: Any) -> Any:
    if not isinstance(members, list) or len(members) < _INDEXED_ENUM_SIZE:
        yield from _keywords.enum(validator, members, instance, schema)
    elif not _enum_index(members).holds(instance):
        yield ValidationError(f"{instance!r} is not one of the {len(members)} enum values")


BOUNDED_KEYWORDS: Final[Mapping[str, Any]] = {
    "pattern": _pattern,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional_properties,
    "enum": _enum,
}

# Smaller enums are compared member by member, as jsonschema does.
_INDEXED_ENUM_SIZE: Final = 64


@dataclass(frozen=True)
class _EnumIndex:
    """The members of a large enum, for membership tests with JSON equality: the strings as
    they are (a string equals only a string), the others frozen (see :func:`freeze`)."""

    strings: frozenset[str]
    others: frozenset[Any]

    @classmethod
    def of(cls, members: list[Any]) -> _EnumIndex:
        strings = frozenset(member for member in members if type(member) is str)
        others = frozenset(freeze(member) for member in members if type(member) is not str)
        return cls(strings, others)

    def holds(self, instance: Any) -> bool:
        if type(instance) is str:
            return instance in self.strings
        return freeze(instance) in self.others


# Enum lists indexed recently, by identity; each entry keeps its list alive so the id stays
# its own. The compiled-schema cache keeps the lists of recent schemas alive anyway.
_ENUM_INDEXES: dict[int, tuple[list[Any], _EnumIndex]] = {}
_ENUM_INDEXES_KEPT: Final = 64


def _enum_index(members: list[Any]) -> _EnumIndex:
    entry = _ENUM_INDEXES.get(id(members))
    if entry is not None and entry[0] is members:
        return entry[1]
    index = _EnumIndex.of(members)
    if len(_ENUM_INDEXES) >= _ENUM_INDEXES_KEPT:
        _ENUM_INDEXES.pop(next(iter(_ENUM_INDEXES)), None)
    _ENUM_INDEXES[id(members)] = (members, index)
    return index


def freeze(value: Any) -> Any:
    """Hashable form with JSON equality: 1 == 1.0, but true != 1 (as jsonschema's ``equal``)."""
    if isinstance(value, bool) or value is None:
        return ("c", value)
    if isinstance(value, int | float):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, list):
        return ("l", tuple(freeze(v) for v in value))
    if isinstance(value, dict):
        return ("d", tuple(sorted((k, freeze(v)) for k, v in value.items())))
    return ("o", repr(value))
