"""`assert_conforms` checks an answer as `harness validate` checks a recorded one: its schema,
and what the request made of it (usage that adds up, a stream when one was asked for, a
media type its status documents). It ran the schema alone: a total_tokens off by one, JSON
served as text/plain and a stream answered with JSON all passed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.testing import conformance_violations

DATA = Path(__file__).resolve().parents[1] / "data"
URL = "https://api.example/v1/chat/completions"
CHAT = json.loads((DATA / "docs-chat-response.json").read_text())
ASKED = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]}


def answer(body: Any, request: dict[str, Any], content_type: str, url: str = URL) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.Response(
        200,
        content=raw,
        headers={"content-type": content_type},
        request=httpx.Request("POST", url, json=request),
    )


def keywords(response: httpx.Response) -> list[str]:
    return [violation.keyword for violation in conformance_violations(response)]


def test_a_good_answer_passes() -> None:
    assert conformance_violations(answer(CHAT, ASKED, "application/json")) == []


def test_usage_that_does_not_add_up() -> None:
    body = copy.deepcopy(CHAT)
    body["usage"]["total_tokens"] += 1
    assert keywords(answer(body, ASKED, "application/json")) == ["usage"]


def test_json_served_as_text() -> None:
    assert keywords(answer(CHAT, ASKED, "text/plain")) == ["status"]


def test_a_stream_asked_for_and_json_given() -> None:
    assert keywords(answer(CHAT, {**ASKED, "stream": True}, "application/json")) == ["sse"]


def test_json_asked_for_and_a_stream_given() -> None:
    stream = (DATA / "chat-stream.sse").read_bytes()
    assert keywords(answer(stream, ASKED, "text/event-stream")) == ["sse"]


def test_a_finish_reason_the_request_made_impossible() -> None:
    body = copy.deepcopy(CHAT)
    body["choices"][0]["finish_reason"] = "length"  # no max_tokens was sent
    assert keywords(answer(body, ASKED, "application/json")) == ["finish_reason"]


@pytest.mark.parametrize("name", ["chat-stream.sse", "chat-tool-stream.sse"])
def test_a_good_stream_passes(name: str) -> None:
    stream = (DATA / name).read_bytes()
    asked: dict[str, Any] = {**ASKED, "stream": True}
    if name == "chat-tool-stream.sse":
        asked = {
            **asked,
            "stream_options": {"include_usage": True},
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
        }
    assert conformance_violations(answer(stream, asked, "text/event-stream")) == []
