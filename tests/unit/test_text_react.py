"""The classic text ReAct protocol: the prompt asks for Thought / Action / Action Input lines,
the framework runs the tool and sends its Observation back, the answer ends on Final Answer.

The bodies in ``text_react_prompts.json`` are the ones LangChain classic's
``create_react_agent`` (the ``hwchase17/react`` prompt), crewai's text path and llama-index's
``ReActAgent`` send, first step and the step after the tool's observation. The answers are
read back here the way each framework parses them.
"""

from __future__ import annotations

import json
import re
import time
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from mockserver.engine.chat import reply_request_from_chat
from mockserver.engine.reply import plan_reply, seeded_rng

PROMPTS = Path(__file__).with_name("text_react_prompts.json")
RESULT = "It is sunny and 22 degrees in Paris."
# LangChain classic's ReActSingleInputOutputParser reads a call with this (re.DOTALL).
_LANGCHAIN_ACTION = re.compile(
    r"Action\s*\d*\s*:[\s]*(.*?)[\s]*Action\s*\d*\s*Input\s*\d*\s*:[\s]*(.*)", re.DOTALL
)
_LANGCHAIN_FINAL = "Final Answer:"


@cache
def bodies() -> dict[str, dict[str, Any]]:
    loaded: dict[str, dict[str, Any]] = json.loads(PROMPTS.read_text(encoding="utf-8"))
    return loaded


def body(name: str) -> dict[str, Any]:
    return {"model": "gpt-4", **json.loads(json.dumps(bodies()[name]))}


def answer(request_body: dict[str, Any], key: bytes = b"k") -> str:
    return plan_reply(reply_request_from_chat(request_body), seeded_rng(key)).text


def langchain_action(text: str) -> tuple[str, str]:
    """The (tool, input) LangChain classic reads from a reply, as its parser does."""
    assert _LANGCHAIN_FINAL not in text, text
    match = _LANGCHAIN_ACTION.search(text)
    assert match is not None, f"no Action in {text!r}"
    return match.group(1).strip(), match.group(2).strip(" ").strip('"')


def json_action(text: str) -> tuple[str, Any]:
    """The (tool, arguments) crewai and llama-index read: the Action line, then the JSON
    object on the Action Input line."""
    assert "Answer:" not in text, text
    assert "```" not in text, f"a code block instead of an Action: {text!r}"
    match = re.search(r"^Action: (.+)\nAction Input: (.+)$", text, re.M)
    assert match is not None, f"no Action in {text!r}"
    return match.group(1).strip(), json.loads(match.group(2))


def final_answer(text: str, label: str = _LANGCHAIN_FINAL) -> str:
    assert "Action:" not in text, text
    assert text.startswith("Thought: "), text
    assert f"\n{label} " in text, text
    return text.split(f"\n{label} ", 1)[1]


def test_langchain_classic_first_step_calls_the_tool_with_the_city() -> None:
    text = answer(body("langchain_start"))
    assert text.startswith("Thought: ")
    assert langchain_action(text) == ("get_weather", "Paris")


def test_langchain_classic_after_the_observation_gives_the_final_answer() -> None:
    text = answer(body("langchain_observed"))
    assert RESULT in final_answer(text)


def test_the_action_comes_before_any_stop_sequence() -> None:
    request_body = body("langchain_start")
    assert request_body["stop"] == ["\nObservation"]
    reply = plan_reply(reply_request_from_chat(request_body), seeded_rng(b"k"))
    assert reply.finish_reason == "stop"
    assert langchain_action(reply.text)[1] == "Paris"


def test_crewai_first_step_is_an_action_with_a_json_object_not_an_instance_in_a_code_block() -> (
    None
):
    text = answer(body("crewai_start"))
    assert json_action(text) == ("get_weather", {"city": "Paris"})


def test_crewai_after_the_observation_gives_the_final_answer() -> None:
    text = answer(body("crewai_observed"))
    assert RESULT in final_answer(text)
    # The observation ends with its message; crewai's next user message is not part of it.
    assert "Analyze the tool result" not in text


def test_llamaindex_first_step_is_an_action_with_the_kwargs_as_json() -> None:
    text = answer(body("llamaindex_start"))
    assert json_action(text) == ("get_weather", {"city": "Paris"})


def test_llamaindex_after_the_observation_answers_with_its_own_label() -> None:
    # llama-index's format ends on "Answer:", not "Final Answer:".
    text = answer(body("llamaindex_observed"))
    assert "Final Answer" not in text
    assert RESULT in final_answer(text, "Answer:")


def test_the_answer_is_deterministic() -> None:
    for name in bodies():
        if not name.startswith("_"):
            assert answer(body(name)) == answer(body(name))


def _two_tools(question: str) -> dict[str, Any]:
    """The LangChain prompt with a second tool listed before get_weather."""
    request_body = body("langchain_start")
    message = request_body["messages"][0]
    message["content"] = (
        message["content"]
        .replace(
            "get_weather(city: str) -> str",
            "get_time(timezone: str) -> str - Get the time in a timezone.\n"
            "get_weather(city: str) -> str",
        )
        .replace("[get_weather]", "[get_time, get_weather]")
        .replace("What's the weather in Paris?", question)
    )
    return request_body


def test_the_tool_the_question_names_is_called() -> None:
    text = answer(_two_tools("What's the weather in Paris?"))
    assert langchain_action(text) == ("get_weather", "Paris")


def test_the_first_listed_tool_when_the_question_names_none() -> None:
    text = answer(_two_tools("Can you help me plan my afternoon?"))
    assert langchain_action(text)[0] == "get_time"


def test_a_second_named_tool_is_called_after_the_first_observation() -> None:
    request_body = _two_tools("What's the weather in Paris and the time there?")
    request_body["messages"][0]["content"] += (
        " I should check the weather.\nAction: get_weather\nAction Input: Paris\n"
        f"Observation: {RESULT}\nThought: "
    )
    assert langchain_action(answer(request_body))[0] == "get_time"


def test_a_prompt_without_the_whole_format_gets_the_usual_answer() -> None:
    plain = {"model": "gpt-4", "messages": [{"role": "user", "content": "What's the weather?"}]}
    usual = answer(plain)
    # Action lines but no Observation line nor final-answer line: not the protocol.
    partial = {
        "model": "gpt-4",
        "messages": [
            {"role": "system", "content": "Thought: x\nAction: one of [get_weather]\n"
             "Action Input: the input"},
            {"role": "user", "content": "What's the weather?"},
        ],
    }  # fmt: skip
    for request_body in (plain, partial):
        text = answer(request_body)
        assert "Action:" not in text and "Final Answer" not in text
    assert answer(plain) == usual


def test_an_unreadable_tool_list_falls_back_to_the_usual_answer() -> None:
    request_body = body("langchain_start")
    message = request_body["messages"][0]
    message["content"] = message["content"].replace("one of [get_weather]", "one of the tools")
    text = answer(request_body)
    assert "Action:" not in text


def test_an_unreadable_argument_schema_gives_an_empty_object() -> None:
    request_body = body("crewai_start")
    system = request_body["messages"][0]
    start = system["content"].index("Tool Arguments: ") + len("Tool Arguments: ")
    end = system["content"].index("\nTool Description:")
    # crewai 0.x wrote a Python repr here; not JSON, so no schema to fill.
    system["content"] = (
        system["content"][:start] + "{'city': {'type': 'str'}}" + system["content"][end:]
    )
    assert json_action(answer(request_body)) == ("get_weather", {})


def test_reading_is_bounded_whatever_the_prompt_holds() -> None:
    request_body = body("crewai_start")
    system = request_body["messages"][0]
    names = ", ".join(f"tool_{index}" for index in range(20_000))
    system["content"] = (
        system["content"].replace("[get_weather]", f"[{names}, get_weather]")
        + ("\nTool Name: get_weather\nTool Arguments: " + "[" * 50_000)
        + "\nObservation: " * 50_000
    )
    request_body["messages"].append(
        {"role": "assistant", "content": "Action: x\n" * 100_000 + "Observation: " * 100_000}
    )
    started = time.perf_counter()
    text = answer(request_body)
    assert time.perf_counter() - started < 2.0
    assert text  # an answer, never an exception


WEATHER_SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "temperature_c": {"type": "integer"},
        "summary": {"type": "string"},
    },
    "required": ["city", "temperature_c", "summary"],
    "additionalProperties": False,
}


def test_a_schema_for_the_final_answer_does_not_replace_the_action() -> None:
    text = answer(body("crewai_pydantic_start"))
    assert json_action(text) == ("get_weather", {"city": "Paris"})


def test_the_final_answer_is_an_instance_of_the_schema_the_task_asks_for() -> None:
    # crewai's output_pydantic: "Format your final answer according to the following OpenAPI
    # schema: {...}" in the task, and no code block markers.
    text = final_answer(answer(body("crewai_pydantic_observed")))
    assert "```" not in text
    value = json.loads(text)
    jsonschema.validate(value, WEATHER_SCHEMA)
    assert value["city"] == "Paris"


def test_a_tools_argument_schema_is_not_taken_for_the_answers() -> None:
    for name in ("crewai_observed", "llamaindex_observed"):
        label = "Answer:" if name.startswith("llama") else _LANGCHAIN_FINAL
        text = final_answer(answer(body(name)), label)
        assert not text.startswith("{"), text
