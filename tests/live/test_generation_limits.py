"""Issue 12, work one request can demand: schemas that would freeze or crash generation.

Each request goes to a real `harness serve` with a timeout, so a hang fails the test instead
of freezing the suite (a generous one: no assertion here depends on the machine's speed). A
schema that asks for more than generation attempts is a 400 naming the request field the
schema sits in, never a 500 or a hang; a schema that is merely odd is answered with a valid
value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema
import pytest
import requests

from tests.fixtures.servers import API_KEY, RunningServer, start_server

# Far above the generation backstop (10 s): only a hang reaches it.
TIMEOUT_S = 60
HEADERS = {"Authorization": f"Bearer {API_KEY}"}
ASK = "What's the weather in Paris?"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of its own: before the fix these requests froze its workers for good."""
    running = start_server(
        ["--api-key", API_KEY, "--workers", "2"], log_dir=tmp_path_factory.mktemp("limits")
    )
    yield running
    running.stop()


def nested(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"a": schema}, "required": ["a"]}
    return schema


# Route name -> (path, body for a schema, the param an error about the schema names,
# the generated value read back from a 200 body).
Route = tuple[str, Callable[[dict[str, Any]], dict[str, Any]], str, Callable[[Any], Any]]


def chat_format(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": "gpt-4",
        "messages": [{"role": "user", "content": ASK}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": schema},
        },
    }


def chat_tool(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": "gpt-4",
        "messages": [{"role": "user", "content": ASK}],
        "tools": [
            {"type": "function", "function": {"name": "get_weather", "parameters": {}}},
            {"type": "function", "function": {"name": "lookup", "parameters": _wrap(schema)}},
        ],
        "tool_choice": {"type": "function", "function": {"name": "lookup"}},
    }


def responses_format(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": "gpt-4",
        "input": ASK,
        "text": {"format": {"type": "json_schema", "name": "answer", "schema": schema}},
    }


def responses_tool(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": "gpt-4",
        "input": ASK,
        "tools": [
            {"type": "function", "name": "get_weather", "parameters": {}, "strict": False},
            {"type": "function", "name": "lookup", "parameters": _wrap(schema), "strict": False},
        ],
        "tool_choice": {"type": "function", "name": "lookup"},
    }


def _wrap(schema: dict[str, Any]) -> dict[str, Any]:
    """Tool parameters are an object: the schema under test is its one property."""
    return {"type": "object", "properties": {"value": schema}, "required": ["value"]}


def _chat_value(body: Any) -> Any:
    message = body["choices"][0]["message"]
    if message.get("tool_calls"):
        return json.loads(message["tool_calls"][0]["function"]["arguments"])["value"]
    return json.loads(message["content"])


def _responses_value(body: Any) -> Any:
    for item in body["output"]:
        if item["type"] == "function_call":
            return json.loads(item["arguments"])["value"]
        if item["type"] == "message":
            return json.loads(item["content"][0]["text"])
    raise AssertionError(body)


ROUTES: dict[str, Route] = {
    "chat-response_format": (
        "/v1/chat/completions",
        chat_format,
        "response_format.json_schema.schema",
        _chat_value,
    ),
    "chat-tool": ("/v1/chat/completions", chat_tool, "tools[1].function.parameters", _chat_value),
    "responses-text.format": (
        "/v1/responses",
        responses_format,
        "text.format.schema",
        _responses_value,
    ),
    "responses-tool": ("/v1/responses", responses_tool, "tools[1].parameters", _responses_value),
}

# Schemas generation cannot satisfy within its limits: a 400 naming the field and the limit.
TOO_MUCH: dict[str, tuple[dict[str, Any], str]] = {
    "minLength-1e8": ({"type": "string", "minLength": 100_000_000}, "100000 characters"),
    "nested-repeats": (
        {"type": "string", "pattern": "^(?:(?:a{1000}){1000}){100}$"},
        "100000 characters",
    ),
    "nested-100-levels": (nested(100), "nested more than"),
    "pattern-3000-groups": (
        {"type": "string", "pattern": "(" * 3000 + "a" + ")" * 3000},
        "nests groups more than 50",
    ),
    "minItems-1e9": ({"type": "array", "minItems": 1_000_000_000}, "10000 items"),
    "minProperties-1e9": ({"type": "object", "minProperties": 1_000_000_000}, "10000 items"),
    "many-items-in-total": (
        {"type": "array", "minItems": 10_000, "items": {"type": "array", "minItems": 10_000}},
        "generation steps",
    ),
    "backtracking-property-name": (
        {
            "type": "object",
            "properties": {"a" * 40 + "b": {"type": "string"}},
            "required": ["a" * 40 + "b"],
            "patternProperties": {"^(a|a)+$": {"type": "integer"}},
        },
        "backtracks",
    ),
}


def post(server: RunningServer, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(server.url + path, json=body, headers=HEADERS, timeout=TIMEOUT_S)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("case", TOO_MUCH)
def test_a_schema_beyond_the_limits_is_a_400_naming_the_field(
    server: RunningServer, route: str, case: str
) -> None:
    path, build, param, _ = ROUTES[route]
    schema, limit_words = TOO_MUCH[case]
    reply = post(server, path, build(schema))
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "schema_too_complex"
    assert error["param"] == param
    assert param in error["message"] and limit_words in error["message"], error


@pytest.mark.parametrize("route", ROUTES)
def test_a_schema_the_generator_cannot_serve_is_a_400_naming_the_field(
    server: RunningServer, route: str
) -> None:
    # No value found and no contradiction proven (only a regex prover could tell that a
    # lookbehind before `^` never matches): a clear refusal, not `{}` or a wrong value.
    path, build, param, _ = ROUTES[route]
    reply = post(server, path, build({"type": "string", "pattern": "^(?<=x)y$"}))
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["code"] == "schema_too_complex"
    assert error["param"] == param
    assert f"cannot generate a value for the schema in '{param}'" in error["message"], error


@pytest.mark.parametrize("route", ROUTES)
def test_contradicting_patterns_end_quickly(server: RunningServer, route: str) -> None:
    # `^a{30}b$` and the backtracking `^(a|a)+$`: every candidate "aaa...ab" used to be matched
    # against the second pattern with `re`, which takes 2^30 steps.
    path, build, param, _ = ROUTES[route]
    schema = {"type": "string", "allOf": [{"pattern": "^a{30}b$"}, {"pattern": "^(a|a)+$"}]}
    reply = post(server, path, build(schema))
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["param"] == param
    assert "backtracks" in reply.json()["error"]["message"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "schema",
    [
        {"type": "number", "multipleOf": 1e-320},
        {"type": "number", "multipleOf": 1e-320, "minimum": 5, "maximum": 6},
        {"type": "integer", "multipleOf": 1e-320},
        nested(20),
        {"type": "string", "pattern": "^(?=.*[A-Z])(?=.*\\d)[A-Za-z\\d]{8,12}$"},
        {"type": "string", "minLength": 5000},
    ],
    ids=[
        "multipleOf-1e-320",
        "bounded-multipleOf-1e-320",
        "integer-multipleOf-1e-320",
        "nested-20-levels",
        "lookahead-pattern",
        "minLength-5000",
    ],
)
def test_odd_but_feasible_schemas_get_a_valid_value(
    server: RunningServer, route: str, schema: dict[str, Any]
) -> None:
    path, build, _, read_value = ROUTES[route]
    reply = post(server, path, build(schema))
    assert reply.status_code == 200, reply.text
    jsonschema.validate(read_value(reply.json()), schema)


def test_a_huge_enum_with_n_128_is_answered_promptly(server: RunningServer) -> None:
    schema = {"type": "string", "enum": [f"value-{index}" for index in range(300_000)]}
    body = {**chat_format(schema), "n": 128}
    reply = post(server, "/v1/chat/completions", body)
    assert reply.status_code == 200, reply.text
    choices = reply.json()["choices"]
    assert len(choices) == 128
    values = [json.loads(choice["message"]["content"]) for choice in choices]
    assert all(value in schema["enum"] for value in values)
    assert len(set(values)) > 100  # the choices differ


def test_n_shares_one_budget(server: RunningServer) -> None:
    # One choice fits the limits; 128 of them together would generate 12.8 M characters.
    body = {**chat_format({"type": "string", "minLength": 100_000}), "n": 128}
    reply = post(server, "/v1/chat/completions", body)
    assert reply.status_code == 400, reply.text
    assert "all choices together" in reply.json()["error"]["message"]
    one = post(server, "/v1/chat/completions", {**body, "n": 1})
    assert one.status_code == 200


def test_the_server_still_answers_after_the_hostile_requests(server: RunningServer) -> None:
    for _ in range(4):  # reaches both workers
        reply = post(server, "/v1/chat/completions", chat_format({"type": "object"}))
        assert reply.status_code == 200
