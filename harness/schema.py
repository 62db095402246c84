"""OpenAPI 3.0 Schema Objects as compiled JSON Schema validators that report every violation.

OpenAPI 3.0 schemas are not JSON Schema: ``nullable`` must become a type list, ``example``
and ``x-*`` are annotations. :func:`to_json_schema` converts a schema once; :class:`CompiledSchema`
wraps a ``jsonschema_rs`` Draft 4 validator (the draft OAS 3.0 is built on, as schemathesis
also uses) with a fast ``is_valid`` path and a slow path that turns errors into
:class:`Violation` values with JSON pointers. Failed ``oneOf``/``anyOf`` unions are explained by
the branch the instance was meant for (picked by its ``type``/``role`` tag), so a message says
``messages[1].content: 5 is not of type "string"`` instead of "not valid under any of the schemas".

Formats are asserted on requests only (``assert_formats=True``, see
:data:`ASSERTED_REQUEST_FORMATS`), as schemathesis judges the requests it generates, so a
replayed citation with ``"url": ""`` is refused where the spec says ``format: uri``. Response
schemas keep formats as annotations, as python-jsonschema without a FormatChecker does: the
mock's checks of a live API's bodies do not fail on a URL the API itself chose to send.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from harness.json_pointer import pointer

# Keywords whose value is one schema, a list of schemas, or a map of name -> schema.
_SCHEMA_KEYWORDS = frozenset({"items", "not", "additionalProperties", "additionalItems"})
_SCHEMA_LIST_KEYWORDS = frozenset({"allOf", "anyOf", "oneOf"})
_SCHEMA_MAP_KEYWORDS = frozenset({"properties", "patternProperties", "definitions"})
# OpenAPI-only annotations that mean nothing to a JSON Schema engine.
_DROPPED_KEYWORDS = frozenset(
    {"nullable", "example", "discriminator", "xml", "externalDocs", "deprecated"}
)
# Properties that tag the branches of the specs' unions (events by `type`, messages by `role`).
TAG_PROPERTIES = ("type", "role")

PathPart = str | int

# The string formats a request schema asserts: exactly those jsonschema_rs's Draft 4
# validator defines with ``validate_formats=True`` (RFC 3986 ``uri``, RFC 3339 ``date-time``,
# ...), the judge schemathesis uses to call a generated value invalid. OpenAPI's numeric
# formats (``int32``, ``int64``, ``float``, ``double``) and names with no checkable definition
# (``password``, ``byte``, ``binary``) stay annotations. The shipped specs declare only
# ``uri`` on requests (tests/unit/test_request_formats.py keeps that inventory).
ASSERTED_REQUEST_FORMATS = frozenset(
    {"date", "date-time", "email", "hostname", "idn-email", "ipv4", "ipv6", "regex", "time", "uri"}
)


def to_json_schema(schema: Any) -> Any:
    """Convert an OpenAPI 3.0 Schema Object to a Draft 4 JSON Schema (a new object).

    ``type: T`` with ``nullable: true`` becomes ``type: [T, "null"]``; ``nullable`` without
    ``type`` means nothing in OAS 3.0.3 and is dropped (the schema keeps accepting anything it
    accepted). An ``enum`` is left as written: OAS 3.0.3 says ``nullable`` does not add
    ``null`` past an enum, so the overlays add it explicitly where the wire needs it.
    """
    if not isinstance(schema, Mapping):
        return schema
    converted: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROPPED_KEYWORDS or key.startswith("x-"):
            continue
        if key in _SCHEMA_KEYWORDS:
            converted[key] = to_json_schema(value)
        elif key in _SCHEMA_LIST_KEYWORDS and isinstance(value, list):
            converted[key] = [to_json_schema(item) for item in value]
        elif key in _SCHEMA_MAP_KEYWORDS and isinstance(value, Mapping):
            converted[key] = {name: to_json_schema(item) for name, item in value.items()}
        else:
            converted[key] = value
    if schema.get("nullable") is True and "type" in converted:
        declared = converted["type"]
        types = list(declared) if isinstance(declared, list) else [declared]
        if "null" not in types:
            types.append("null")
        converted["type"] = types
    return converted


# At most this many violations are listed for one instance; an instance with more nodes
# than this is explained by its first violation only (see CompiledSchema.violations).
MAX_LISTED_VIOLATIONS = 1000


def _has_at_most_nodes(instance: Any, limit: int) -> bool:
    """Whether ``instance`` has at most ``limit`` values in all (stops counting past it)."""
    pending = [instance]
    seen = 0
    while pending:
        value = pending.pop()
        seen += 1
        if seen > limit:
            return False
        if isinstance(value, Mapping):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return True


@dataclass(frozen=True)
class Violation:
    """One way an instance breaks its schema."""

    path: tuple[PathPart, ...]
    message: str
    keyword: str
    missing: str | None = None

    @property
    def pointer(self) -> str:
        """RFC 6901 JSON pointer to the offending value (``""`` is the whole document)."""
        return pointer(self.path)

    @property
    def param(self) -> str:
        """The field an OpenAI-style error names: ``messages[1].content``.

        For a missing required property it names the property that is missing.
        """
        parts: list[PathPart] = [*self.path, self.missing] if self.missing else list(self.path)
        text = ""
        for part in parts:
            if isinstance(part, int):
                text += f"[{part}]"
            else:
                text += f".{part}" if text else part
        return text

    def prefixed(self, prefix: Sequence[PathPart]) -> Violation:
        """The same violation seen from an enclosing document."""
        return Violation((*prefix, *self.path), self.message, self.keyword, self.missing)

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


def compile_schema(schema: Any, *, assert_formats: bool = False) -> jsonschema_rs.Draft4Validator:
    """Compile a converted JSON Schema with the settings the whole project uses.

    ``assert_formats`` checks :data:`ASSERTED_REQUEST_FORMATS` (for request bodies); by
    default formats are annotations.
    """
    return jsonschema_rs.Draft4Validator(schema, validate_formats=assert_formats)


class CompiledSchema:
    """A converted schema compiled once; ``violations`` lists every error as data."""

    def __init__(self, json_schema: Any, *, assert_formats: bool = False) -> None:
        self.json_schema = json_schema
        self._validator = compile_schema(json_schema, assert_formats=assert_formats)

    @classmethod
    def from_openapi(cls, schema: Any, *, assert_formats: bool = False) -> CompiledSchema:
        return cls(to_json_schema(schema), assert_formats=assert_formats)

    def is_valid(self, instance: Any) -> bool:
        return bool(self._validator.is_valid(instance))

    def violations(self, instance: Any) -> list[Violation]:
        try:
            return self._violations(instance)
        except (ValueError, RecursionError) as exc:  # jsonschema_rs's recursion limit
            return [Violation((), f"nested too deeply to be validated ({exc})", "maxDepth")]

    def _violations(self, instance: Any) -> list[Violation]:
        if self._validator.is_valid(instance):
            return []
        if not _has_at_most_nodes(instance, MAX_LISTED_VIOLATIONS):
            # jsonschema_rs builds every error before the first is returned (iter_errors
            # is not lazy, and each error has its cost): an instance with many nodes can
            # hold as many errors. Its first error alone, which ``validate`` finds and stops at.
            try:
                self._validator.validate(instance)
            except jsonschema_rs.ValidationError as first:
                return _tags_first(_unique(_explain(first, self.json_schema)))[
                    :MAX_LISTED_VIOLATIONS
                ]
            return []
        found: list[Violation] = []
        for error in self._validator.iter_errors(instance):
            found.extend(_explain(error, self.json_schema))
        return _tags_first(_unique(found))[:MAX_LISTED_VIOLATIONS]


class TaggedUnion:
    """A ``oneOf`` whose branches are told apart by a single-value ``type`` enum.

    Validating an event against the one branch its ``type`` names is what makes stream
    checks fast and their messages precise (specs/README.md §5: far faster than trying all
    53 branches, and an error path instead of "not valid under any of the schemas").
    """

    def __init__(self, branches: Mapping[str, CompiledSchema], tag: str = "type") -> None:
        self.branches = dict(branches)
        self.tag = tag

    @classmethod
    def from_openapi(cls, schema: Mapping[str, Any]) -> TaggedUnion | None:
        """Build a union from an OpenAPI ``oneOf``; ``None`` if it has no tag to dispatch on."""
        branches = schema.get("oneOf")
        if not isinstance(branches, list) or not branches:
            return None
        for tag in TAG_PROPERTIES:
            values = [_tag_value(branch, tag) for branch in branches]
            if all(value is not None for value in values) and len(set(values)) == len(values):
                compiled = {
                    str(value): CompiledSchema.from_openapi(branch)
                    for value, branch in zip(values, branches, strict=True)
                }
                return cls(compiled, tag)
        return None

    def is_valid(self, instance: Any) -> bool:
        branch = self._branch_for(instance)
        return branch is not None and branch.is_valid(instance)

    def violations(self, instance: Any) -> list[Violation]:
        if not isinstance(instance, Mapping):
            return [Violation((), f'{_short(instance)} is not of type "object"', "type")]
        branch = self._branch_for(instance)
        if branch is None:
            known = ", ".join(sorted(self.branches))
            value = instance.get(self.tag)
            if value is None:
                message = f'"{self.tag}" is a required property (one of: {known})'
                return [Violation((), message, "required", self.tag)]
            message = f"unknown {self.tag} {_short(value)}; expected one of: {known}"
            return [Violation((self.tag,), message, "enum")]
        return branch.violations(instance)

    def _branch_for(self, instance: Any) -> CompiledSchema | None:
        if not isinstance(instance, Mapping):
            return None
        value = instance.get(self.tag)
        return self.branches.get(value) if isinstance(value, str) else None


def _tags_first(violations: list[Violation]) -> list[Violation]:
    """A wrong ``type``/``role`` tag before the rest: an object of another kind than the
    schema takes (a chat image part where only text parts are allowed) misses the fields of
    that kind because of it, and the error names the first violation."""
    return sorted(violations, key=lambda violation: not _is_wrong_tag(violation))


def _is_wrong_tag(violation: Violation) -> bool:
    path = violation.path
    return violation.keyword in ("enum", "const") and bool(path) and path[-1] in TAG_PROPERTIES


def _tag_value(branch: Any, tag: str) -> str | None:
    if not isinstance(branch, Mapping):
        return None
    prop = (branch.get("properties") or {}).get(tag)
    if not isinstance(prop, Mapping):
        return None
    enum = prop.get("enum")
    if isinstance(enum, list) and len(enum) == 1 and isinstance(enum[0], str):
        return enum[0]
    return None


def _explain(error: Any, root_schema: Any) -> list[Violation]:
    """Turn one jsonschema_rs error into violations, descending into failed unions."""
    path = tuple(error.instance_path)
    keyword = str(error.schema_path[-1]) if error.schema_path else ""
    kind = error.kind
    if keyword in ("oneOf", "anyOf") and isinstance(kind, _UNION_KINDS):
        contexts = list(kind.context)
        branch_errors = _best_branch(contexts, path)
        if branch_errors is not None:
            explained: list[Violation] = []
            for sub in branch_errors:
                explained.extend(_explain(sub, root_schema))
            if explained:
                return explained
        tag_violation = _explain_tag(contexts, path, root_schema)
        if tag_violation is not None:
            return [tag_violation]
    if keyword == "enum" and isinstance(kind, jsonschema_rs.ValidationErrorKind.Enum):
        return [Violation(path, _not_one_of(error.instance, kind.options), keyword)]
    missing = getattr(kind, "property", None) if keyword == "required" else None
    return [Violation(path, str(error.message), keyword, str(missing) if missing else None)]


MAX_LISTED_ENUM_VALUES = 30


def _not_one_of(instance: Any, options: Any) -> str:
    """Every allowed value, as JSON: jsonschema_rs names two and "or N other candidates"."""
    values = list(options) if isinstance(options, list) else []
    if not values:
        return f"{_json_text(instance)} is not one of the allowed values"
    listed = ", ".join(_json_text(value) for value in values[:MAX_LISTED_ENUM_VALUES])
    rest = len(values) - MAX_LISTED_ENUM_VALUES
    more = f" and {rest} more" if rest > 0 else ""
    return f"{_json_text(instance)} is not one of: {listed}{more}"


def _json_text(value: Any, limit: int = 80) -> str:
    if isinstance(value, (Mapping, list)):  # a body's whole subtree is not worth printing
        return "an object" if isinstance(value, Mapping) else "an array"
    return _cut(json.dumps(value, ensure_ascii=False, default=repr), limit)


_UNION_KINDS = (
    jsonschema_rs.ValidationErrorKind.OneOfNotValid,
    jsonschema_rs.ValidationErrorKind.AnyOf,
)


def _best_branch(
    contexts: Iterable[Sequence[Any]], union_path: tuple[PathPart, ...]
) -> Sequence[Any] | None:
    """Pick the branch the instance was meant for.

    A branch whose tag (``type``/``role``) does not match is not the one meant; among the
    rest, the branch that failed deepest and with the fewest errors explains best (the
    same idea as ``jsonschema.exceptions.best_match``).
    """
    candidates: list[tuple[int, int, Sequence[Any]]] = []
    for errors in contexts:
        if not errors:
            return None
        if any(_is_tag_mismatch(error, union_path) for error in errors):
            continue
        depth = max(len(error.instance_path) for error in errors)
        candidates.append((-depth, len(errors), errors))
    if not candidates:
        return None
    candidates.sort(key=lambda item: (item[0], item[1]))
    return candidates[0][2]


def _is_tag_mismatch(error: Any, union_path: tuple[PathPart, ...]) -> bool:
    path = tuple(error.instance_path)
    keyword = error.schema_path[-1] if error.schema_path else None
    if path == union_path and keyword == "required":
        return getattr(error.kind, "property", None) in TAG_PROPERTIES
    if len(path) != len(union_path) + 1 or path[: len(union_path)] != union_path:
        return False
    return path[-1] in TAG_PROPERTIES and keyword in ("enum", "const")


def _explain_tag(
    contexts: Sequence[Sequence[Any]], union_path: tuple[PathPart, ...], root_schema: Any
) -> Violation | None:
    """When every branch rejects the tag, say which tag values exist."""
    allowed: list[str] = []
    tag: str | None = None
    for errors in contexts:
        for error in errors:
            if not _is_tag_mismatch(error, union_path):
                continue
            keyword = error.schema_path[-1]
            if keyword == "required":
                tag = tag or str(error.kind.property)
                enum_path = [*error.schema_path[:-1], "properties", tag, "enum"]
            else:
                tag = str(error.instance_path[-1])
                enum_path = list(error.schema_path)
            for value in _lookup(root_schema, enum_path) or []:
                if isinstance(value, str) and value not in allowed:
                    allowed.append(value)
    if tag is None or not allowed:
        return None
    choices = ", ".join(allowed)
    return Violation((*union_path, tag), f'"{tag}" must be one of: {choices}', "enum", None)


def _lookup(document: Any, parts: Sequence[Any]) -> Any:
    node = document
    for part in parts:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _unique(violations: list[Violation]) -> list[Violation]:
    seen: set[tuple[tuple[PathPart, ...], str]] = set()
    unique = []
    for violation in violations:
        key = (violation.path, violation.message)
        if key not in seen:
            seen.add(key)
            unique.append(violation)
    return unique


def _short(value: Any, limit: int = 60) -> str:
    return _cut(repr(value), limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
