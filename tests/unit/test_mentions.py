"""Values from the user's message for the tool arguments they fit (mockserver.engine.mentions)."""

from __future__ import annotations

import random
from typing import Any

import jsonschema
import pytest

from mockserver.engine.instances import generate_instance
from mockserver.engine.mentions import Mentions


def arguments(message: str, parameters: dict[str, Any], seed: int = 0) -> Any:
    value = generate_instance(parameters, random.Random(seed), Mentions.of(message).suggest)
    jsonschema.validate(value, parameters)
    return value


def obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


STRING = {"type": "string"}


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("What's the weather in Paris?", "Paris"),
        ("weather in New York City today", "New York City"),
        ("Is it raining in São Paulo?", "São Paulo"),
        ("How cold is Oslo's winter?", "Oslo"),
    ],
)
def test_a_place_argument_takes_the_named_place(message: str, expected: str) -> None:
    assert arguments(message, obj(city=STRING)) == {"city": expected}


def test_the_description_can_name_the_kind_of_value() -> None:
    parameters = obj(q={"type": "string", "description": "The city to look up"})
    assert arguments("Look up Lisbon for me", parameters) == {"q": "Lisbon"}


def test_a_person_argument_takes_a_name_not_a_place() -> None:
    parameters = obj(recipient=STRING, city=STRING)
    value = arguments("Send Alice Smith the report from Berlin", parameters)
    assert value == {"recipient": "Alice Smith", "city": "Berlin"}


def test_quoted_strings_fill_text_arguments_only() -> None:
    parameters = obj(title=STRING, city=STRING)
    for quote in ('"{}"', "“{}”", "'{}'"):
        message = "Create a note titled " + quote.format("Weekly plan") + " in Rome"
        assert arguments(message, parameters) == {"title": "Weekly plan", "city": "Rome"}


def test_numbers_go_where_their_words_point() -> None:
    parameters = obj(
        nights={"type": "integer"}, guests={"type": "integer"}, budget={"type": "number"}
    )
    value = arguments("2 guests, 4 nights and a budget of 350.5 please", parameters)
    assert value == {"nights": 4, "guests": 2, "budget": 350.5}


def test_a_year_argument_takes_a_year() -> None:
    assert arguments("Best films of 1994?", obj(year={"type": "integer"})) == {"year": 1994}


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "string", "maxLength": 3}, "weather in Paris"),
        ({"type": "string", "pattern": "^[a-z]+$"}, "weather in Paris"),
        ({"type": "string", "enum": ["London", "Tokyo"]}, "weather in Paris"),
        ({"type": "string", "format": "email"}, "weather in Paris"),
        ({"type": "integer", "maximum": 10}, "for 30 nights"),
        ({"type": "integer", "multipleOf": 4}, "for 3 nights"),
        ({"type": "integer"}, "for 2.5 nights"),
    ],
)
def test_a_value_the_schema_refuses_is_not_used(schema: dict[str, Any], message: str) -> None:
    parameters = obj(city=schema, nights=schema)
    for seed in range(5):
        value = arguments(message, parameters, seed)
        assert value["city"] != "Paris"
        assert value["nights"] not in (30, 3, 2.5)


def test_an_enum_value_the_user_wrote_is_picked() -> None:
    unit = {"type": "string", "enum": ["celsius", "fahrenheit"]}
    for seed in range(5):
        assert arguments("Paris, in Fahrenheit", obj(unit=unit), seed) == {"unit": "fahrenheit"}


def test_nothing_fitting_leaves_the_generated_value() -> None:
    plain = generate_instance(obj(city=STRING), random.Random(3))
    assert arguments("hello there", obj(city=STRING), 3) == plain


def test_sentence_starts_are_not_names() -> None:
    assert Mentions.of("What's up? Please show me the list").names == ()


def test_long_digit_runs_are_read_in_linear_time() -> None:
    # A regex with nested repeats would backtrack here for a long time.
    message = "1" * 3999 + "x"
    assert Mentions.of(message).numbers == ()


def test_a_quoted_string_fills_an_argument_that_names_a_thing() -> None:
    parameters = obj(
        restaurant={"type": "string", "description": "name of the restaurant"},
        party_size={"type": "integer", "minimum": 1},
    )
    value = arguments('Book a table at "Chez Nous" for 4 people', parameters)
    assert value == {"restaurant": "Chez Nous", "party_size": 4}
    described = obj(q={"type": "string", "description": "The hotel's name"})
    assert arguments('Find "Hotel Lumière" for me', described) == {"q": "Hotel Lumière"}


def test_a_quoted_string_does_not_displace_a_named_place() -> None:
    parameters = obj(city={"type": "string", "description": "name of the city"})
    assert arguments('Weather in Oslo for my "weekly report"', parameters) == {"city": "Oslo"}


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Convert 250 USD to EUR", (250, "USD", "EUR")),
        ("How much is 99.5 GBP in JPY?", (99.5, "GBP", "JPY")),
        ("To EUR from CHF please: 12", (None, "CHF", "EUR")),
        ("What is $30 in CAD", (30, None, "CAD")),
    ],
)
def test_amounts_and_currency_codes_fill_a_conversion(
    message: str, expected: tuple[Any, ...]
) -> None:
    parameters = obj(
        amount={"type": "number"},
        from_currency={"type": "string"},
        to_currency={"type": "string", "description": "ISO 4217 code"},
    )
    value = arguments(message, parameters)
    for key, wanted in zip(("amount", "from_currency", "to_currency"), expected, strict=True):
        if wanted is not None:
            assert value[key] == wanted, value


def test_a_currency_code_the_schema_refuses_is_not_used() -> None:
    parameters = obj(currency={"type": "string", "enum": ["usd", "eur"]})
    assert arguments("Pay 5 USD", parameters)["currency"] in ("usd", "eur")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Add user Bob Smith, age 42", "Bob Smith"),  # was "Add"
        ("Greet Alice", "Alice"),  # was "Greet Alice"
        ("Extract: Alice, 30, lives in Paris", "Alice"),  # was "Extract"
        ("Email Carol about the meeting", "Carol"),
        ("Invite Dan Brown to the party", "Dan Brown"),
    ],
)
def test_an_imperative_verb_opening_the_message_is_not_a_name(message: str, expected: str) -> None:
    assert arguments(message, obj(name=STRING)) == {"name": expected}


def test_a_free_text_argument_without_quotes_carries_the_users_request() -> None:
    # It got a canned phrase ("weather in Paris" for a web search about Python), and an agent
    # used as a tool (openai-agents' as_tool: `input`) a random word.
    message = "Search the web for python news"
    assert arguments(message, obj(query=STRING)) == {"query": message}
    assert arguments("Plan a weekend in Rome", obj(input=STRING)) == {
        "input": "Plan a weekend in Rome"
    }
    # A quoted string is still what the user meant it to be.
    assert arguments('Search for "python news"', obj(query=STRING)) == {"query": "python news"}


@pytest.mark.parametrize(
    ("message", "parameters", "expected"),
    [
        # A number that ends a sentence was dropped (the lookahead refused its full stop).
        (
            "Find flights with max price 300.",
            obj(max_price={"type": "integer"}),
            {"max_price": 300},
        ),
        (
            "Dune was written by Frank Herbert in 1965.",
            obj(year={"type": "integer"}),
            {"year": 1965},
        ),
        ("I need 3 nights. Thanks", obj(nights={"type": "integer"}), {"nights": 3}),
        # instructor's canonical demo: "years old" names an age.
        ("Extract Jason is 25 years old", obj(age={"type": "integer"}), {"age": 25}),
        ("Alice Smith is 30 years old.", obj(age={"type": "integer"}), {"age": 30}),
    ],
)
def test_numbers_at_a_sentence_end_and_ages(
    message: str, parameters: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert arguments(message, parameters) == expected


def test_a_version_like_number_is_still_not_read_as_a_number() -> None:
    # "1.2.3" is not 1.2 then 3: the full stop that continues a number still refuses it.
    value = arguments("Upgrade to 1.2.3 for 2 nights", obj(nights={"type": "integer"}))
    assert value == {"nights": 2}


def test_recommend_opening_the_message_is_not_a_name() -> None:
    message = 'Recommend the book "Dune" by Frank Herbert'
    assert arguments(message, obj(author=STRING))["author"] != "Recommend"
