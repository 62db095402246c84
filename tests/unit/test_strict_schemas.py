"""Structured Outputs' rules for a schema sent with ``strict: true`` (mockserver.strict_schemas)."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from pydantic import BaseModel

from mockserver.engine.generation_limits import MAX_SCHEMA_DEPTH
from mockserver.errors import MockError
from mockserver.strict_schemas import check_strict_schemas, strict_schema_problem

NEEDS_REQUIRED = (
    "'required' is required to be supplied and to be an array including every key in"
    " properties. Missing {key!r}."
)
NEEDS_CLOSED = "'additionalProperties' is required to be supplied and to be false."


def _object(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
        **extra,
    }


STRING = {"type": "string"}


def test_a_compliant_schema_has_no_problem() -> None:
    schema = _object(
        {
            "name": STRING,
            "tags": {"type": "array", "items": _object({"label": STRING})},
            "pet": {"anyOf": [_object({"kind": STRING}), {"type": "null"}]},
            "friend": {"$ref": "#/$defs/Friend"},
        },
        **{"$defs": {"Friend": _object({"name": STRING})}},
    )
    assert strict_schema_problem(schema) is None


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        pytest.param(
            {**_object({"a": STRING, "b": STRING}), "required": ["a"]},
            "In context=(), " + NEEDS_REQUIRED.format(key="b"),
            id="a-property-left-out-of-required",
        ),
        pytest.param(
            {key: value for key, value in _object({"a": STRING}).items() if key != "required"},
            "In context=(), " + NEEDS_REQUIRED.format(key="a"),
            id="no-required-at-all",
        ),
        pytest.param(
            {**_object({"a": STRING}), "required": "a"},
            "In context=(), " + NEEDS_REQUIRED.format(key="a"),
            id="required-not-an-array",
        ),
        pytest.param(
            {k: v for k, v in _object({"a": STRING}).items() if k != "additionalProperties"},
            "In context=(), " + NEEDS_CLOSED,
            id="additionalProperties-left-out",
        ),
        pytest.param(
            {**_object({"a": STRING}), "additionalProperties": True},
            "In context=(), " + NEEDS_CLOSED,
            id="additionalProperties-true",
        ),
        pytest.param(
            # Both broken on one object: the live API names `additionalProperties` first.
            {"type": "object", "properties": {"a": STRING}},
            "In context=(), " + NEEDS_CLOSED,
            id="both-broken-additionalProperties-named-first",
        ),
        pytest.param(
            _object({"address": {"type": "object", "properties": {"city": STRING}}}),
            "In context=('properties', 'address'), " + NEEDS_CLOSED,
            id="nested-object",
        ),
        pytest.param(
            _object(
                {
                    "organizations": {
                        "type": "array",
                        "items": {**_object({"name": STRING, "roles": STRING}), "required": []},
                    }
                }
            ),
            "In context=('properties', 'organizations', 'items'), "
            + NEEDS_REQUIRED.format(key="name"),
            id="array-items",
        ),
        pytest.param(
            _object({"pet": {"anyOf": [{"type": "null"}, {"type": "object", "properties": {}}]}}),
            "In context=('properties', 'pet', 'anyOf', '1'), " + NEEDS_CLOSED,
            id="anyOf-branch",
        ),
        pytest.param(
            _object({}, **{"$defs": {"Friend": {"type": "object", "properties": {}}}}),
            "In context=('$defs', 'Friend'), " + NEEDS_CLOSED,
            id="defs",
        ),
        pytest.param(
            _object({}, definitions={"Friend": {"type": "object", "properties": {}}}),
            "In context=('definitions', 'Friend'), " + NEEDS_CLOSED,
            id="definitions",
        ),
        pytest.param(
            {"type": "array", "items": STRING},
            "schema must be a JSON Schema of 'type: \"object\"', got 'type: \"array\"'.",
            id="array-root",
        ),
        pytest.param(
            {"anyOf": [_object({"a": STRING}), _object({"b": STRING})]},
            "schema must be a JSON Schema of 'type: \"object\"', got 'type: \"None\"'.",
            id="anyOf-root",
        ),
    ],
)
def test_a_broken_rule_is_named_with_its_context(schema: dict[str, Any], problem: str) -> None:
    assert strict_schema_problem(schema) == problem


@pytest.mark.parametrize(
    "schema",
    [
        # Rules not evidenced well enough to refuse: a request the live API may accept
        # must not be refused.
        pytest.param(
            _object({"scores": {"type": "object", "additionalProperties": {"type": "number"}}}),
            id="additionalProperties-a-schema",
        ),
        pytest.param(
            _object({"a": STRING}, allOf=[{"type": "object", "properties": {"b": STRING}}]),
            id="allOf-not-walked",
        ),
        pytest.param(
            _object({"a": {"type": ["object", "null"], "properties": {"b": STRING}}}),
            id="type-list-not-judged",
        ),
        pytest.param({"type": ["object", "null"]}, id="root-type-list-not-judged"),
        pytest.param({}, id="empty-root-no-parameters"),
        pytest.param({"description": "x"}, id="root-without-type-or-anyOf"),
        pytest.param(_object({"a": STRING}, required=["a", "extra"]), id="extra-required-key"),
    ],
)
def test_rules_left_out_are_not_enforced(schema: dict[str, Any]) -> None:
    assert strict_schema_problem(schema) is None


def test_a_property_name_is_quoted_as_python_quotes_it() -> None:
    schema = _object({"it's": {"type": "object", "properties": {}}})
    assert strict_schema_problem(schema) == ("In context=('properties', \"it's\"), " + NEEDS_CLOSED)


class Address(BaseModel):
    city: str
    postcode: str | None = None


class Person(BaseModel):
    name: str
    nickname: str | None = None
    home: Address
    previous: list[Address] = []
    scores: dict[str, float] = {}


def test_the_sdks_own_strict_schemas_pass() -> None:
    """What openai-python sends for ``parse(response_format=Model)`` and
    ``pydantic_function_tool``: Optional fields required and nullable, models in ``$defs``."""
    tool = openai.pydantic_function_tool(Person)
    assert tool["function"].get("strict") is True
    assert strict_schema_problem(dict(tool["function"]["parameters"])) is None
    fmt: Any = openai.lib._parsing._completions.type_to_response_format_param(Person)
    assert fmt["json_schema"]["strict"] is True
    assert strict_schema_problem(fmt["json_schema"]["schema"]) is None


BROKEN = {**_object({"a": STRING, "b": STRING}), "required": ["a"]}
MESSAGE_TAIL = "In context=(), " + NEEDS_REQUIRED.format(key="b")


def _refusal(path: str, body: dict[str, Any]) -> dict[str, Any] | None:
    try:
        check_strict_schemas(path, body)
    except MockError as exc:
        assert exc.reply.status == 400
        return exc.reply.body()["error"]
    return None


def test_chat_response_format_is_refused_only_when_strict() -> None:
    def body(strict: Any) -> dict[str, Any]:
        spec = {"name": "thing", "schema": BROKEN, "strict": strict}
        return {"response_format": {"type": "json_schema", "json_schema": spec}}

    assert _refusal("/v1/chat/completions", body(True)) == {
        "message": "Invalid schema for response_format 'thing': " + MESSAGE_TAIL,
        "type": "invalid_request_error",
        "param": "response_format",
        "code": None,
    }
    assert _refusal("/v1/chat/completions", body(False)) is None
    assert _refusal("/v1/chat/completions", body(None)) is None


def test_chat_tools_name_the_tool_and_its_index() -> None:
    good = {"type": "function", "function": {"name": "ok", "parameters": _object({})}}
    bad = {"type": "function", "function": {"name": "f", "strict": True, "parameters": BROKEN}}
    loose = {"type": "function", "function": {"name": "g", "parameters": BROKEN}}
    assert _refusal("/chat/completions", {"tools": [good, loose, bad]}) == {
        "message": "Invalid schema for function 'f': " + MESSAGE_TAIL,
        "type": "invalid_request_error",
        "param": "tools[2].function.parameters",
        "code": "invalid_function_parameters",
    }
    assert _refusal("/chat/completions", {"tools": [good, loose]}) is None


def test_responses_text_format_and_tools() -> None:
    fmt = {"type": "json_schema", "name": "thing", "strict": True, "schema": BROKEN}
    assert _refusal("/v1/responses", {"text": {"format": fmt}}) == {
        "message": "Invalid schema for response_format 'thing': " + MESSAGE_TAIL,
        "type": "invalid_request_error",
        "param": "text.format.schema",
        "code": "invalid_json_schema",
    }
    tool = {"type": "function", "name": "f", "strict": True, "parameters": BROKEN}
    assert _refusal("/v1/responses", {"tools": [tool]}) == {
        "message": "Invalid schema for function 'f': " + MESSAGE_TAIL,
        "type": "invalid_request_error",
        "param": "tools[0].parameters",
        "code": "invalid_function_parameters",
    }
    # Without `strict` the live API echoes the tool as strict but accepts any schema.
    unset = {"type": "function", "name": "f", "parameters": BROKEN}
    assert _refusal("/v1/responses", {"tools": [unset]}) is None
    assert _refusal("/v1/responses", {"tools": [{**unset, "strict": None}]}) is None


@pytest.mark.parametrize(
    "body",
    [
        {"response_format": {"type": "json_schema", "json_schema": "x"}},
        {"response_format": {"type": "json_schema", "json_schema": {"strict": True}}},
        {"tools": [{"type": "function", "function": {"name": "f", "strict": True}}]},
        {"tools": "nope"},
        {"tools": [None, 3]},
        {"response_format": "text"},
    ],
)
def test_odd_shapes_are_left_to_the_spec(body: dict[str, Any]) -> None:
    assert _refusal("/v1/chat/completions", body) is None
    assert _refusal("/v1/responses", body) is None


def test_hostile_schemas_are_walked_without_recursion() -> None:
    """Deep nesting, a huge property map, a `$ref` cycle: a walk without recursion, each
    object's ``required`` read once, ``$ref`` never followed (its target is judged where it
    is defined), so no schema can overflow the stack or loop."""
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(50_000):
        deep = {"type": "array", "items": deep}
    wide = _object({f"p{i}": STRING for i in range(200_000)})
    wide_missing = {**wide, "required": wide["required"][:-1]}
    cycle = _object(
        {"next": {"$ref": "#"}, "self": {"$ref": "#/$defs/A"}},
        **{"$defs": {"A": {"$ref": "#/$defs/A"}}},
    )
    assert strict_schema_problem(_object({"deep": deep})) is None
    assert strict_schema_problem(wide) is None
    assert strict_schema_problem(wide_missing) == "In context=(), " + NEEDS_REQUIRED.format(
        key="p199999"
    )
    assert strict_schema_problem(cycle) is None


def test_the_walk_stops_at_the_generators_depth_limit() -> None:
    """Past :data:`MAX_SCHEMA_DEPTH` levels the schema is not judged here (generation refuses
    it as too deep), so the context in a message stays short."""

    def nested(levels: int) -> dict[str, Any]:
        node: dict[str, Any] = {"type": "object", "properties": {}}  # broken: not closed
        for _ in range(levels):
            node = _object({"a": node})
        return node

    assert strict_schema_problem(nested(MAX_SCHEMA_DEPTH - 1)) is not None
    assert strict_schema_problem(nested(MAX_SCHEMA_DEPTH)) is None
