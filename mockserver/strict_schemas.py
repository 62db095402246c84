"""Structured Outputs' rules for a schema sent with ``strict: true``, refused as the live API
refuses them.

With ``strict: true`` the live API compiles the schema before generating anything and
answers a schema outside its subset with a 400; without ``strict`` it takes any schema. The
most common mistake is an optional field (a zod ``.optional()``, a Python default) left out
of ``required``: the mock used to answer it, so it passed in tests and failed in production.

Only rules with firm evidence are enforced, since a request the live API accepts must never
be refused here. The docs ("Supported schemas" in the Structured Outputs guide,
developers.openai.com/api/docs/guides/structured-outputs) state each rule; the error texts
are the live API's, quoted in public reports:

* the root is an object (the docs: "Root objects must not be anyOf and must be an object"):
  ``Invalid schema for response_format 'AdSegmentPredictionList': schema must be a JSON
  Schema of 'type: "object"', got 'type: "array"'.`` (podly-pure-podcasts/podly_pure_podcasts
  #89); a root without ``type`` (an ``anyOf`` root) reads ``got 'type: "None"'``
  (ComposioHQ/composio#1829, vercel/ai#7005); a root with neither ``type`` nor ``anyOf``
  (``{}``) is left alone, since its answer under ``strict`` is not on record.
* every object sets ``additionalProperties: false`` (the docs: "additionalProperties: false
  must always be set in objects"): ``In context=(), 'additionalProperties' is required to be
  supplied and to be false.`` (dottxt-ai/outlines#844 and #1666, openai/codex#7758), nested
  ``In context=('properties', 'etymology'), ...`` (moeru-ai/xsai#202). Where an object breaks
  both rules this one is named first (agentscope-ai/agentscope-java#2548).
* every key of ``properties`` is in ``required`` (the docs: "All fields must be required"):
  ``In context=(), 'required' is required to be supplied and to be an array including every
  key in properties. Missing 'subtitle'.`` (vercel/ai#2591, Gsync/jobsync#99, openai/codex
  #531), in array items ``In context=('properties', 'organizations', 'items'), ...``
  (vercel/ai#6484), in an ``anyOf`` branch ``... 'anyOf', '0')`` (weave-os/router#669).

The wire of each place (the message's head, ``param``, ``code``; type
``invalid_request_error`` everywhere):

* chat ``response_format``: ``Invalid schema for response_format 'NAME': ...``, param
  ``response_format``, code null (dottxt-ai/outlines#1666, moeru-ai/xsai#202);
* chat ``tools[i].function``: ``Invalid schema for function 'NAME': ...``, param
  ``tools[i].function.parameters``, code ``invalid_function_parameters``
  (microsoft/semantic-kernel#10610, evalstate/fast-agent#143);
* Responses ``text.format``: the same ``response_format`` head, param
  ``text.format.schema``, code ``invalid_json_schema`` (mavam/pi-web-providers#14,
  bingoYB/ham_home#16);
* Responses function tools: the function head, param ``tools[i].parameters``, code
  ``invalid_function_parameters`` (kevinwatt/mysql-mcp#5, openai/codex#7758).

Left out, for want of evidence that the live API refuses them (or of its words): a
``required`` key that is not a property (one report), ``additionalProperties`` given as a
schema, ``type`` given as a list, unsupported keywords (``allOf``, ``not``, ...), a schema
without ``type``, the documented size limits. The walk follows the structure the SDK's own
``to_strict_json_schema`` walks (``properties``, ``items``, ``anyOf``, ``$defs``,
``definitions``) plus a schema-valued ``additionalProperties``; ``allOf`` is not walked
(unsupported in strict mode, so whatever the live API says of it is not ours to guess).
Which problem is named when a schema has several is the mock's order (the object before
its children, children in the order above), not evidenced.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final, TypeGuard

from mockserver.engine.generation_limits import MAX_SCHEMA_DEPTH
from mockserver.errors import ErrorReply, MockError

_NOT_AN_OBJECT: Final = "schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{got}\"'."
_NOT_CLOSED: Final = "'additionalProperties' is required to be supplied and to be false."
_NOT_ALL_REQUIRED: Final = (
    "'required' is required to be supplied and to be an array including every key in"
    " properties. Missing {key!r}."
)
_FUNCTION_CODE: Final = "invalid_function_parameters"
# The keywords whose subschemas are walked (those the SDK's to_strict_json_schema walks, and
# a schema-valued `additionalProperties`).
_WALKED: Final = frozenset(
    ("properties", "items", "anyOf", "additionalProperties", "$defs", "definitions")
)


def check_strict_schemas(path: str, body: Mapping[str, Any]) -> None:
    """Raise the live API's 400 when a schema sent with ``strict: true`` breaks a rule.

    ``body`` is valid against the spec; only ``strict`` that is exactly ``true`` counts (a
    Responses function tool sent without it is echoed as strict by the live API, but its
    schema is accepted whatever it is).
    """
    if path.endswith("/responses"):
        _check_responses(body)
    else:
        _check_chat(body)


def strict_schema_problem(schema: Mapping[str, Any]) -> str | None:
    """What the live API says is wrong with a strict ``schema`` (the text after its head),
    or None when no enforced rule is broken."""
    root_type = schema.get("type")
    # A root without `type` is refused only as the documented case, a union (`anyOf`): an
    # empty `{}` may be read live as "no parameters", and no report shows its answer.
    typeless_union = root_type is None and "anyOf" in schema
    if typeless_union or (isinstance(root_type, str) and root_type != "object"):
        return _NOT_AN_OBJECT.format(got=root_type)
    # Hand-written, iteratively: no JSON Schema library checks OpenAI's dialect, and a
    # recursive walk would overflow on a schema nested thousands deep. Each node is visited
    # once and `$ref` is never followed, so cost is linear in the schema (already bounded by
    # the body size) and a reference cycle cannot loop.
    stack: list[tuple[dict[str, Any], tuple[str, ...], int]] = [(dict(schema), (), 0)]
    while stack:
        node, context, depth = stack.pop()
        problem = _object_problem(node)
        if problem is not None:
            return f"In context={context!r}, {problem}"
        # Deeper than generation goes, a schema is refused there as too deep; it is not
        # judged here, which also keeps the context in a message short.
        if depth + 1 < MAX_SCHEMA_DEPTH:
            children = [(child, where, depth + 1) for child, where in _children(node, context)]
            stack.extend(reversed(children))
    return None


def _object_problem(node: dict[str, Any]) -> str | None:
    if node.get("type") != "object":
        return None
    if node.get("additionalProperties", True) is True:
        return _NOT_CLOSED
    properties = node.get("properties")
    if not isinstance(properties, dict):
        return None
    required = node.get("required")
    listed = set()
    if isinstance(required, list):
        listed = {key for key in required if isinstance(key, str)}
    missing = next((key for key in properties if key not in listed), None)
    return None if missing is None else _NOT_ALL_REQUIRED.format(key=missing)


def _children(
    node: dict[str, Any], context: tuple[str, ...]
) -> Iterator[tuple[dict[str, Any], tuple[str, ...]]]:
    """The subschemas of ``node`` that hold an object, with their contexts. Checked as
    ``dict`` (what JSON parses to), not ``Mapping``: the ABC check cost twice the walk."""
    properties = node.get("properties")
    if isinstance(properties, dict):
        for key, child in properties.items():
            if _may_hold_an_object(child):
                yield child, (*context, "properties", key)
    items = node.get("items")
    if _may_hold_an_object(items):
        yield items, (*context, "items")
    branches = node.get("anyOf")
    if isinstance(branches, list):
        for index, child in enumerate(branches):
            if _may_hold_an_object(child):
                yield child, (*context, "anyOf", str(index))
    extra = node.get("additionalProperties")
    if _may_hold_an_object(extra):
        yield extra, (*context, "additionalProperties")
    for keyword in ("$defs", "definitions"):
        definitions = node.get(keyword)
        if isinstance(definitions, dict):
            for key, child in definitions.items():
                if _may_hold_an_object(child):
                    yield child, (*context, keyword, key)


def _may_hold_an_object(schema: Any) -> TypeGuard[dict[str, Any]]:
    # A leaf ({"type": "string"}, the bulk of a wide schema) is not put on the stack at all.
    return isinstance(schema, dict) and (
        schema.get("type") == "object" or not _WALKED.isdisjoint(schema)
    )


def _check_chat(body: Mapping[str, Any]) -> None:
    response_format = body.get("response_format")
    if isinstance(response_format, Mapping) and response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema")
        if isinstance(spec, Mapping):
            _refuse_broken(spec, spec.get("schema"), "response_format", "response_format", None)
    for index, tool in _tools(body):
        function = tool.get("function")
        if tool.get("type") == "function" and isinstance(function, Mapping):
            _refuse_broken(
                function,
                function.get("parameters"),
                "function",
                f"tools[{index}].function.parameters",
                _FUNCTION_CODE,
            )


def _check_responses(body: Mapping[str, Any]) -> None:
    text = body.get("text")
    fmt = text.get("format") if isinstance(text, Mapping) else None
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_schema":
        # The live API names a Responses format `response_format` too (its older name).
        _refuse_broken(
            fmt, fmt.get("schema"), "response_format", "text.format.schema", "invalid_json_schema"
        )
    for index, tool in _tools(body):
        if tool.get("type") == "function":
            _refuse_broken(
                tool,
                tool.get("parameters"),
                "function",
                f"tools[{index}].parameters",
                _FUNCTION_CODE,
            )


def _tools(body: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    tools = body.get("tools")
    if isinstance(tools, list):
        for index, tool in enumerate(tools):
            if isinstance(tool, Mapping):
                yield index, tool


def _refuse_broken(
    holder: Mapping[str, Any], schema: Any, kind: str, param: str, code: str | None
) -> None:
    """Raise the 400 when ``holder`` (a format or a function) asks for ``strict: true`` and
    its ``schema`` breaks a rule."""
    if holder.get("strict") is not True or not isinstance(schema, Mapping):
        return
    problem = strict_schema_problem(schema)
    if problem is None:
        return
    name = holder.get("name")
    raise MockError(
        ErrorReply(400, f"Invalid schema for {kind} '{name}': {problem}", param=param, code=code)
    )
