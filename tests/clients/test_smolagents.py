"""smolagents' ToolCallingAgent against `harness serve`: a tool loop told in text, that ends.

smolagents sends `tool_choice: "required"` every step with its own `final_answer` tool listed
last, and no `tool` role: the calls come back as assistant text ("Calling tools: [...]"), the
results as user messages that start with "Observation:". The mock called the first tool on
every step and the agent ran to its step limit.
"""

from __future__ import annotations

from typing import Any

import pytest
from smolagents import OpenAIServerModel, Tool, ToolCallingAgent

from tests.clients.expect import (
    HELLO,
    MODEL,
    TOOL_RESULT,
    WEATHER_CITY,
    WEATHER_QUESTION,
    assert_text,
    assert_used_tool_result,
)
from tests.fixtures.servers import API_KEY, RunningServer

MAX_STEPS = 5


class WeatherTool(Tool):
    name = "get_weather"
    description = "Get the current weather in a city."
    inputs = {"city": {"type": "string", "description": "City name"}}  # noqa: RUF012
    output_type = "string"

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def forward(self, city: str) -> str:
        self.calls.append(city)
        return TOOL_RESULT


def agent(mock: RunningServer, tool: Any, **options: Any) -> ToolCallingAgent:
    model = OpenAIServerModel(
        model_id=MODEL,
        api_base=mock.base_url,
        api_key=API_KEY,
        client_kwargs={"max_retries": 0, "timeout": 30},
    )
    return ToolCallingAgent(
        tools=[tool], model=model, max_steps=MAX_STEPS, verbosity_level=0, **options
    )


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_the_tool_loop_ends_with_the_answer(mock: RunningServer, stream: bool) -> None:
    weather = WeatherTool()
    runner = agent(mock, weather, stream_outputs=stream)
    answer = runner.run(WEATHER_QUESTION)
    assert weather.calls == [WEATHER_CITY]
    assert_used_tool_result(answer)
    # One step for the call, one for final_answer: not the step limit.
    assert len(runner.memory.steps) < MAX_STEPS


def test_a_question_without_a_tool_to_call_ends_at_once(mock: RunningServer) -> None:
    weather = WeatherTool()
    runner = agent(mock, weather)
    assert_text(runner.run(HELLO))
    assert len(runner.memory.steps) < MAX_STEPS
