"""Schema preparation: normalised once, checked against its metaschema, compiled and cached."""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import jsonschema  # type: ignore[import-untyped]
import jsonschema_rs
from jsonschema import validators as _jsv

from mockserver.engine.generation_limits import BOUNDED_KEYWORDS, check_schema_shape
from mockserver.engine.instances.errors import UnsatisfiableSchemaError
from mockserver.engine.instances.keywords import (
    SINGLE_SUBSCHEMA_KEYS,
    SUBSCHEMA_LIST_KEYS,
    SUBSCHEMA_MAP_KEYS,
)
from mockserver.engine.instances.pointers import pointer

Schema: TypeAlias = Mapping[str, Any] | bool

_DRAFT6_URI: Final = "http://json-schema.org/draft-06/schema#"


@dataclass(frozen=True)
class Compiled:
    root: Any
    validator: Any
    siblings_of_ref_apply: bool


def normalize(node: Any, tuple_items_to_prefix: bool) -> Any:
    """Rewrite OpenAPI / older-draft spellings into the form the validator class understands.

    Why not harness.schema.to_json_schema, the other OpenAPI-to-JSON-Schema conversion: that
    one reads the published *specs* (OpenAPI 3.0 documents, judged as Draft 4 by jsonschema-rs)
    and drops OpenAPI-only annotations. This one reads a *client's* schema (tool
    ``parameters``, ``response_format``), a JSON Schema of any draft from 4 to 2020-12 that may
    carry OpenAPI's ``nullable`` habit; it keeps ``example``/``default`` (the generator reuses
    them), keeps the schema's own dialect, and also rewrites draft-4 exclusive bounds and draft-7
    tuple ``items``. The two share only ``nullable`` + ``type``; on ``nullable`` + ``enum`` they
    differ on purpose: the specs are read as OAS 3.0.3 says (``null`` is not added past an enum;
    the overlays add it where the wire needs it), a client's schema the lenient older way
    (``null`` joins the enum), which costs nothing here since a real value is always tried
    before ``null`` (see EnumMixin._generate_enum).
    """
    if not isinstance(node, dict):
        return node
    out = {key: _normalize_value(key, value, tuple_items_to_prefix) for key, value in node.items()}
    _nullable_to_type(out)
    _boolean_bounds_to_numeric(out)
    if tuple_items_to_prefix:
        _tuple_items_to_prefix_items(out)
    return out


def _normalize_value(key: str, value: Any, tuple_items_to_prefix: bool) -> Any:
    """`value` with its subschemas normalised (`key` says whether it holds any)."""
    if (key in SUBSCHEMA_MAP_KEYS or key == "dependencies") and isinstance(value, dict):
        return {k: normalize(v, tuple_items_to_prefix) for k, v in value.items()}
    if key in SUBSCHEMA_LIST_KEYS and isinstance(value, list):
        return [normalize(v, tuple_items_to_prefix) for v in value]
    if key in SINGLE_SUBSCHEMA_KEYS and isinstance(value, dict | bool):
        return normalize(value, tuple_items_to_prefix)
    return value


def _nullable_to_type(out: dict[str, Any]) -> None:
    """OpenAPI 3.0 `nullable: true` (as clarified in 3.0.3): null is allowed when `type` is
    given; here it also joins an `enum` (see normalize)."""
    nullable = out.pop("nullable", None) if isinstance(out.get("nullable"), bool) else None
    if nullable is not True:
        return
    kind = out.get("type")
    if isinstance(kind, str) and kind != "null":
        out["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        out["type"] = [*kind, "null"]
    enum = out.get("enum")
    if isinstance(enum, list) and None not in enum:
        out["enum"] = [*enum, None]


def _boolean_bounds_to_numeric(out: dict[str, Any]) -> None:
    """Draft-4 boolean exclusive bounds -> draft-6+ numeric form."""
    for exclusive, inclusive in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        flag = out.get(exclusive)
        if isinstance(flag, bool):
            del out[exclusive]
            if flag and inclusive in out:
                out[exclusive] = out.pop(inclusive)


def _tuple_items_to_prefix_items(out: dict[str, Any]) -> None:
    """Draft-7 tuple validation (`items: [...]`) is spelled `prefixItems` in 2020-12."""
    if isinstance(out.get("items"), list):
        out["prefixItems"] = out.pop("items")
        if "additionalItems" in out:
            out["items"] = out.pop("additionalItems")


def _json_default(obj: object) -> object:
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, tuple | list):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def cache_key(schema: Schema) -> str:
    # Key order is kept (no sort_keys): the order of `properties` is the order of the generated
    # object, and two orderings must not share a cache entry or output would depend on history.
    try:
        return json.dumps(schema, separators=(",", ":"), default=_json_default, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise UnsatisfiableSchemaError(f"schema is not JSON-serialisable: {exc}") from exc


@functools.lru_cache(maxsize=512)
def compile_schema(key: str) -> Compiled:
    raw = json.loads(key)
    cls = _jsv.validator_for(raw, default=jsonschema.Draft202012Validator)
    if cls is jsonschema.Draft3Validator:
        raise UnsatisfiableSchemaError("draft-03 schemas are not supported ($schema)")
    root = normalize(raw, tuple_items_to_prefix=cls is jsonschema.Draft202012Validator)
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
        where = pointer(exc.absolute_path)
        raise UnsatisfiableSchemaError(f"invalid schema at {where!r}: {exc.message}") from exc
    # Same dialect, with regex matching and enum checks of bounded cost (generation_limits).
    bounded = _jsv.extend(cls, BOUNDED_KEYWORDS)
    validator = bounded(root, format_checker=cls.FORMAT_CHECKER)
    # Up to draft 7, keywords next to `$ref` are ignored; from 2019-09 on they apply too.
    siblings = cls not in (jsonschema.Draft6Validator, jsonschema.Draft7Validator)
    return Compiled(root=root, validator=validator, siblings_of_ref_apply=siblings)


def _passes_metaschema(root: Any, cls: Any) -> bool:
    if not isinstance(root, Mapping):
        return False
    # Named by the dialect's own metaschema URI, so jsonschema-rs never tries to download an
    # unknown `$schema` (it would, over the network).
    dialect = cls.META_SCHEMA.get("$id") or cls.META_SCHEMA.get("id")
    return bool(jsonschema_rs.meta.is_valid({**root, "$schema": dialect}))


def prepare(schema: Schema) -> Compiled:
    remembered = _REMEMBERED.get(schema)
    if remembered is not None:
        return remembered
    # The shape is checked first: serialising or compiling a deeper schema, or parsing a
    # deeper pattern, would recurse past Python's stack limit.
    check_schema_shape(schema)
    key = cache_key(schema)
    compiled = compile_schema(key)
    _REMEMBERED.offer(schema, compiled, len(key))
    return compiled


class _RememberedByIdentity:
    """Schemas prepared before, found by identity: the very same object, not an equal one
    (a schema parsed from a request is never changed afterwards).

    A tool's ``parameters`` are the same object on every request of an application (a tool
    set is read once, see engine.tool_facts), and preparing them again (the shape walk and
    the JSON text that keys compile_schema's cache) cost some 15 µs a tool call. A schema
    is remembered the second time the same object is prepared, so the new schema of every
    request (a ``response_format``) is never held; and only a small one. A remembered
    schema is held, so its id cannot pass to another object.
    """

    MAX_SCHEMAS = 64
    MAX_KEY_CHARS = 16 * 1024
    MAX_SEEN = 1024

    def __init__(self) -> None:
        self._held: OrderedDict[int, tuple[Schema, Compiled]] = OrderedDict()
        # Ids prepared once, without the objects (an id seen again may be another object's:
        # it is then held, and told apart by identity).
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, schema: Schema) -> Compiled | None:
        with self._lock:
            found = self._held.get(id(schema))
            if found is None or found[0] is not schema:
                return None
            self._held.move_to_end(id(schema))
            return found[1]

    def offer(self, schema: Schema, compiled: Compiled, key_chars: int) -> None:
        if key_chars > self.MAX_KEY_CHARS:
            return
        with self._lock:
            if id(schema) not in self._seen:
                self._seen[id(schema)] = None
                if len(self._seen) > self.MAX_SEEN:
                    self._seen.popitem(last=False)
                return
            self._held[id(schema)] = (schema, compiled)
            if len(self._held) > self.MAX_SCHEMAS:
                self._held.popitem(last=False)


_REMEMBERED = _RememberedByIdentity()
