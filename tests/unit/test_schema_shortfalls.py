"""Satisfiable schemas the generator used to answer with ``{}`` (issues 11/12 follow-up).

A value for every schema the generator says it satisfied validates; a schema it cannot serve
is a :class:`CannotGenerateError` (a 400 naming the field), and only a contradiction is an
:class:`UnsatisfiableSchemaError` (the documented ``{}``).
"""

from __future__ import annotations

import json
import random
from typing import Any

import jsonschema
import pytest
import regex  # type: ignore[import-untyped]  # no type information is installed
from jsonschema.exceptions import ValidationError

from mockserver.engine.generation_limits import GenerationLimitError
from mockserver.engine.instances import (
    CannotGenerateError,
    UnsatisfiableSchemaError,
    arguments_schema,
    generate_instance,
)
from mockserver.engine.instances.regex_syntax import drawable
from mockserver.engine.reply import FunctionTool, ReplyRequest, plan_reply


def _regex_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if validator.is_type(instance, "string") and not regex.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# The referee: patterns as the `regex` package matches them, formats checked.
RegexValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"pattern": _regex_pattern}
)


def assert_valid(schema: Any, value: Any) -> None:
    RegexValidator(schema, format_checker=RegexValidator.FORMAT_CHECKER).validate(value)


def generate(schema: Any, seed: int = 0) -> Any:
    return generate_instance(schema, random.Random(seed))


FORMAT_LENGTHS = [
    ("email", 30, None),
    ("email", 50, None),
    ("email", 200, None),
    ("email", 6, 8),
    ("email", 0, 12),
    ("idn-email", 70, 70),
    ("uri", 300, None),
    ("uri", 0, 14),
    ("hostname", 100, None),
    ("hostname", 4, 5),
    ("time", 18, None),
    ("time", 10, 12),
    ("date-time", 25, 25),
    ("json-pointer", 25, 25),
    ("password", 64, None),
]


@pytest.mark.parametrize(("fmt", "low", "high"), FORMAT_LENGTHS)
def test_a_format_is_built_at_the_length_asked_for(fmt: str, low: int, high: int | None) -> None:
    schema: dict[str, Any] = {"type": "string", "format": fmt, "minLength": low}
    if high is not None:
        schema["maxLength"] = high
    for seed in range(5):
        value = generate(schema, seed)
        assert_valid(schema, value)


def test_the_email_of_the_issue_keeps_its_required_key() -> None:
    schema = {
        "type": "object",
        "properties": {"e": {"type": "string", "format": "email", "minLength": 30}},
        "required": ["e"],
    }
    value = generate(schema)
    assert_valid(schema, value)
    assert value["e"].count("@") == 1


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "format": "uuid", "minLength": 50},
        {"type": "string", "format": "date", "maxLength": 5},
        {"type": "string", "format": "email", "minLength": 300},
    ],
    ids=["uuid-too-long", "date-too-short", "email-past-rfc-5321"],
)
def test_a_format_without_a_string_of_that_length_is_a_clear_refusal(schema: Any) -> None:
    with pytest.raises(CannotGenerateError, match=r"generates no '\w+' string of"):
        generate(schema)


PATTERNS = [
    r"^\p{L}{5}$",
    r"^\p{Lu}\p{Ll}{2,6}$",
    r"^[\p{N}\p{P}]{4}$",
    r"^\P{L}{4}$",
    r"^[^\p{L}]{4}$",
    r"^\pL\pN$",
    r"^\p{Greek}{3}$",
    r"^\p{Han}+$",
    r"a++b",
    r"^(?>ab|a)c$",
    r"^(?>a+)b$",
    r"^(a)?(?(1)b|c)$",
    r"^(?<year>\d{4})-(?P=year)$",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_patterns_in_the_regex_packages_syntax_generate(pattern: str) -> None:
    schema = {"type": "string", "pattern": pattern}
    for seed in range(5):
        assert_valid(schema, generate(schema, seed))


def test_a_rewritten_pattern_only_changes_what_re_cannot_parse() -> None:
    assert drawable(r"^[a-z]+\d$") == r"^[a-z]+\d$"
    assert drawable(r"\\p{L}") == r"\\p{L}"  # an escaped backslash, then "p{L}"
    assert drawable(r"(?<n>a)(?<=a)(?<!b)") == r"(?P<n>a)(?<=a)(?<!b)"
    assert drawable(r"[\p{Nd}]") == "[0123456789]"


def test_syntax_the_generator_cannot_draw_from_is_a_clear_refusal() -> None:
    # Fuzzy matching is the regex package's own; `re` reads "{e<=1}" as literal text, which
    # the regex package then does not match.
    with pytest.raises(CannotGenerateError, match=r"no valid value found"):
        generate({"type": "string", "pattern": r"^(?:cat){e<=1}x$", "maxLength": 4})


def test_an_invalid_pattern_is_unsatisfiable_not_a_refusal() -> None:
    with pytest.raises(UnsatisfiableSchemaError, match="not a valid regex"):
        generate({"type": "string", "pattern": r"^\p{NoSuchProperty}$"})


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "array", "contains": {"type": "string"}, "minContains": 20},
        {
            "type": "array",
            "items": {"type": "integer"},
            "contains": {"minimum": 5},
            "minContains": 3,
        },
        {"type": "array", "contains": {"const": 1}, "minContains": 2, "maxContains": 2},
    ],
    ids=["strings", "with-items", "exact"],
)
def test_min_contains_is_generated(schema: Any) -> None:
    for seed in range(5):
        assert_valid(schema, generate(schema, seed))


def test_min_contains_obeys_the_item_limit() -> None:
    schema = {"type": "array", "contains": {"type": "string"}, "minContains": 20_000}
    with pytest.raises(GenerationLimitError, match="minContains 20000 asks for more than 10000"):
        generate(schema)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "array", "contains": {}, "minContains": 3, "maxContains": 2},
        {"type": "array", "contains": {}, "minContains": 3, "maxItems": 2},
    ],
)
def test_min_contains_contradictions_are_unsatisfiable(schema: Any) -> None:
    with pytest.raises(UnsatisfiableSchemaError, match="minContains 3"):
        generate(schema)


def test_a_generator_shortfall_is_not_called_a_contradiction() -> None:
    # Satisfiable ("aaaaa" would need `^a$` to match): no contradiction the generator can
    # prove, and no value it can find.
    with pytest.raises(CannotGenerateError) as caught:
        generate({"type": "string", "pattern": "^a$", "minLength": 5})
    assert "cannot generate a value" in caught.value.at("text.format.schema").message
    assert "'text.format.schema'" in caught.value.at("text.format.schema").message


@pytest.mark.parametrize(
    "parameters",
    [
        {},
        {"description": "anything"},
        {"anyOf": [{"type": "object"}, {"type": "string"}]},
        {"type": ["string", "object", "null"]},
        {"oneOf": [{"type": "integer"}, {"type": "object", "required": ["a"]}]},
    ],
)
def test_arguments_are_an_object_whatever_parameters_allow(parameters: Any) -> None:
    for seed in range(10):
        arguments = generate_instance(arguments_schema(parameters), random.Random(seed))
        assert isinstance(arguments, dict)
        jsonschema.validate(arguments, parameters)


def test_an_object_schema_is_used_as_it_is() -> None:
    parameters = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert arguments_schema(parameters) is parameters
    assert arguments_schema(None) == {"type": "object"}
    assert arguments_schema({"type": "string"}) is False


def test_planned_tool_calls_carry_object_arguments() -> None:
    for parameters in ({}, {"type": "string"}, {"anyOf": [{"type": "object"}, {"type": "string"}]}):
        request = ReplyRequest(
            user_text="call it",
            tools=(FunctionTool("f", parameters=parameters),),
            tool_choice="required",
        )
        for seed in range(6):
            reply = plan_reply(request, random.Random(seed))
            assert isinstance(json.loads(reply.tool_calls[0].arguments), dict)
