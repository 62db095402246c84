"""DSPy's modules against `harness serve`, through litellm as an `openai/` provider.

DSPy asks for its output fields in the prompt: the ChatAdapter as ``[[ ## field ## ]]``
sections, the JSONAdapter as a JSON object (``response_format: json_object`` for gpt-4). The
mock answers each field with a value of its type, so a module completes in one request, and
a ReAct loop calls the tool the question asks for, then finishes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import dspy
import pytest

from tests.clients.conftest import admin
from tests.clients.expect import (
    MODEL,
    STRUCTURED_MODEL,
    TOOL_RESULT,
    WEATHER_CITY,
    WEATHER_QUESTION,
    assert_text,
    recorded_weather,
)
from tests.fixtures.servers import API_KEY, RunningServer

# No cache, in memory or on disk: every call reaches the mock (LM(cache=False) is per LM).
dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)

pytestmark = [
    # Warnings litellm raises from its own internals whatever the server says (as in
    # test_litellm.py): pydantic on litellm's TypedDicts at first use.
    pytest.mark.filterwarnings("ignore:.*using the `ReadOnly` qualifier:UserWarning"),
    pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning"),
]


@pytest.fixture(autouse=True)
def main_thread_loop() -> Iterator[None]:
    """The loop litellm takes from asyncio.get_event_loop() under DSPy's calls, closed after.

    Left to itself litellm leaves one open on the main thread, and pytest reports the leaked
    loop and its sockets in whatever test runs next (as test_litellm.py says of responses()).
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()


class Answered(dspy.Signature):
    """Answer the question."""

    question: str = dspy.InputField()
    answer: str = dspy.OutputField()
    confidence: float = dspy.OutputField()


@pytest.fixture
def lm(mock: RunningServer) -> Iterator[dspy.LM]:
    # num_retries=0: a reply DSPy cannot parse fails here instead of being asked again.
    model = dspy.LM(
        f"openai/{MODEL}", api_base=mock.base_url, api_key=API_KEY, cache=False, num_retries=0
    )
    with dspy.context(lm=model, adapter=dspy.ChatAdapter()):
        yield model


def sent(mock: RunningServer) -> list[dict[str, Any]]:
    """The bodies of the chat requests the client sent, in order."""
    journal = admin(mock, "GET", "/_mock/requests")
    return [
        entry["body"] for entry in journal["data"] if entry.get("path") == "/v1/chat/completions"
    ]


def assert_one_chat_adapter_call(mock: RunningServer) -> None:
    """The ChatAdapter's answer parsed: DSPy did not fall back to its JSONAdapter."""
    bodies = sent(mock)
    assert len(bodies) == 1, f"{len(bodies)} requests: DSPy asked again"
    assert "response_format" not in bodies[0]


@pytest.mark.usefixtures("lm")
def test_predict_with_a_typed_signature(mock: RunningServer) -> None:
    prediction = dspy.Predict(Answered)(question="What is the capital of France?")
    assert_text(prediction.answer)
    assert isinstance(prediction.confidence, float)
    assert_one_chat_adapter_call(mock)


@pytest.mark.usefixtures("lm")
def test_predict_with_a_string_signature_and_several_types(mock: RunningServer) -> None:
    predict = dspy.Predict("question -> answer, count: int, ok: bool, tags: list[str]")
    prediction = predict(question="How many people live in Paris?")
    assert_text(prediction.answer)
    assert isinstance(prediction.count, int) and isinstance(prediction.ok, bool)
    assert all(isinstance(tag, str) for tag in prediction.tags)
    assert_one_chat_adapter_call(mock)


@pytest.mark.usefixtures("lm")
def test_chain_of_thought(mock: RunningServer) -> None:
    prediction = dspy.ChainOfThought(Answered)(question="What is the capital of France?")
    assert_text(prediction.reasoning)
    assert_text(prediction.answer)
    assert isinstance(prediction.confidence, float)
    assert_one_chat_adapter_call(mock)


@pytest.mark.usefixtures("lm")
def test_react_calls_the_tool_then_finishes(mock: RunningServer) -> None:
    calls: list[str] = []
    agent = dspy.ReAct("question -> answer", tools=[recorded_weather(calls)], max_iters=4)
    prediction = agent(question=WEATHER_QUESTION)
    assert calls == [WEATHER_CITY]
    trajectory = prediction.trajectory
    assert trajectory["tool_name_0"] == "get_weather"
    assert trajectory["tool_name_1"] == "finish"
    assert TOOL_RESULT in assert_text(prediction.answer).lower()
    # Two steps and the answer extracted from the trajectory: three requests, no retry.
    assert len(sent(mock)) == 3


@pytest.fixture
def json_lm(mock: RunningServer) -> Iterator[dspy.LM]:
    """The JSONAdapter on gpt-4o: litellm refuses `response_format` for gpt-4 itself."""
    model = dspy.LM(
        f"openai/{STRUCTURED_MODEL}",
        api_base=mock.base_url,
        api_key=API_KEY,
        cache=False,
        num_retries=0,
    )
    with dspy.context(lm=model, adapter=dspy.JSONAdapter()):
        yield model


class Described(dspy.Signature):
    """Describe the city the question names."""

    question: str = dspy.InputField()
    answer: str = dspy.OutputField()
    confidence: float = dspy.OutputField()
    # An open-ended mapping: no json_schema can say it, so DSPy sends json_object.
    facts: dict[str, str] = dspy.OutputField()


@pytest.mark.usefixtures("json_lm")
def test_json_adapter_in_json_mode(mock: RunningServer) -> None:
    prediction = dspy.Predict(Described)(question="What is the capital of France?")
    assert_text(prediction.answer)
    assert isinstance(prediction.confidence, float) and isinstance(prediction.facts, dict)
    bodies = sent(mock)
    assert len(bodies) == 1, f"{len(bodies)} requests: DSPy asked again"
    assert bodies[0]["response_format"] == {"type": "json_object"}


@pytest.mark.usefixtures("json_lm")
def test_react_with_the_json_adapter(mock: RunningServer) -> None:
    calls: list[str] = []
    agent = dspy.ReAct("question -> answer", tools=[recorded_weather(calls)], max_iters=4)
    prediction = agent(question=WEATHER_QUESTION)
    assert calls == [WEATHER_CITY]
    assert prediction.trajectory["tool_name_1"] == "finish"
    assert_text(prediction.answer)
    assert len(sent(mock)) == 3


def test_predict_over_the_responses_api(mock: RunningServer) -> None:
    model = dspy.LM(
        f"openai/{MODEL}",
        api_base=mock.base_url,
        api_key=API_KEY,
        cache=False,
        num_retries=0,
        model_type="responses",
    )
    with dspy.context(lm=model, adapter=dspy.ChatAdapter()):
        prediction = dspy.Predict(Answered)(question="What is the capital of France?")
    assert_text(prediction.answer)
    assert isinstance(prediction.confidence, float)
