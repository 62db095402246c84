"""LangChain classic's text ReAct agent against `harness serve`.

``create_react_agent`` with the ``hwchase17/react`` prompt sends no ``tools``: it lists them in
the prompt, asks for ``Action:`` / ``Action Input:`` lines (``stop: ["\\nObservation"]``),
runs the tool itself and sends its ``Observation:`` back in the prompt. The mock follows the
format, so the agent calls the tool once and ends on a ``Final Answer`` that uses its result.
"""

from __future__ import annotations

from typing import Any

from langchain_classic.agents import AgentExecutor, create_react_agent
from langchain_core.prompts import PromptTemplate
from langchain_core.tools import StructuredTool

from tests.clients.conftest import admin
from tests.clients.expect import (
    TOOL_RESULT,
    WEATHER_CITY,
    WEATHER_QUESTION,
    assert_used_tool_result,
    recorded_weather,
)
from tests.clients.langchain_models import chat_model
from tests.fixtures.servers import RunningServer

# The hwchase17/react prompt, as create_react_agent's docstring writes it (a hub pull would
# reach the network).
REACT_TEMPLATE = """Answer the following questions as best you can. You have access to the following tools:

{tools}

Use the following format:

Question: the input question you must answer
Thought: you should always think about what to do
Action: the action to take, should be one of [{tool_names}]
Action Input: the input to the action
Observation: the result of the action
... (this Thought/Action/Action Input/Observation can repeat N times)
Thought: I now know the final answer
Final Answer: the final answer to the original input question

Begin!

Question: {input}
Thought:{agent_scratchpad}"""  # noqa: E501


def sent(mock: RunningServer) -> list[dict[str, Any]]:
    journal = admin(mock, "GET", "/_mock/requests")
    return [
        entry["body"] for entry in journal["data"] if entry.get("path") == "/v1/chat/completions"
    ]


def test_react_agent_calls_the_tool_once_then_gives_the_final_answer(mock: RunningServer) -> None:
    calls: list[str] = []
    weather = StructuredTool.from_function(recorded_weather(calls))
    prompt = PromptTemplate.from_template(REACT_TEMPLATE)
    agent = create_react_agent(chat_model(mock), [weather], prompt)
    # No handle_parsing_errors: a reply out of the format fails here, not in a retry loop.
    executor = AgentExecutor(
        agent=agent, tools=[weather], max_iterations=4, return_intermediate_steps=True
    )

    result = executor.invoke({"input": WEATHER_QUESTION})

    assert calls == [WEATHER_CITY]
    steps = result["intermediate_steps"]
    assert [(action.tool, action.tool_input, observation) for action, observation in steps] == [
        ("get_weather", WEATHER_CITY, TOOL_RESULT)
    ]
    assert_used_tool_result(result["output"])
    bodies = sent(mock)
    assert len(bodies) == 2, "one step to call the tool, one to answer"
    # The agent streams its steps and cuts them at the observation, as LangChain documents.
    assert all(body.get("stop") == ["\nObservation"] and body.get("stream") for body in bodies)
