"""Limits on what one request may cost: body size (whatever the framing), prompt, tools.

Each limit is answered as the live API answers it (its own error where it has one), or as a
documented OpenAI-shaped 4xx naming the limit: never a 500, a hang or a silent cut.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from mockserver.config import DEFAULT_MAX_BODY_BYTES
from tests.fixtures.servers import API_KEY, RunningServer

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def _chunked_post(url: str, path: str, pieces: Iterator[bytes]) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(
            "POST",
            path,
            body=pieces,
            headers={**AUTH, "Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _valid_body_of(size: int) -> bytes:
    """A valid chat body of exactly ``size`` bytes (padding in the user message)."""
    head = b'{"model": "gpt-4", "messages": [{"role": "user", "content": "'
    tail = b'"}]}'
    return head + b"a" * (size - len(head) - len(tail)) + tail


def _in_pieces(data: bytes, piece: int = 1 << 20) -> Iterator[bytes]:
    for start in range(0, len(data), piece):
        yield data[start : start + piece]


def test_a_chunked_body_over_the_limit_is_a_413_not_a_silent_cut(
    live_server: RunningServer,
) -> None:
    # A valid object of exactly the limit, then more: the server must not read the first
    # 32 MiB, stop, and answer the valid prefix.
    data = _valid_body_of(DEFAULT_MAX_BODY_BYTES) + b"THIS IS NOT JSON"
    status, body = _chunked_post(live_server.url, "/v1/chat/completions", _in_pieces(data))
    assert status == 413, body[:300]
    error = json.loads(body)["error"]
    assert "too large" in error["message"]
    assert str(DEFAULT_MAX_BODY_BYTES) in error["message"]


def test_a_chunked_body_under_the_limit_is_read_whole(live_server: RunningServer) -> None:
    data = _valid_body_of(200_000)
    status, body = _chunked_post(live_server.url, "/v1/chat/completions", _in_pieces(data, 7_000))
    assert status in (200, 400), body[:300]
    # Under the limit, the body is judged as a whole (here: a prompt over the context window).
    assert json.loads(body)


def test_a_declared_length_over_the_limit_is_a_413(live_server: RunningServer) -> None:
    response = requests.post(
        f"{live_server.base_url}/chat/completions",
        data=b"x" * (DEFAULT_MAX_BODY_BYTES + 1),
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 413
    assert str(DEFAULT_MAX_BODY_BYTES) in response.json()["error"]["message"]


@pytest.mark.parametrize("content", ["word " * 200_000, "a" * 3_000_000])
def test_a_prompt_over_the_context_window_is_the_live_apis_400(
    live_server: RunningServer, content: str
) -> None:
    response = requests.post(
        f"{live_server.base_url}/chat/completions",
        json={"model": "gpt-4", "messages": [{"role": "user", "content": content}]},
        headers=AUTH,
        timeout=60,
    )
    assert response.status_code == 400, response.text[:300]
    error = response.json()["error"]
    assert error["code"] == "context_length_exceeded"
    assert error["param"] == "messages"
    assert "maximum context length is 8192 tokens" in error["message"]


def test_a_responses_input_over_the_context_window_is_the_live_apis_400(
    live_server: RunningServer,
) -> None:
    response = requests.post(
        f"{live_server.base_url}/responses",
        json={"model": "gpt-4", "input": "word " * 20_000},
        headers=AUTH,
        timeout=60,
    )
    assert response.status_code == 400, response.text[:300]
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("context_length_exceeded", "input")


def _respond(server: RunningServer, body: dict[str, object]) -> requests.Response:
    return requests.post(
        f"{server.base_url}/responses", json={"model": "gpt-4", **body}, headers=AUTH, timeout=60
    )


def test_a_chain_past_the_context_window_is_the_live_apis_400(
    live_server: RunningServer,
) -> None:
    # Each turn fits; the conversation the last one continues does not.
    first = _respond(live_server, {"input": "word " * 5_000, "store": True})
    assert first.status_code == 200, first.text[:300]
    second = _respond(
        live_server, {"input": "word " * 5_000, "previous_response_id": first.json()["id"]}
    )
    assert second.status_code == 400, second.text[:300]
    error = second.json()["error"]
    assert (error["code"], error["param"]) == ("context_length_exceeded", "input")


def test_truncation_auto_drops_older_items_to_fit(live_server: RunningServer) -> None:
    # The spec: with "auto", the input is fitted to the window by dropping input items; the
    # live API answers instead of refusing. The newest item and the instructions stay.
    turns = [
        {"role": "user", "content": "Remember the owls."},
        {"role": "user", "content": "word " * 5_000},
        {"role": "assistant", "content": "Noted."},
        {"role": "user", "content": "word " * 5_000},
        {"role": "user", "content": "What did I ask you to remember?"},
    ]
    refused = _respond(live_server, {"input": turns})
    assert refused.status_code == 400, refused.text[:300]
    answered = _respond(live_server, {"input": turns, "truncation": "auto"})
    assert answered.status_code == 200, answered.text[:300]
    reply = answered.json()
    assert reply["truncation"] == "auto"
    assert 5_000 < reply["usage"]["input_tokens"] <= 8_192

    first = _respond(live_server, {"input": "word " * 5_000, "store": True})
    chained = _respond(
        live_server,
        {
            "input": "word " * 5_000,
            "previous_response_id": first.json()["id"],
            "truncation": "auto",
        },
    )
    assert chained.status_code == 200, chained.text[:300]
    assert 5_000 < chained.json()["usage"]["input_tokens"] <= 8_192
    # What "auto" never drops must fit: the newest item alone past the window is refused.
    alone = _respond(live_server, {"input": "word " * 9_000, "truncation": "auto"})
    assert alone.status_code == 400, alone.text[:300]
    assert alone.json()["error"]["code"] == "context_length_exceeded"


def test_a_prompt_inside_the_window_is_answered(live_server: RunningServer) -> None:
    response = requests.post(
        f"{live_server.base_url}/chat/completions",
        json={"model": "gpt-4", "messages": [{"role": "user", "content": "word " * 8_000}]},
        headers=AUTH,
        timeout=60,
    )
    assert response.status_code == 200, response.text[:300]
    assert 8_000 < response.json()["usage"]["prompt_tokens"] <= 8192


def _tools(count: int) -> list[dict[str, object]]:
    return [
        {"type": "function", "function": {"name": f"tool_{i}", "parameters": {"type": "object"}}}
        for i in range(count)
    ]


@pytest.mark.parametrize(("path", "flat"), [("/chat/completions", False), ("/responses", True)])
def test_more_tools_than_the_live_api_takes_is_its_400(
    live_server: RunningServer, path: str, flat: bool
) -> None:
    tools = _tools(20_000)
    if flat:
        tools = [{"type": "function", **tool["function"]} for tool in tools]  # type: ignore[dict-item]
    prompt = {"input": "hi"} if flat else {"messages": [{"role": "user", "content": "hi"}]}
    response = requests.post(
        f"{live_server.base_url}{path}",
        json={"model": "gpt-4", **prompt, "tools": tools},
        headers=AUTH,
        timeout=60,
    )
    assert response.status_code == 400, response.text[:300]
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("array_above_max_length", "tools")
    assert "maximum length 128" in error["message"]


def test_a_tool_description_over_the_context_window_is_refused_without_counting_it(
    live_server: RunningServer,
) -> None:
    tool = {
        "type": "function",
        "function": {"name": "f", "description": "a" * 3_000_000, "parameters": {}},
    }
    response = requests.post(
        f"{live_server.base_url}/chat/completions",
        json={"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}], "tools": [tool]},
        headers=AUTH,
        timeout=60,
    )
    assert response.status_code == 400, response.text[:300]
    error = response.json()["error"]
    assert error["code"] == "context_length_exceeded"
    # A lower bound, not a count: the 3 MB description was never tokenized whole.
    assert "at least" in error["message"]
