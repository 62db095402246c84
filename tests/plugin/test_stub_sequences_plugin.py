"""The plugin's ``mock_server.stub(...)`` with the new stub fields, as a user's test calls it.

The fixture is a :class:`harness.testing.LiveServer`; this suite runs without the plugin
loaded, so the same object is made here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from openai import OpenAI

from harness.errors import UsageError
from harness.testing import LiveServer

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


@pytest.fixture(scope="module")
def mock_server() -> Iterator[LiveServer]:
    with LiveServer() as server:
        yield server


def ask(server: LiveServer, messages: list[dict[str, object]]) -> object:
    client = OpenAI(base_url=server.base_url, api_key="k", max_retries=0)
    return client.chat.completions.create(model="gpt-4", messages=messages, tools=TOOLS)  # type: ignore[arg-type]


def test_stub_takes_replies_after_last_and_the_new_reply_fields(mock_server: LiveServer) -> None:
    stub = mock_server.stub(
        match={"turns": 1},
        replies=[
            {
                "tool_calls": [
                    {"name": "get_weather", "arguments": {"city": "Paris"}},
                    {"name": "get_weather", "arguments": {"city": "Rome"}},
                ],
                "usage": {"prompt_tokens": 11, "completion_tokens": 22},
            },
            {"text": "Both sunny.", "finish_reason": "stop", "latency_ms": 1},
        ],
        after_last="stop_matching",
    )
    assert stub["times"] == 2 and stub["after_last"] == "stop_matching"
    first = ask(mock_server, [{"role": "user", "content": "weather?"}])
    calls = first.choices[0].message.tool_calls  # type: ignore[attr-defined]
    assert [json.loads(call.function.arguments)["city"] for call in calls] == ["Paris", "Rome"]
    assert first.usage.completion_tokens == 22  # type: ignore[attr-defined]
    second = ask(mock_server, [{"role": "user", "content": "weather?"}])
    assert second.choices[0].message.content == "Both sunny."  # type: ignore[attr-defined]
    assert len(mock_server.requests.filter(stub_id=stub["id"])) == 2


def test_stub_without_reply_nor_replies_is_refused_naming_reply(mock_server: LiveServer) -> None:
    with pytest.raises(UsageError, match="'reply'"):
        mock_server.stub(replies=[{"text": "a"}], reply={"text": "b"})
    with pytest.raises(UsageError, match="after_last"):
        mock_server.stub(reply={"text": "b"}, after_last="cycle")
