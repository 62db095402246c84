"""Issue 11, text polish: replies read as sentences, and tool arguments use the user's words.

Driven through the official `openai` SDK against `harness serve` (chat and Responses); every
exchange is also checked against the effective spec by the `recorder` fixture.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
from openai import OpenAI

MODEL = "gpt-4"
# A sentence end followed by a word that starts in lower case.
LOWER_SENTENCE_START = re.compile(r"[.!?]\s+[a-z]")


def chat_tool(name: str, description: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


WEATHER_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "location": {"type": "string", "description": "City name"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    },
    "required": ["location", "unit"],
    "additionalProperties": False,
}
HOTEL_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "nights": {"type": "integer", "minimum": 1, "maximum": 14},
        "guests": {"type": "integer", "minimum": 1, "maximum": 2},
    },
    "required": ["city", "nights", "guests"],
}
SEARCH_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "description": "What to search for"},
        "max_results": {"type": "integer", "minimum": 1, "maximum": 50},
    },
    "required": ["query", "max_results"],
}
FLIGHT_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "origin": {"type": "string", "description": "Departure city"},
        "destination": {"type": "string", "description": "Arrival city"},
        # An IATA code: "Paris" does not fit, so a generated code is sent instead.
        "airline": {"type": "string", "pattern": "^[A-Z]{2}$"},
    },
    "required": ["origin", "destination", "airline"],
}


def call_arguments(reply: Any, parameters: dict[str, Any]) -> dict[str, Any]:
    calls = reply.choices[0].message.tool_calls or []
    assert len(calls) == 1, reply
    arguments: dict[str, Any] = json.loads(calls[0].function.arguments)
    jsonschema.validate(arguments, parameters)
    return arguments


def ask(client: OpenAI, text: str, name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": text}],
        tools=[chat_tool(name, "", parameters)],  # type: ignore[list-item]
        tool_choice="required",
    )
    return call_arguments(reply, parameters)


def test_reply_after_a_tool_result_starts_every_sentence_in_upper_case(client: OpenAI) -> None:
    new_sentence_before_result = False
    for seed in range(1, 13):
        messages: list[Any] = [
            {"role": "user", "content": "What's the weather in Paris?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21 degrees"},
        ]
        reply = client.chat.completions.create(model=MODEL, messages=messages, seed=seed)
        text = reply.choices[0].message.content or ""
        assert "sunny, 21 degrees" in text
        assert not LOWER_SENTENCE_START.search(text), text
        assert text[:1].isupper(), text
        new_sentence_before_result |= ". The result is sunny" in text
    # The seeds reach the template that starts a new sentence before the result.
    assert new_sentence_before_result


def test_a_city_argument_takes_the_city_the_user_named(client: OpenAI) -> None:
    arguments = ask(client, "What's the weather in Paris?", "get_weather", WEATHER_PARAMETERS)
    assert arguments["location"] == "Paris"


def test_an_enum_argument_takes_the_value_the_user_named(client: OpenAI) -> None:
    text = "What's the weather in New York in fahrenheit?"
    arguments = ask(client, text, "get_weather", WEATHER_PARAMETERS)
    assert arguments == {"location": "New York", "unit": "fahrenheit"}


def test_numbers_fill_the_numeric_arguments_their_words_name(client: OpenAI) -> None:
    text = "Book a hotel in Lisbon for 3 nights for 2 guests"
    arguments = ask(client, text, "book_hotel", HOTEL_PARAMETERS)
    assert arguments == {"city": "Lisbon", "nights": 3, "guests": 2}


def test_a_number_outside_the_schema_is_not_used(client: OpenAI) -> None:
    text = "Book a hotel in Lisbon for 30 nights for 5 guests"
    arguments = ask(client, text, "book_hotel", HOTEL_PARAMETERS)  # validates against maximum
    assert arguments["city"] == "Lisbon"
    assert arguments["nights"] != 30
    assert arguments["guests"] != 5


def test_a_quoted_string_fills_the_query_argument(client: OpenAI) -> None:
    text = 'Search the web for "contract testing tools" and show the top 5 results'
    arguments = ask(client, text, "web_search", SEARCH_PARAMETERS)
    assert arguments == {"query": "contract testing tools", "max_results": 5}


def test_origin_and_destination_follow_from_and_to(client: OpenAI) -> None:
    text = "Find flights from Berlin to Tokyo next week"
    arguments = ask(client, text, "find_flights", FLIGHT_PARAMETERS)
    assert arguments["origin"] == "Berlin"
    assert arguments["destination"] == "Tokyo"
    assert re.fullmatch("[A-Z]{2}", arguments["airline"])


def test_arguments_from_the_message_are_deterministic(client: OpenAI) -> None:
    text = "Weather in Madrid please, in celsius"
    first = ask(client, text, "get_weather", WEATHER_PARAMETERS)
    again = ask(client, text, "get_weather", WEATHER_PARAMETERS)
    assert first == again == {"location": "Madrid", "unit": "celsius"}


def test_streamed_arguments_carry_the_same_values(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "What's the weather in Paris?"}],
        tools=[chat_tool("get_weather", "", WEATHER_PARAMETERS)],  # type: ignore[list-item]
        stream=True,
    )
    text = "".join(
        call.function.arguments or ""
        for chunk in stream
        for choice in chunk.choices
        for call in choice.delta.tool_calls or []
        if call.function is not None
    )
    assert json.loads(text)["location"] == "Paris"


def test_responses_function_call_takes_the_users_values(client: OpenAI) -> None:
    tool: dict[str, Any] = {
        "type": "function",
        "name": "get_weather",
        "description": "Get the current weather in a given location.",
        "parameters": WEATHER_PARAMETERS,
        "strict": True,
    }
    response = client.responses.create(
        model=MODEL,
        input="What's the weather in Paris, in celsius?",
        tools=[tool],  # type: ignore[list-item]
    )
    calls = [item for item in response.output if item.type == "function_call"]
    assert len(calls) == 1
    arguments = json.loads(calls[0].arguments)
    jsonschema.validate(arguments, WEATHER_PARAMETERS)
    assert arguments == {"location": "Paris", "unit": "celsius"}


RESTAURANT_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "restaurant": {"type": "string", "description": "name of the restaurant"},
        "party_size": {"type": "integer", "minimum": 1, "maximum": 20},
    },
    "required": ["restaurant", "party_size"],
}
CONVERT_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "amount": {"type": "number"},
        "from_currency": {"type": "string", "description": "ISO 4217 code"},
        "to_currency": {"type": "string", "description": "ISO 4217 code"},
    },
    "required": ["amount", "from_currency", "to_currency"],
}


def test_a_quoted_name_fills_a_name_like_argument(client: OpenAI) -> None:
    text = 'Book a table at "Chez Nous" for 4 people'
    arguments = ask(client, text, "book_table", RESTAURANT_PARAMETERS)
    assert arguments == {"restaurant": "Chez Nous", "party_size": 4}


def test_an_amount_and_currency_codes_fill_a_conversion(client: OpenAI) -> None:
    arguments = ask(client, "Convert 250 USD to EUR", "convert_currency", CONVERT_PARAMETERS)
    assert arguments == {"amount": 250, "from_currency": "USD", "to_currency": "EUR"}


def test_currency_codes_follow_from_and_to_in_the_responses_api(client: OpenAI) -> None:
    tool: dict[str, Any] = {
        "type": "function",
        "name": "convert_currency",
        "parameters": CONVERT_PARAMETERS,
        "strict": False,
    }
    response = client.responses.create(
        model=MODEL,
        input="How much is 99.5 GBP in JPY?",
        tools=[tool],  # type: ignore[list-item]
        tool_choice="required",
    )
    calls = [item for item in response.output if item.type == "function_call"]
    assert len(calls) == 1
    arguments = json.loads(calls[0].arguments)
    assert arguments == {"amount": 99.5, "from_currency": "GBP", "to_currency": "JPY"}
