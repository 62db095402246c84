"""A reply with no token limit of its own stops where the context window ends.

The live model cannot write past gpt-4's 8,192-token window; the mock answered a schema's
instance of any length whole (a 372-byte request with `minLength: 100000` strings got 100,000
tokens, each with 20 logprob alternatives: a 130 MB body, 14 s and 1.2 GB in one worker).
"""

from __future__ import annotations

from typing import Any

from openai import OpenAI

MODEL = "gpt-4"
WINDOW = 8192
LONG: dict[str, Any] = {
    "type": "object",
    "properties": {"text": {"type": "string", "minLength": 100_000}},
    "required": ["text"],
    "additionalProperties": False,
}


def test_a_chat_reply_stops_at_the_window(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Write it."}],
        response_format={"type": "json_schema", "json_schema": {"name": "long", "schema": LONG}},
        logprobs=True,
        top_logprobs=20,
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.total_tokens == WINDOW
    assert choice.logprobs is not None and choice.logprobs.content is not None
    assert len(choice.logprobs.content) == completion.usage.completion_tokens


def test_a_responses_reply_stops_at_the_window(client: OpenAI) -> None:
    response = client.responses.create(
        model=MODEL,
        input="Write it.",
        text={"format": {"type": "json_schema", "name": "long", "schema": LONG}},
    )
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.usage is not None and response.usage.total_tokens == WINDOW


def test_a_token_limit_inside_the_window_still_applies(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Write it."}],
        response_format={"type": "json_schema", "json_schema": {"name": "long", "schema": LONG}},
        max_tokens=50,
    )
    assert completion.usage is not None and completion.usage.completion_tokens == 50
