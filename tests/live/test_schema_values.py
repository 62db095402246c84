"""Generated JSON is valid or refused, never silently wrong (issues 11/12 follow-up).

Through the official `openai` SDK against `harness serve`: a satisfiable schema gets a value
that validates; a schema the generator cannot serve is a 400 ``schema_too_complex`` naming the
field; only a contradiction (no value exists) gets the documented ``{}``. Function arguments
are always a JSON object, as the live API's are.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import openai
import pytest
import regex  # type: ignore[import-untyped]  # no type information is installed
from jsonschema.exceptions import ValidationError
from openai import OpenAI

MODEL = "gpt-4"
ASK = "Give me the data."


def _regex_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if validator.is_type(instance, "string") and not regex.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# Patterns follow the `regex` package (as the mock matches them), which knows `\p{L}`.
RegexValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"pattern": _regex_pattern}
)


def structured(client: OpenAI, schema: dict[str, Any]) -> Any:
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": ASK}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": schema, "strict": False},
        },
    )
    return json.loads(reply.choices[0].message.content or "")


SATISFIABLE = {
    "email-minLength-in-object": {
        "type": "object",
        "properties": {"e": {"type": "string", "format": "email", "minLength": 30}},
        "required": ["e"],
    },
    "email-minLength-50": {"type": "string", "format": "email", "minLength": 50},
    "unicode-letters": {"type": "string", "pattern": "^\\p{L}{5}$"},
    "possessive": {"type": "string", "pattern": "a++b"},
    "atomic-group": {"type": "string", "pattern": "^(?>ab|a)c$"},
    "minContains": {
        "type": "array",
        "contains": {"type": "string"},
        "minContains": 3,
        "items": {"type": ["string", "integer"]},
    },
}


@pytest.mark.parametrize("name", SATISFIABLE)
def test_a_satisfiable_schema_gets_a_valid_value(client: OpenAI, name: str) -> None:
    schema = SATISFIABLE[name]
    value = structured(client, schema)
    RegexValidator(schema, format_checker=RegexValidator.FORMAT_CHECKER).validate(value)


def test_min_contains_obeys_the_item_limit(client: OpenAI) -> None:
    schema = {"type": "array", "contains": {"type": "string"}, "minContains": 20000}
    assert "minContains 20000" in too_complex(client, schema)["message"]


def test_a_schema_the_generator_cannot_serve_is_a_400_not_wrong_content(client: OpenAI) -> None:
    # No string matches (a lookbehind before `^`), but only a regex prover could tell: the
    # generator finds no value, so the mock says so instead of sending `{}` or a wrong string.
    schema = {"type": "string", "pattern": "^(?<=x)y$"}
    assert "cannot generate a value" in too_complex(client, schema)["message"]


def too_complex(client: OpenAI, schema: dict[str, Any]) -> dict[str, Any]:
    """The 400 a structured-output request with ``schema`` gets: ``schema_too_complex``,
    naming the schema's field."""
    with pytest.raises(openai.BadRequestError) as caught:
        structured(client, schema)
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["code"] == "schema_too_complex"
    assert error["param"] == "response_format.json_schema.schema"
    return error


def test_a_contradiction_still_gets_an_empty_object(client: OpenAI) -> None:
    assert structured(client, {"type": "string", "minLength": 5, "maxLength": 2}) == {}


def chat_arguments(client: OpenAI, parameters: dict[str, Any], seed: int) -> Any:
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Call it."}],
        tools=[{"type": "function", "function": {"name": "f", "parameters": parameters}}],
        tool_choice="required",
        seed=seed + 1,  # the spec says seed >= 1
    )
    calls = reply.choices[0].message.tool_calls or []
    assert len(calls) == 1
    return json.loads(calls[0].function.arguments)


@pytest.mark.parametrize(
    "parameters",
    [
        {},
        {"anyOf": [{"type": "object"}, {"type": "string"}]},
        {"type": ["string", "object"]},
        {"description": "anything"},
    ],
    ids=["empty", "anyOf-object-string", "type-list", "annotation-only"],
)
def test_chat_function_arguments_are_always_an_object(
    client: OpenAI, parameters: dict[str, Any]
) -> None:
    for seed in range(8):
        arguments = chat_arguments(client, parameters, seed)
        assert isinstance(arguments, dict), arguments
        jsonschema.validate(arguments, parameters)


def test_parameters_that_cannot_be_an_object_give_empty_arguments(client: OpenAI) -> None:
    assert chat_arguments(client, {"type": "string"}, 0) == {}


def test_responses_function_arguments_are_always_an_object(client: OpenAI) -> None:
    for seed in range(8):
        response = client.responses.create(
            model=MODEL,
            input=f"Call it ({seed}).",
            tools=[{"type": "function", "name": "f", "parameters": {}, "strict": False}],
            tool_choice="required",
        )
        calls = [item for item in response.output if item.type == "function_call"]
        assert len(calls) == 1
        assert isinstance(json.loads(calls[0].arguments), dict), calls[0].arguments
