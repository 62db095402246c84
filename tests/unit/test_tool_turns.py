"""The turn after tool results, as agent frameworks run it: a loop that must end.

pydantic-ai (`output_type` with tools) and LangChain's `create_agent(response_format=...)`
send `tool_choice: "required"` with their output tool listed beside the user's tools, and
end when it is called: the mock called the first tool again after its result, forever
(pydantic-ai stopped at its 50-request limit). openai-agents hands off with a tool call, and
the next agent's history ends with that call's output: "auto" then answered with text, never
calling the tool the user asked for; so did a `parallel_tool_calls: false` turn after the first
of two tools the user named.
"""

from __future__ import annotations

import json
import random
from typing import Any

from mockserver.engine.chat import plan_chat
from mockserver.engine.responses import plan_response
from mockserver.engine.text import compose_reply

WEATHER = "What is the weather in Paris?"


def tool(name: str, **properties: Any) -> dict[str, Any]:
    parameters = {"type": "object", "properties": properties, "required": list(properties)}
    return {"type": "function", "function": {"name": name, "parameters": parameters}}


GET_WEATHER = tool("get_weather", city={"type": "string"})
GET_TIME = tool("get_time", city={"type": "string"})
FINAL_RESULT = tool("final_result", summary={"type": "string"})
TRANSFER = tool("transfer_to_weather_agent")


def after_calls(user: str, *names: str) -> list[dict[str, Any]]:
    """The user's message, the assistant's calls (one message each), and their results."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": user}]
    for number, name in enumerate(names):
        call = {
            "id": f"call_{number}",
            "type": "function",
            "function": {"name": name, "arguments": "{}"},
        }
        messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        messages.append(
            {"role": "tool", "tool_call_id": f"call_{number}", "content": "18 C, sunny"}
        )
    return messages


def called(body: dict[str, Any]) -> list[str]:
    (choice,) = plan_chat({"model": "gpt-4", **body}).choices
    return [call.name for call in choice.tool_calls]


def test_required_after_a_result_calls_a_tool_not_called_yet() -> None:
    body = {"tools": [GET_WEATHER, FINAL_RESULT], "tool_choice": "required"}
    assert called({**body, "messages": after_calls(WEATHER)}) == ["get_weather"]
    assert called({**body, "messages": after_calls(WEATHER, "get_weather")}) == ["final_result"]


def test_required_when_every_tool_was_called_calls_the_last_listed() -> None:
    body = {"tools": [GET_WEATHER, FINAL_RESULT], "tool_choice": "required"}
    messages = after_calls(WEATHER, "get_weather", "final_result")
    assert called({**body, "messages": messages}) == ["final_result"]


def test_auto_after_a_handoff_calls_the_tool_the_user_asked_for() -> None:
    body = {"tools": [GET_WEATHER], "messages": after_calls(WEATHER, "transfer_to_weather_agent")}
    assert called(body) == ["get_weather"]
    # ...and once it answered, the turn is text.
    done = after_calls(WEATHER, "transfer_to_weather_agent", "get_weather")
    assert called({"tools": [GET_WEATHER], "messages": done}) == []


def test_one_call_a_turn_calls_each_named_tool_in_turn() -> None:
    user = "What are the weather and the time in Tokyo?"
    body = {"tools": [GET_WEATHER, GET_TIME], "parallel_tool_calls": False}
    assert called({**body, "messages": after_calls(user)}) == ["get_weather"]
    assert called({**body, "messages": after_calls(user, "get_weather")}) == ["get_time"]
    assert called({**body, "messages": after_calls(user, "get_weather", "get_time")}) == []


def test_a_new_user_message_starts_the_count_again() -> None:
    earlier = after_calls(WEATHER, "get_weather")
    messages = [*earlier, {"role": "assistant", "content": "18 C."}, *after_calls(WEATHER)]
    body = {"tools": [GET_WEATHER, FINAL_RESULT], "tool_choice": "required"}
    assert called({**body, "messages": messages}) == ["get_weather"]


def test_the_answer_after_parallel_calls_uses_every_result() -> None:
    # It used the last result only ("The result is 10:42."), the weather dropped.
    user = "What are the weather and the time in Tokyo?"
    calls = [
        {"id": f"call_{n}", "type": "function", "function": {"name": name, "arguments": "{}"}}
        for n, name in enumerate(["get_weather", "get_time"])
    ]
    messages = [
        {"role": "user", "content": user},
        {"role": "assistant", "content": None, "tool_calls": calls},
        {"role": "tool", "tool_call_id": "call_0", "content": "18 C, sunny"},
        {"role": "tool", "tool_call_id": "call_1", "content": "10:42"},
    ]
    (choice,) = plan_chat(
        {"model": "gpt-4", "tools": [GET_WEATHER, GET_TIME], "messages": messages}
    ).choices
    assert choice.text is not None
    assert "18 C, sunny" in choice.text and "10:42" in choice.text


def test_structured_output_takes_the_values_the_user_wrote() -> None:
    # Tool arguments did; a json_schema answer invented its values (a Paris question got
    # city 'Tokyo' from openai-agents' output_type, 'Sydney' from LangChain's).
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "summary": {"type": "string"}},
        "required": ["city", "summary"],
        "additionalProperties": False,
    }
    response_format = {"type": "json_schema", "json_schema": {"name": "Report", "schema": schema}}
    messages = [{"role": "user", "content": WEATHER}]
    (choice,) = plan_chat(
        {"model": "gpt-4", "messages": messages, "response_format": response_format}
    ).choices
    assert choice.text is not None
    assert json.loads(choice.text)["city"] == "Paris"


def react_turn(observation: str) -> list[dict[str, Any]]:
    """smolagents' ToolCallingAgent history: the call told in text, its result a user
    message that starts with "Observation:" (the ReAct convention); no tool role at all."""
    call = (
        "{'id': 'call_1', 'type': 'function', "
        "'function': {'name': 'get_weather', 'arguments': {'city': 'Paris'}}}"
    )
    return [
        {
            "role": "system",
            "content": "You are an expert assistant who can solve any task using tool calls.",
        },
        {"role": "user", "content": [{"type": "text", "text": f"New task:\n{WEATHER}"}]},
        {"role": "assistant", "content": [{"type": "text", "text": f"Calling tools:\n[{call}]"}]},
        {"role": "user", "content": [{"type": "text", "text": f"Observation:\n{observation}"}]},
    ]


FINAL_ANSWER = tool("final_answer", answer={"type": "string"})


def test_an_observation_is_the_result_of_the_call_told_before_it() -> None:
    # smolagents sends tool_choice "required" with its final_answer tool last: the mock
    # called get_weather on every step, and the agent ran to max_steps.
    body = {"tools": [GET_WEATHER, FINAL_ANSWER], "tool_choice": "required"}
    for observation in ["Sunny, 22C in Paris", "The weather in Paris is sunny."]:
        assert called({**body, "messages": react_turn(observation)}) == ["final_answer"]


def test_auto_after_an_observation_answers_with_its_result() -> None:
    body = {"tools": [GET_WEATHER, FINAL_ANSWER], "messages": react_turn("Sunny, 22C in Paris")}
    (choice,) = plan_chat({"model": "gpt-4", **body}).choices
    assert not choice.tool_calls
    assert "Sunny, 22C in Paris" in (choice.text or "")


def test_a_user_message_that_only_mentions_an_observation_is_a_request() -> None:
    messages = [{"role": "user", "content": "My observation: what is the weather in Paris?"}]
    body = {"tools": [GET_WEATHER, FINAL_ANSWER], "tool_choice": "required"}
    assert called({**body, "messages": messages}) == ["get_weather"]


def test_the_answer_tool_after_a_result_answers_with_it() -> None:
    # smolagents' final_answer(answer) after the observation got "This is a sample value.";
    # a model passes the answer it would have written.
    body = {
        "tools": [GET_WEATHER, FINAL_ANSWER],
        "tool_choice": "required",
        "messages": react_turn("Sunny, 22C in Paris"),
    }
    (choice,) = plan_chat({"model": "gpt-4", **body}).choices
    (call,) = choice.tool_calls
    assert call.name == "final_answer"
    assert "Sunny, 22C in Paris" in json.loads(call.arguments)["answer"]
    # The same after a tool message, and only for an argument that is the answer.
    after = {"tools": [GET_WEATHER, FINAL_RESULT], "tool_choice": "required"}
    (choice,) = plan_chat(
        {"model": "gpt-4", **after, "messages": after_calls(WEATHER, "get_weather")}
    ).choices
    assert "18 C, sunny" in json.loads(choice.tool_calls[0].arguments)["summary"]
    (first,) = plan_chat({"model": "gpt-4", **after, "messages": after_calls(WEATHER)}).choices
    assert "18 C" not in first.tool_calls[0].arguments


def test_a_result_that_ends_a_sentence_is_not_given_a_second_full_stop() -> None:
    # "...sunny and 22 degrees in Paris.." and "...cut...." after a long result.
    for result in ["Sunny and 22 degrees in Paris.", "Is it sunny?", "x" * 500, "Done!"]:
        for seed in range(8):
            reply = compose_reply(random.Random(seed), WEATHER, result)
            assert ".." not in reply.replace("...", "") and "...." not in reply, reply
            assert "?." not in reply and "!." not in reply, reply


def test_required_holds_back_the_output_tool_listed_last_until_the_results() -> None:
    # LangChain's create_agent(response_format=Weather) on gpt-4 sends tools [get_weather,
    # Weather] with "required": both fit "weather", and calling both at once ended the agent
    # with an invented answer before the tool's result existed.
    weather_output = tool("Weather", summary={"type": "string"})
    body = {"tools": [GET_WEATHER, weather_output], "tool_choice": "required"}
    assert called({**body, "messages": after_calls(WEATHER)}) == ["get_weather"]
    assert called({**body, "messages": after_calls(WEATHER, "get_weather")}) == ["Weather"]
    # "auto" still calls every tool the user names, in parallel.
    both = {"tools": [GET_WEATHER, GET_TIME], "messages": after_calls("Weather and time in Oslo?")}
    assert called(both) == ["get_weather", "get_time"]


def test_an_agent_answer_before_a_hand_back_is_the_answer_passed_on() -> None:
    # langgraph-supervisor: the supervisor hands off, the expert answers and hands back; the
    # supervisor's reply summarised "Successfully transferred back to supervisor".
    call = {
        "type": "function",
        "function": {"name": "transfer_to_weather_expert", "arguments": "{}"},
    }
    back = {
        "type": "function",
        "function": {"name": "transfer_back_to_supervisor", "arguments": "{}"},
    }
    messages = [
        {"role": "system", "content": "You manage a weather expert and a math expert."},
        {"role": "user", "content": WEATHER},
        {
            "role": "assistant",
            "name": "supervisor",
            "content": None,
            "tool_calls": [{"id": "c1", **call}],
        },
        {
            "role": "tool",
            "tool_call_id": "c1",
            "content": "Successfully transferred to weather_expert",
        },
        {
            "role": "assistant",
            "name": "weather_expert",
            "content": "It is sunny and 22 degrees in Paris.",
        },
        {
            "role": "assistant",
            "name": "weather_expert",
            "content": "Transferring back",
            "tool_calls": [{"id": "c2", **back}],
        },
        {
            "role": "tool",
            "tool_call_id": "c2",
            "content": "Successfully transferred back to supervisor",
        },
    ]
    tools = [tool("transfer_to_weather_expert"), tool("transfer_to_math_expert")]
    (choice,) = plan_chat({"model": "gpt-4", "tools": tools, "messages": messages}).choices
    assert not choice.tool_calls
    assert "sunny and 22 degrees" in (choice.text or "")
    assert "transferred back" not in (choice.text or "")


def test_words_before_the_first_call_are_not_an_answer() -> None:
    # "Let me check." before the call is not what the result says.
    messages = [
        {"role": "user", "content": WEATHER},
        {"role": "assistant", "content": "Let me check that for you."},
        *after_calls(WEATHER, "get_weather")[1:],
    ]
    (choice,) = plan_chat({"model": "gpt-4", "tools": [GET_WEATHER], "messages": messages}).choices
    assert "18 C, sunny" in (choice.text or "")


def test_a_responses_call_after_a_result_is_not_taken_for_an_answer() -> None:
    # Two rounds of calls on the Responses API: the second function_call item follows the
    # first result; the answer uses the results, not the call's arguments.
    items = [
        {"role": "user", "content": "What are the weather and the time in Tokyo?"},
        {
            "type": "function_call",
            "call_id": "a",
            "name": "get_weather",
            "arguments": '{"city": "Tokyo"}',
        },
        {"type": "function_call_output", "call_id": "a", "output": "18 C, sunny"},
        {
            "type": "function_call",
            "call_id": "b",
            "name": "get_time",
            "arguments": '{"city": "Tokyo"}',
        },
        {"type": "function_call_output", "call_id": "b", "output": "10:42"},
    ]
    flat = [{"type": "function", **t["function"]} for t in (GET_WEATHER, GET_TIME)]
    plan = plan_response({"model": "gpt-4", "input": items, "tools": flat})
    assert "10:42" in plan.output_text and '"city"' not in plan.output_text


def test_structured_output_after_a_result_answers_with_it() -> None:
    # The Agents SDK's outputType, Mastra's structuredOutput, LangGraph's responseFormat ask
    # for the answer as JSON after the tool ran: `summary` said "This is a sample value."
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "summary": {"type": "string"}},
        "required": ["city", "summary"],
    }
    format_ = {"type": "json_schema", "json_schema": {"name": "weather", "schema": schema}}
    messages = after_calls(WEATHER, "get_weather")
    body = {"model": "gpt-4", "messages": messages, "response_format": format_}
    (choice,) = plan_chat(body).choices
    answer = json.loads(choice.text or "")
    assert answer["city"] == "Paris"
    assert "18 C, sunny" in answer["summary"]
