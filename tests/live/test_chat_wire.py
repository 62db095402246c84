"""The chat wire as plain HTTP clients see it: the API docs' `requests` example and raw SSE."""

from __future__ import annotations

import json

import httpx
import requests

from harness.spec import Operation
from harness.sse import decode_stream
from harness.validate import validate_response, validate_stream
from tests.fixtures.servers import API_KEY, RunningServer


def test_documentation_example_as_written(
    live_server: RunningServer, chat_operation: Operation
) -> None:
    # The Python example of the AIML API docs, only the URL changed (and the key filled in).
    response = requests.post(
        f"{live_server.url}/v1/chat/completions",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {API_KEY}",
        },
        json={
            "model": "gpt-4",
            "messages": [
                {
                    "role": "user",
                    "content": "Hello",  # insert your prompt here, instead of Hello
                }
            ],
        },
    )
    data = response.json()
    assert response.status_code == 200
    assert data["choices"][0]["message"]["content"]
    assert validate_response(chat_operation, data) == []


def test_unversioned_path_is_served_too(
    live_server: RunningServer, chat_operation: Operation
) -> None:
    response = requests.post(
        f"{live_server.url}/chat/completions",
        headers={"Authorization": f"Bearer {API_KEY}"},
        json={"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]},
        timeout=10,
    )
    assert response.status_code == 200
    assert validate_response(chat_operation, response.json()) == []


def test_stream_wire_is_exactly_data_frames_then_done(
    live_server: RunningServer, chat_operation: Operation
) -> None:
    body = {
        "model": "gpt-4",
        "messages": [{"role": "user", "content": "Hello"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with (
        httpx.Client(timeout=10) as http,
        http.stream(
            "POST",
            f"{live_server.base_url}/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {API_KEY}"},
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = b"".join(response.iter_raw()).decode()
    frames = raw.split("\n\n")
    assert frames[-1] == ""  # the wire ends with a blank line
    frames = frames[:-1]
    assert frames[-1] == "data: [DONE]"
    for frame in frames[:-1]:
        assert frame.startswith("data: {")
        assert "\n" not in frame
        json.loads(frame.removeprefix("data: "))
    assert validate_stream(chat_operation, raw) == []
    events = decode_stream(raw)
    assert events[-2].json()["choices"] == []
    assert all(event.event is None for event in events)
