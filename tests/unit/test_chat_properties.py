"""Property tests: any chat request the spec accepts gets a reply the spec accepts."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.spec import Operation, SpecSet
from harness.validate import validate_request, validate_response, validate_stream
from mockserver import MockConfig, create_app
from mockserver.engine.chat import plan_chat
from mockserver.engine.tokens import (
    count_message_tokens,
    count_tokens,
    encode,
    split_pieces,
    truncate_pieces,
)

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture(scope="module")
def app_client() -> FlaskClient:
    return create_app(MockConfig()).test_client()


def chat_bodies(specs: SpecSet) -> st.SearchStrategy[Any]:
    document = next(doc for doc in specs.documents if doc.name == "gpt-4")
    schema = schemathesis.openapi.from_dict(document.effective)
    return schema["/v1/chat/completions"]["POST"].as_strategy().map(lambda case: case.body)


def test_generated_requests_get_spec_valid_replies(
    specs: SpecSet, chat_operation: Operation, app_client: FlaskClient
) -> None:
    @PROPERTY_SETTINGS
    @given(body=chat_bodies(specs), stream=st.booleans(), include_usage=st.booleans())
    def check(body: Any, stream: bool, include_usage: bool) -> None:
        assert validate_request(chat_operation, body) == []  # the generator's promise
        if isinstance(body.get("n"), int):
            body["n"] = min(body["n"], 3)  # keep each example small; n is covered elsewhere
        body["stream"] = stream
        if stream and include_usage:
            body["stream_options"] = {"include_usage": True}
        response = app_client.post(
            "/v1/chat/completions", json=body, headers={"Authorization": "Bearer k"}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        if stream:
            assert validate_stream(chat_operation, response.get_data()) == []
        else:
            assert validate_response(chat_operation, response.get_json()) == []

    check()


@PROPERTY_SETTINGS
@given(text=st.text(max_size=300), limit=st.integers(min_value=1, max_value=60))
def test_truncation_never_exceeds_the_limit(text: str, limit: int) -> None:
    pieces = split_pieces(text)
    kept, cut = truncate_pieces(pieces, limit)
    kept_text = "".join(piece.text for piece in kept)
    assert sum(piece.tokens for piece in kept) <= limit
    assert count_tokens(kept_text) <= limit
    assert cut == (len(kept) < len(pieces))
    if "\ufffd" not in "".join(p.text for p in pieces):
        assert text.startswith(kept_text)


@PROPERTY_SETTINGS
@given(
    content=st.text(min_size=1, max_size=200),
    limit=st.integers(min_value=1, max_value=40),
    n=st.integers(min_value=1, max_value=3),
    field=st.sampled_from(["max_tokens", "max_completion_tokens"]),
)
def test_planned_replies_respect_the_token_limit(
    content: str, limit: int, n: int, field: str
) -> None:
    body = {"model": "gpt-4", "messages": [{"role": "user", "content": content}], "n": n}
    plan = plan_chat({**body, field: limit})
    unlimited = plan_chat(body)
    for reply, full in zip(plan.choices, unlimited.choices, strict=True):
        assert reply.completion_tokens <= limit
        assert count_tokens(reply.text) <= limit
        assert full.text.startswith(reply.text)
        expected = "length" if full.completion_tokens > limit else "stop"
        assert reply.finish_reason == expected


WEATHER_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string"}, "unit": {"type": "string"}},
                "required": ["location", "unit"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
        },
    },
]


@PROPERTY_SETTINGS
@given(
    limit=st.integers(min_value=1, max_value=60),
    field=st.sampled_from(["max_tokens", "max_completion_tokens"]),
    parallel=st.booleans(),
)
def test_tool_calls_respect_the_token_limit(limit: int, field: str, parallel: bool) -> None:
    # The function names count too: the model writes them as it writes the arguments.
    body = {
        "model": "gpt-4",
        "messages": [{"role": "user", "content": "What is the weather and time in Paris?"}],
        "tools": WEATHER_TOOLS,
        "tool_choice": "required",
        "parallel_tool_calls": parallel,
    }
    unlimited = plan_chat(body).choices[0]
    reply = plan_chat({**body, field: limit}).choices[0]
    assert unlimited.tool_calls and unlimited.completion_tokens == sum(
        count_tokens(call.name) + count_tokens(call.arguments) for call in unlimited.tool_calls
    )
    assert reply.tool_calls
    assert reply.completion_tokens <= limit
    expected = "length" if unlimited.completion_tokens > limit else "tool_calls"
    assert reply.finish_reason == expected
    for call, full in zip(reply.tool_calls, unlimited.tool_calls, strict=False):
        assert call.name == full.name
        assert full.arguments.startswith(call.arguments)


def test_assistant_tool_calls_count_as_prompt_tokens() -> None:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"location": "Paris"}'},
    }
    without = [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": None}]
    with_call = [without[0], {**without[1], "tool_calls": [call]}]
    extra = count_tokens("get_weather" + '{"location": "Paris"}')
    assert count_message_tokens(with_call) == count_message_tokens(without) + extra


def test_impossible_tool_schema_still_gets_an_answer() -> None:
    impossible = {"type": "string", "minLength": 5, "maxLength": 2}
    body = {
        "model": "gpt-4",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": impossible}}],
        "tool_choice": "required",
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "x", "schema": impossible},
        },
    }
    (reply,) = plan_chat(body).choices
    assert reply.tool_calls[0].arguments == "{}"


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200))
def test_token_counts_match_the_reference_tokenizer(text: str) -> None:
    """Our cl100k_base (tiktoken engine, bpe-openai's rank file) counts as bpe-openai does."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import bpe_openai

    reference = bpe_openai.get_encoding("cl100k_base")
    assert list(encode(text)) == reference.encode_ordinary(text)
