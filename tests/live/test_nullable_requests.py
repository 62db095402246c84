"""Optional request fields sent as ``null`` are answered as if they were absent.

openai-python types these fields ``Optional[...]`` and sends a ``None`` it is given as
``null`` (code such as ``max_tokens=settings.max_tokens`` does, when the setting is unset);
the live API reads an explicit null as "use the default". A Response's own echo carries
``"max_output_tokens": null``, so sending a Response's settings back must work too. LangChain
``ChatOpenAI(use_responses_api=True, verbosity=...)`` and openai-agents
``ModelSettings(verbosity=...)`` send ``text: {"verbosity": ...}`` without ``format``.
Overlays C15, C16 (chat) and R8, R9 (Responses). Every body and stream is checked against
the effective spec by the ``recorder`` fixture.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai import OpenAI
from pydantic import BaseModel

MODEL = "gpt-4"
MESSAGES: list[Any] = [{"role": "user", "content": "Tell me about the sea in Paris."}]
INPUT = "Tell me about the sea in Paris."

CHAT_NULLABLE = ["max_tokens", "max_completion_tokens", "temperature", "top_p", "seed", "stream"]
RESPONSES_NULLABLE = ["max_output_tokens", "top_p", "truncation", "background"]
# What a Response says when the request left these out (the live API's defaults).
RESPONSES_DEFAULTS = {
    "max_output_tokens": None,
    "top_p": 1.0,
    "truncation": "disabled",
    "background": False,
}


def _chat_text(client: OpenAI, **request: Any) -> str | None:
    completion = client.chat.completions.create(model=MODEL, messages=MESSAGES, **request)
    return completion.choices[0].message.content


def _raw_response(client: OpenAI, **request: Any) -> dict[str, Any]:
    raw = client.responses.with_raw_response.create(model=MODEL, **request)
    body: dict[str, Any] = json.loads(raw.http_response.content)
    return body


def _output_text(body: dict[str, Any]) -> str:
    return "".join(
        part["text"]
        for item in body["output"]
        if item["type"] == "message"
        for part in item["content"]
        if part["type"] == "output_text"
    )


# --------------------------------------------------------------------------- chat


@pytest.mark.parametrize("field", CHAT_NULLABLE)
def test_chat_null_field_is_read_as_absent(client: OpenAI, field: str) -> None:
    assert _chat_text(client, **{field: None}) == _chat_text(client)


def test_chat_every_nullable_field_null_at_once(client: OpenAI) -> None:
    nulls = dict.fromkeys([*CHAT_NULLABLE, "stream_options"])
    assert _chat_text(client, **nulls) == _chat_text(client)


def test_chat_stream_options_null_streams_with_defaults(client: OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model=MODEL, messages=MESSAGES, stream=True, stream_options=None
        )
    )
    # The defaults: no usage chunk, obfuscation padding on every delta.
    assert all(chunk.usage is None for chunk in chunks)
    assert all(chunk.choices for chunk in chunks)
    assert all(isinstance(getattr(chunk, "obfuscation", None), str) for chunk in chunks)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text == _chat_text(client)


# --------------------------------------------------------------------------- Responses


@pytest.mark.parametrize("field", RESPONSES_NULLABLE)
def test_responses_null_field_is_read_as_absent(client: OpenAI, field: str) -> None:
    sent_null = _raw_response(client, input=INPUT, **{field: None})
    absent = _raw_response(client, input=INPUT)
    assert sent_null["status"] == "completed"
    assert sent_null[field] == absent[field] == RESPONSES_DEFAULTS[field]
    assert _output_text(sent_null) == _output_text(absent)


def test_responses_echoed_settings_sent_back_are_accepted(client: OpenAI) -> None:
    # A client that copies a Response's settings into its next request (`null`s included).
    first = _raw_response(client, input=INPUT)
    settings = {
        key: first[key]
        for key in (
            "instructions",
            "max_output_tokens",
            "parallel_tool_calls",
            "previous_response_id",
            "reasoning",
            "store",
            "temperature",
            "text",
            "tool_choice",
            "tools",
            "top_p",
            "truncation",
            "user",
            "metadata",
            "background",
        )
    }
    assert settings["max_output_tokens"] is None
    again = _raw_response(client, input=INPUT, **settings)
    assert again["status"] == "completed"
    assert {key: again[key] for key in settings} == settings


def test_responses_text_without_format_is_plain_text(client: OpenAI) -> None:
    empty = _raw_response(client, input=INPUT, text={})
    absent = _raw_response(client, input=INPUT)
    assert empty["status"] == "completed"
    assert empty["text"] == absent["text"] == {"format": {"type": "text"}}
    assert _output_text(empty) == _output_text(absent)


def test_responses_text_verbosity_without_format_is_echoed(client: OpenAI) -> None:
    body = _raw_response(client, input=INPUT, text={"verbosity": "low"})
    assert body["status"] == "completed"
    assert body["text"] == {"format": {"type": "text"}, "verbosity": "low"}


def test_responses_stream_with_nulls_completes(client: OpenAI) -> None:
    nulls = dict.fromkeys(RESPONSES_NULLABLE)
    events = list(client.responses.create(model=MODEL, input=INPUT, stream=True, **nulls))
    completed = events[-1]
    assert completed.type == "response.completed"
    assert completed.response.max_output_tokens is None
    assert completed.response.truncation == "disabled"
    assert completed.response.output_text == _output_text(_raw_response(client, input=INPUT))


class _Weather(BaseModel):
    city: str


# The SDK warns while it serialises its own generic `parsed` field; what it sends is the point.
@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
def test_chat_a_parsed_message_sent_back_is_accepted(client: OpenAI) -> None:
    # `messages.append(completion.choices[0].message)` after `.parse()`: the SDK's parsed
    # message carries `tool_calls: None`, sent as null (overlay C17).
    parsed = client.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=_Weather)
    message = parsed.choices[0].message
    assert message.tool_calls is None
    again = client.chat.completions.create(
        model=MODEL,
        messages=[*MESSAGES, message, {"role": "user", "content": "And in Rome?"}],  # type: ignore[list-item]
    )
    assert again.choices[0].message.content


def test_chat_a_stream_helper_message_sent_back_is_accepted(client: OpenAI) -> None:
    with client.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream:
        message = stream.get_final_completion().choices[0].message
    again = client.chat.completions.create(
        model=MODEL,
        messages=[*MESSAGES, message, {"role": "user", "content": "And in Rome?"}],  # type: ignore[list-item]
    )
    assert again.choices[0].message.content
