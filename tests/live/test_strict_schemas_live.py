"""A schema sent with ``strict: true`` that breaks Structured Outputs' rules is refused.

The live API answers such a request with a 400 before generating anything (the most common
case: a zod ``.optional()`` or a Python default left out of ``required``); the same schema
without ``strict`` is answered. Driven through the openai SDK against ``harness serve``,
on all four places a strict schema is sent: chat ``response_format`` and ``tools``,
Responses ``text.format`` and ``tools``. The error texts are quoted in
``mockserver/strict_schemas.py``.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from openai import OpenAI
from pydantic import BaseModel

MODEL = "gpt-4"
# `subtitle` is a property left out of `required`: a zod `.optional()`.
OPTIONAL_LEFT_OUT = {
    "type": "object",
    "properties": {"title": {"type": "string"}, "subtitle": {"type": "string"}},
    "required": ["title"],
    "additionalProperties": False,
}
# Every key required, but the nested object leaves `additionalProperties` out.
OPEN_NESTED_OBJECT = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "address": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
    "required": ["name", "address"],
    "additionalProperties": False,
}
MISSING_SUBTITLE = (
    "In context=(), 'required' is required to be supplied and to be an array including every"
    " key in properties. Missing 'subtitle'."
)
OPEN_ADDRESS = (
    "In context=('properties', 'address'), 'additionalProperties' is required to be supplied"
    " and to be false."
)


def _chat_format(schema: dict[str, Any], strict: bool | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": "response", "schema": schema}
    if strict is not None:
        spec["strict"] = strict
    return {"type": "json_schema", "json_schema": spec}


def _chat_tool(schema: dict[str, Any], strict: bool | None) -> dict[str, Any]:
    function: dict[str, Any] = {"name": "make_thing", "parameters": schema}
    if strict is not None:
        function["strict"] = strict
    return {"type": "function", "function": function}


def _responses_format(schema: dict[str, Any], strict: bool | None) -> dict[str, Any]:
    fmt: dict[str, Any] = {"type": "json_schema", "name": "response", "schema": schema}
    if strict is not None:
        fmt["strict"] = strict
    return {"format": fmt}


def _responses_tool(schema: dict[str, Any], strict: bool | None) -> dict[str, Any]:
    tool: dict[str, Any] = {"type": "function", "name": "make_thing", "parameters": schema}
    if strict is not None:
        tool["strict"] = strict
    return tool


def _send(client: OpenAI, place: str, schema: dict[str, Any], strict: bool | None) -> Any:
    """One request carrying ``schema`` at ``place``, as the SDK sends it."""
    prompt = "make a thing"
    chat: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": prompt}]}
    responses: dict[str, Any] = {"model": MODEL, "input": prompt}
    if place == "chat response_format":
        chat["response_format"] = _chat_format(schema, strict)
    elif place == "chat tools":
        chat["tools"] = [_chat_tool(schema, strict)]
    elif place == "responses text.format":
        responses["text"] = _responses_format(schema, strict)
    else:
        # The SDK's types make `strict` required on a Responses function tool; the wire
        # does not (the live API echoes a tool sent without it as strict, and accepts it).
        responses["tools"] = [_responses_tool(schema, strict)]
    if place.startswith("chat"):
        return client.chat.completions.create(**chat)
    return client.responses.create(**responses)


PLACES = {
    # place: (the `param` the live API names, its `code`, the message's head)
    "chat response_format": (
        "response_format",
        None,
        "Invalid schema for response_format 'response': ",
    ),
    "chat tools": (
        "tools[0].function.parameters",
        "invalid_function_parameters",
        "Invalid schema for function 'make_thing': ",
    ),
    "responses text.format": (
        "text.format.schema",
        "invalid_json_schema",
        "Invalid schema for response_format 'response': ",
    ),
    "responses tools": (
        "tools[0].parameters",
        "invalid_function_parameters",
        "Invalid schema for function 'make_thing': ",
    ),
}


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize(
    ("schema", "problem"),
    [(OPTIONAL_LEFT_OUT, MISSING_SUBTITLE), (OPEN_NESTED_OBJECT, OPEN_ADDRESS)],
    ids=["optional-left-out-of-required", "nested-object-without-additionalProperties"],
)
def test_a_strict_schema_breaking_the_rules_is_a_400(
    client: OpenAI, place: str, schema: dict[str, Any], problem: str
) -> None:
    param, code, head = PLACES[place]
    with pytest.raises(openai.BadRequestError) as caught:
        _send(client, place, schema, strict=True)
    assert caught.value.status_code == 400
    error = caught.value.response.json()["error"]
    assert error == {
        "message": head + problem,
        "type": "invalid_request_error",
        "param": param,
        "code": code,
    }


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("strict", [False, None], ids=["strict-false", "strict-absent"])
def test_the_same_schema_without_strict_is_answered(
    client: OpenAI, place: str, strict: bool | None
) -> None:
    reply = _send(client, place, OPTIONAL_LEFT_OUT, strict=strict)
    assert reply.id


def test_a_strict_array_root_is_a_400(client: OpenAI) -> None:
    schema = {"type": "array", "items": {"type": "string"}}
    with pytest.raises(openai.BadRequestError) as caught:
        _send(client, "chat response_format", schema, strict=True)
    error = caught.value.response.json()["error"]
    assert error["message"] == (
        "Invalid schema for response_format 'response': schema must be a JSON Schema of"
        " 'type: \"object\"', got 'type: \"array\"'."
    )
    assert error["param"] == "response_format"


class Address(BaseModel):
    city: str
    postcode: str | None = None  # Optional: sent as required and nullable by the SDK


class Person(BaseModel):
    name: str
    nickname: str | None = None
    address: Address
    previous: list[Address] = []


def test_chat_parse_with_a_pydantic_model_still_works(client: OpenAI) -> None:
    completion = client.chat.completions.parse(
        model=MODEL,
        messages=[{"role": "user", "content": "Describe Ada, who lives in London"}],
        response_format=Person,
    )
    assert isinstance(completion.choices[0].message.parsed, Person)


def test_responses_parse_with_a_pydantic_model_still_works(client: OpenAI) -> None:
    response = client.responses.parse(
        model=MODEL, input="Describe Ada, who lives in London", text_format=Person
    )
    assert isinstance(response.output_parsed, Person)


def test_pydantic_function_tool_still_works(client: OpenAI) -> None:
    tool = openai.pydantic_function_tool(Person, name="save_person")
    assert tool["function"].get("strict") is True
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Save Ada, who lives in London"}],
        tools=[tool],
        tool_choice="required",
    )
    call = completion.choices[0].message.tool_calls
    assert call is not None
    Person.model_validate(json.loads(call[0].function.arguments))  # type: ignore[union-attr]
