"""instructor against `harness serve`: structured output in each mode that sends a schema.

instructor pins jiter below the version newer openai releases need, so it runs with its own
openai in `tox -e clients-instructor` (requirements-instructor.txt). Its prompt-only modes
(JSON, MD_JSON) put the schema in the prompt only, and the mock answers an instance of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import instructor
import pytest
from openai import AsyncOpenAI, OpenAI

from tests.clients.expect import CITY_QUESTION, MODEL, City, assert_city
from tests.fixtures.servers import API_KEY, RunningServer

# TOOLS is instructor's default (a chat function tool); JSON_SCHEMA sends response_format
# json_schema; RESPONSES_TOOLS sends a Responses function tool with text.format json_schema.
# (TOOLS_STRICT is deprecated in favour of TOOLS.)
MODES = pytest.mark.parametrize(
    "mode",
    [
        instructor.Mode.TOOLS,
        instructor.Mode.JSON_SCHEMA,
        instructor.Mode.RESPONSES_TOOLS,
        # The schema only in a system message: with response_format json_object (JSON), or
        # asked for in a ```json code block (MD_JSON).
        instructor.Mode.JSON,
        instructor.Mode.MD_JSON,
    ],
    ids=lambda mode: mode.name,
)
QUESTION = [{"role": "user", "content": CITY_QUESTION}]


@pytest.fixture
def client(mock: RunningServer) -> Iterator[OpenAI]:
    with OpenAI(base_url=mock.base_url, api_key=API_KEY, max_retries=0) as opened:
        yield opened


def patched(client: OpenAI, mode: instructor.Mode) -> instructor.Instructor:
    return instructor.from_openai(client, mode=mode)


@MODES
def test_create(client: OpenAI, mode: instructor.Mode) -> None:
    # max_retries=0: a reply that does not validate fails here instead of being re-asked.
    city = patched(client, mode).chat.completions.create(
        model=MODEL, response_model=City, messages=QUESTION, max_retries=0
    )
    assert_city(city)


@MODES
def test_create_partial_stream(client: OpenAI, mode: instructor.Mode) -> None:
    partials = list(
        patched(client, mode).chat.completions.create_partial(
            model=MODEL, response_model=City, messages=QUESTION, max_retries=0
        )
    )
    assert len(partials) > 1, f"not streamed: {partials!r}"
    # The stream reassembles into a whole City (the partials' fields are optional until then).
    assert_city(partials[-1].model_dump())


@pytest.mark.parametrize(
    "mode", [instructor.Mode.TOOLS, instructor.Mode.JSON_SCHEMA], ids=lambda mode: mode.name
)
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_create_iterable(client: OpenAI, mode: instructor.Mode, stream: bool) -> None:
    # instructor wraps the model in {"tasks": [...]} with "tasks" optional: an answer that
    # left it out parsed to nothing, and failed.
    cities = list(
        patched(client, mode).chat.completions.create_iterable(
            model=MODEL,
            response_model=City,
            messages=[{"role": "user", "content": "Tell me about Berlin and Vienna"}],
            max_retries=0,
            stream=stream,
        )
    )
    assert cities
    for city in cities:
        assert_city(city)


def test_async_create(mock: RunningServer) -> None:
    async def scenario() -> City:
        async with AsyncOpenAI(base_url=mock.base_url, api_key=API_KEY, max_retries=0) as raw:
            client = instructor.from_openai(raw)
            city: City = await client.chat.completions.create(
                model=MODEL, response_model=City, messages=QUESTION, max_retries=0
            )
            return city

    assert_city(asyncio.run(scenario()))
