"""What the mock sends is what the live API sends, field for field, where a client could notice.

Each test reads the raw wire (httpx, no SDK in between), since these are fields the SDKs
hide or compute: ``output_text`` (computed by the SDKs, never sent), the ``obfuscation``
padding of stream deltas, ``service_tier`` as the stream goes on, and the spec's refusal of
hosted tools it does not declare.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openai import OpenAI

from harness.spec import Operation
from harness.sse import DONE, decode_stream
from harness.validate import validate_stream
from tests.fixtures.servers import API_KEY, RunningServer

HELLO = [{"role": "user", "content": "Hello"}]
STORY = "Tell me a story about contract testing"
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}
RESPONSE_EVENTS = ("response.created", "response.in_progress", "response.completed")
# What live padding is made of (recorded chat and Responses streams).
PADDING = re.compile(r"[A-Za-z0-9]{1,16}")
DELTA_EVENTS = ("response.output_text.delta", "response.function_call_arguments.delta")


@pytest.fixture
def http(live_server: RunningServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=live_server.base_url, headers=headers, timeout=30) as client:
        yield client


def post_stream(http: httpx.Client, path: str, body: dict[str, Any]) -> bytes:
    response = http.post(path, json={**body, "stream": True})
    assert response.status_code == 200, response.text
    return response.content


def payloads(raw: bytes) -> list[dict[str, Any]]:
    return [event.json() for event in decode_stream(raw) if event.data != DONE]


# --------------------------------------------------------------------------- output_text


def test_responses_bodies_carry_no_output_text(http: httpx.Client, client: OpenAI) -> None:
    body = http.post("/responses", json={"model": "gpt-4", "input": "Hello", "store": True}).json()
    assert "output_text" not in body
    text = body["output"][0]["content"][0]["text"]
    assert text
    stored = http.get(f"/responses/{body['id']}").json()
    assert "output_text" not in stored
    # The SDK computes it from the output items, as against the live API.
    assert client.responses.retrieve(body["id"]).output_text == text
    assert client.responses.create(model="gpt-4", input="Hello").output_text == text


def test_responses_stream_events_carry_no_output_text(
    http: httpx.Client, responses_operation: Operation
) -> None:
    raw = post_stream(http, "/responses", {"model": "gpt-4", "input": STORY})
    assert validate_stream(responses_operation, raw) == []
    snapshots = [event["response"] for event in payloads(raw) if "response" in event]
    assert [s["status"] for s in snapshots] == ["in_progress", "in_progress", "completed"]
    for snapshot in snapshots:
        assert "output_text" not in snapshot


# --------------------------------------------------------------------------- service_tier


def test_service_tier_is_auto_until_the_response_is_done(http: httpx.Client) -> None:
    raw = post_stream(http, "/responses", {"model": "gpt-4", "input": "Hello"})
    tiers = {e["type"]: e["response"]["service_tier"] for e in payloads(raw) if "response" in e}
    assert tiers == dict(zip(RESPONSE_EVENTS, ["auto", "auto", "default"], strict=True))
    body = http.post("/responses", json={"model": "gpt-4", "input": "Hello"}).json()
    assert body["service_tier"] == "default"


def test_an_incomplete_response_ends_with_the_default_tier(http: httpx.Client) -> None:
    raw = post_stream(
        http, "/responses", {"model": "gpt-4", "input": STORY, "max_output_tokens": 16}
    )
    last = payloads(raw)[-1]
    assert last["type"] == "response.incomplete"
    assert last["response"]["service_tier"] == "default"


# --------------------------------------------------------------------------- obfuscation


def test_every_chat_chunk_is_padded_to_hide_its_length(
    http: httpx.Client, chat_operation: Operation
) -> None:
    body = {"model": "gpt-4", "messages": HELLO, "stream_options": {"include_usage": True}}
    raw = post_stream(http, "/chat/completions", body)
    assert validate_stream(chat_operation, raw) == []
    events = [event for event in decode_stream(raw) if event.data != DONE]
    chunks = [event.json() for event in events]
    assert len(chunks) > 4 and chunks[-1]["choices"] == []  # the usage chunk is padded too
    for chunk in chunks:
        assert PADDING.fullmatch(chunk["obfuscation"]), chunk
        assert list(chunk)[-1] == "obfuscation"  # last, as on the live wire
    # The padding makes every chunk's JSON the same length modulo 16, whatever it carries.
    lengths = {len(event.data.encode()) % 16 for event in events}
    assert len(lengths) == 1, lengths
    assert len({chunk["obfuscation"] for chunk in chunks}) > 1


def test_chat_tool_call_chunks_are_padded(http: httpx.Client, chat_operation: Operation) -> None:
    tool = {
        "type": "function",
        "function": {"name": "get_weather", "parameters": WEATHER_TOOL["parameters"]},
    }
    body = {
        "model": "gpt-4",
        "messages": [{"role": "user", "content": "What is the weather in Paris?"}],
        "tools": [tool],
        "tool_choice": "required",
    }
    raw = post_stream(http, "/chat/completions", body)
    assert validate_stream(chat_operation, raw) == []
    chunks = payloads(raw)
    assert any(c["choices"][0]["delta"].get("tool_calls") for c in chunks)
    assert all(PADDING.fullmatch(chunk["obfuscation"]) for chunk in chunks)


def test_responses_deltas_are_padded_to_a_multiple_of_16(
    http: httpx.Client, responses_operation: Operation
) -> None:
    for body in (
        {"model": "gpt-4", "input": STORY},
        {
            "model": "gpt-4",
            "input": "What is the weather in Paris?",
            "tools": [WEATHER_TOOL],
            "tool_choice": "required",
        },
    ):
        raw = post_stream(http, "/responses", body)
        assert validate_stream(responses_operation, raw) == []
        events = payloads(raw)
        deltas = [event for event in events if event["type"] in DELTA_EVENTS]
        assert deltas, body
        for event in deltas:
            padding = event["obfuscation"]
            assert PADDING.fullmatch(padding), event
            assert (len(event["delta"]) + len(padding)) % 16 == 0, event
            assert list(event)[-1] == "obfuscation"
        # Only the deltas are padded, as on the live wire.
        assert not [e for e in events if e["type"] not in DELTA_EVENTS and "obfuscation" in e]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/chat/completions", {"model": "gpt-4", "messages": HELLO}),
        ("/responses", {"model": "gpt-4", "input": STORY}),
    ],
    ids=["chat", "responses"],
)
def test_include_obfuscation_false_turns_the_padding_off(
    http: httpx.Client, path: str, body: dict[str, Any]
) -> None:
    off = post_stream(http, path, {**body, "stream_options": {"include_obfuscation": False}})
    assert b"obfuscation" not in off
    on = post_stream(http, path, {**body, "stream_options": {"include_obfuscation": True}})
    assert b'"obfuscation":"' in on
    # The padding changes nothing else: the same text, frame for frame.
    strip = re.compile(rb',"obfuscation":"[A-Za-z0-9]*"')
    assert _without_ids(strip.sub(b"", on)) == _without_ids(off)


def _without_ids(raw: bytes) -> bytes:
    return re.sub(rb'"(chatcmpl-|resp_|msg_|fc_|call_)[A-Za-z0-9]+"|"created(_at)?":\d+', b"", raw)


def test_plain_bodies_carry_no_padding(http: httpx.Client) -> None:
    chat = http.post("/chat/completions", json={"model": "gpt-4", "messages": HELLO})
    responses = http.post("/responses", json={"model": "gpt-4", "input": "Hello"})
    assert b"obfuscation" not in chat.content and b"obfuscation" not in responses.content


def test_the_sdk_reads_padded_streams(client: OpenAI) -> None:
    text = "".join(
        chunk.choices[0].delta.content or ""
        for chunk in client.chat.completions.create(model="gpt-4", messages=HELLO, stream=True)
        if chunk.choices
    )
    plain = client.chat.completions.create(model="gpt-4", messages=HELLO)
    assert text and text == plain.choices[0].message.content
    with client.responses.stream(model="gpt-4", input="Hello") as stream:
        final = stream.get_final_response()
    assert final.output_text == client.responses.create(model="gpt-4", input="Hello").output_text


def test_the_sdk_sees_the_padding_and_turns_it_off(client: OpenAI) -> None:
    padded = list(client.chat.completions.create(model="gpt-4", messages=HELLO, stream=True))
    assert all(chunk.obfuscation for chunk in padded)
    plain = client.chat.completions.create(
        model="gpt-4", messages=HELLO, stream=True, stream_options={"include_obfuscation": False}
    )
    assert all(chunk.obfuscation is None for chunk in plain)
    events = client.responses.create(
        model="gpt-4",
        input="Hello",
        stream=True,
        stream_options={"include_obfuscation": False},
    )
    deltas = [event for event in events if event.type == "response.output_text.delta"]
    assert deltas and all(getattr(event, "obfuscation", None) is None for event in deltas)


# --------------------------------------------------------------------------- hosted tools


@pytest.mark.parametrize("kind", ["web_search_preview", "web_search", "file_search"])
def test_hosted_tools_the_spec_does_not_declare_are_refused_naming_the_field(
    http: httpx.Client, kind: str
) -> None:
    # The published gpt-4 Responses spec declares only `function` and `mcp` tools.
    response = http.post(
        "/responses", json={"model": "gpt-4", "input": "Search the web", "tools": [{"type": kind}]}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "tools[0].type"
    assert "'tools[0].type'" in error["message"] and "function, mcp" in error["message"]


def test_an_mcp_tool_is_accepted_and_never_called(http: httpx.Client) -> None:
    tool = {"type": "mcp", "server_label": "docs", "server_url": "https://example.invalid/mcp"}
    response = http.post("/responses", json={"model": "gpt-4", "input": "Hello", "tools": [tool]})
    assert response.status_code == 200, response.text
    assert [item["type"] for item in response.json()["output"]] == ["message"]


def test_an_mcp_tools_credentials_and_url_path_are_not_echoed(
    http: httpx.Client, client: OpenAI
) -> None:
    # The live API shows neither the headers' values nor the server_url's path (OpenAI's
    # remote MCP guide); the SDK reads the echo into its McpTool model.
    token = "mcp-wire-Tk12Ab34Cd56"
    tool = {
        "type": "mcp",
        "server_label": "docs",
        "server_url": "https://example.invalid/mcp?key=zz",
        "headers": {"Authorization": f"Bearer {token}"},
        "require_approval": "never",
    }
    body = {"model": "gpt-4", "input": "Hello", "tools": [tool]}
    raw = http.post("/responses", json=body)
    assert raw.status_code == 200 and token not in raw.text and "key=zz" not in raw.text
    echoed = client.responses.create(**body).tools[0]  # type: ignore[call-overload]
    assert echoed.type == "mcp" and echoed.server_label == "docs"
    assert echoed.server_url == "https://example.invalid" and echoed.headers is None
    with client.responses.stream(**body) as events:  # type: ignore[call-overload]
        final = events.get_final_response()
    assert final.tools[0].server_url == "https://example.invalid"
    assert final.tools[0].headers is None  # type: ignore[union-attr]


def test_a_raw_json_client_finds_the_text_where_the_live_api_puts_it(
    http: httpx.Client, client: OpenAI
) -> None:
    body = json.loads(http.post("/responses", json={"model": "gpt-4", "input": "Hello"}).content)
    texts = [part["text"] for item in body["output"] for part in item["content"]]
    assert texts == [client.responses.create(model="gpt-4", input="Hello").output_text]
