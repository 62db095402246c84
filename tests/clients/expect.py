"""What every client in the matrix asks, and what a right answer looks like.

The same questions and the same checks for each client, so a row of the matrix means the
same thing whichever client it names.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema
from pydantic import BaseModel

MODEL = "gpt-4"
# Served by `harness serve --model gpt-4o` like gpt-4. Clients that decide by the model's name
# whether it takes json_schema structured output (LangChain, litellm) send it only for this one.
STRUCTURED_MODEL = "gpt-4o"
HELLO = "Hello"
WEATHER_CITY = "Paris"
WEATHER_QUESTION = f"What's the weather in {WEATHER_CITY}?"
CITY_QUESTION = "Tell me about Paris"
# The schema the frameworks derive from `get_weather(city: str)`; hand-written tools use it too.
WEATHER_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "City name"}},
    "required": ["city"],
}
WEATHER_DESCRIPTION = "Get the current weather in a city."
TOOL_RESULT = "sunny"


class City(BaseModel):
    """A city and how many people live there."""

    name: str
    population: int


def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return TOOL_RESULT


def recorded_weather(calls: list[str]) -> Callable[[str], str]:
    """:func:`get_weather` that also records each city the agent asks for, in ``calls``."""

    def get_weather(city: str) -> str:
        """Get the current weather in a city."""
        calls.append(city)
        return TOOL_RESULT

    return get_weather


def chat_weather_tool() -> dict[str, Any]:
    """A Chat Completions function tool, written by hand as the docs show it."""
    return {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": WEATHER_DESCRIPTION,
            "parameters": WEATHER_PARAMETERS,
        },
    }


def responses_weather_tool() -> dict[str, Any]:
    """A Responses function tool, written by hand as the docs show it: no `strict`."""
    return {
        "type": "function",
        "name": "get_weather",
        "description": WEATHER_DESCRIPTION,
        "parameters": WEATHER_PARAMETERS,
    }


def assert_text(text: object) -> str:
    assert isinstance(text, str), f"expected text, got {text!r}"
    assert text.strip(), "the reply is empty"
    return text


def assert_weather_call(name: object, arguments: object) -> dict[str, Any]:
    """A call of get_weather whose arguments (a JSON string or parsed) fit its schema."""
    assert name == "get_weather", f"called {name!r}"
    parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
    assert isinstance(parsed, dict), f"arguments are not an object: {arguments!r}"
    jsonschema.validate(parsed, WEATHER_PARAMETERS)
    # The mock fills a string argument whose name fits with the value the user wrote.
    assert parsed["city"] == WEATHER_CITY, f"asked about {WEATHER_CITY}, got {parsed}"
    return parsed


def assert_city(value: object) -> City:
    """Structured output: a City (or its JSON or dict) with a non-empty name."""
    if isinstance(value, str):
        city = City.model_validate_json(value)
    elif isinstance(value, City):
        city = value
    else:
        city = City.model_validate(value)
    assert city.name.strip(), f"empty name in {city!r}"
    return city


def assert_used_tool_result(text: object) -> str:
    """The answer after a tool round trip uses what the tool returned."""
    reply = assert_text(text)
    assert TOOL_RESULT in reply.lower(), f"the tool result is not in {reply!r}"
    return reply
