"""`assert_conforms` on what the openai SDK hands back for a stream, against `harness serve`.

A streamed ``with_raw_response`` (and ``with_streaming_response``) holds an httpx response
whose body is not read yet; ``assert_conforms`` reads it, and the SDK's stream still works
afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from openai import AsyncOpenAI, OpenAI

from harness.errors import UsageError
from harness.testing import assert_conforms
from tests.contract import targets
from tests.fixtures.servers import API_KEY, RunningServer

MESSAGES: list[Any] = [{"role": "user", "content": "Say hello"}]


@pytest.fixture
def client(live_server: RunningServer) -> Iterator[OpenAI]:
    with OpenAI(base_url=live_server.base_url, api_key=API_KEY, max_retries=0) as sdk:
        yield sdk


def test_streamed_chat_raw_response(client: OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4", messages=MESSAGES, stream=True
    )
    assert_conforms(raw)
    # The body read for the check stays readable to the SDK.
    text = "".join(chunk.choices[0].delta.content or "" for chunk in raw.parse() if chunk.choices)
    assert text


def test_the_sdks_stream_object_as_create_returns_it(client: OpenAI) -> None:
    # `create(stream=True)` returns a Stream holding its HTTP response: it was taken for a
    # bare body ("pass path=").
    for stream in (
        client.chat.completions.create(model="gpt-4", messages=MESSAGES, stream=True),
        client.responses.create(model="gpt-4", input="Say hello", stream=True),
    ):
        assert_conforms(stream)
        assert list(stream)  # still readable by the SDK after the check


def test_a_parsed_sdk_object_is_a_usage_error_naming_the_raw_response(client: OpenAI) -> None:
    parsed = client.chat.completions.create(model="gpt-4", messages=MESSAGES)
    with pytest.raises(UsageError, match="with_raw_response"):
        assert_conforms(parsed)


def test_streamed_responses_raw_response(client: OpenAI) -> None:
    raw = client.responses.with_raw_response.create(model="gpt-4", input="Say hello", stream=True)
    assert_conforms(raw)
    kinds = [event.type for event in raw.parse()]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"


def test_streaming_response_context(client: OpenAI) -> None:
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4", messages=MESSAGES, stream=True
    ) as response:
        assert_conforms(response)
    with client.responses.with_streaming_response.create(
        model="gpt-4", input="Say hello", stream=True
    ) as response:
        assert_conforms(response)


def test_a_consumed_stream_is_a_usage_error(client: OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4", messages=MESSAGES, stream=True
    )
    for _ in raw.parse():
        pass
    with pytest.raises(UsageError, match="already consumed"):
        assert_conforms(raw)


def test_an_async_stream_must_be_read_first(live_server: RunningServer) -> None:
    async def check() -> None:
        async with AsyncOpenAI(base_url=live_server.base_url, api_key=API_KEY) as sdk:
            raw = await sdk.chat.completions.with_raw_response.create(
                model="gpt-4", messages=MESSAGES, stream=True
            )
            with pytest.raises(UsageError, match=r"await .*aread\(\)"):
                assert_conforms(raw)
            await raw.http_response.aread()
            assert_conforms(raw)

    asyncio.run(check())


def test_a_broken_stream_is_reported() -> None:
    with (
        targets.broken_target(targets.no_done) as url,
        OpenAI(base_url=f"{url}/v1", api_key=API_KEY, max_retries=0) as sdk,
    ):
        raw = sdk.chat.completions.with_raw_response.create(
            model="gpt-4", messages=MESSAGES, stream=True
        )
        with pytest.raises(AssertionError, match=r"does not end with data: \[DONE\]"):
            assert_conforms(raw)
