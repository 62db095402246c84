"""The Vercel AI SDK (`ai` with `@ai-sdk/openai`) against `harness serve`: node/ai_sdk.mjs runs
one case on one API, this file checks what it observed with the same expectations as the
other clients.

Each case runs on both of the provider's models: `openai(model)` (the Responses API, the
provider's default) and `openai.chat(model)` (Chat Completions). The packages are pinned in
node/package.json and installed as for the Node `openai` package (tests/clients/node_project.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.clients.conftest import admin
from tests.clients.expect import (
    WEATHER_CITY,
    assert_city,
    assert_text,
    assert_used_tool_result,
    assert_weather_call,
)
from tests.clients.node_project import install_node_project, run_node_case
from tests.fixtures.servers import RunningServer

# The provider's two models: `openai(model)` and `openai.chat(model)` (node/ai_sdk.mjs).
APIS = ("responses", "chat")


@pytest.fixture(scope="module")
def node_project() -> Path:
    return install_node_project()


def run_case(project: Path, mock: RunningServer, api: str, case: str) -> dict[str, Any]:
    return run_node_case(project, mock, "ai_sdk.mjs", api, case)


def assert_usage(usage: dict[str, Any]) -> None:
    """The SDK's usage: prompt and completion tokens counted, and their sum as the total."""
    assert usage["inputTokens"] > 0, usage
    assert usage["outputTokens"] > 0, usage
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"], usage


def assert_tool_loop(observed: dict[str, Any]) -> str:
    """get_weather called for the user's city, then an answer in text that uses its result."""
    assert observed["calls"], f"get_weather never ran: {observed}"
    assert observed["calls"] == [WEATHER_CITY] * len(observed["calls"]), observed["calls"]
    for call in observed["tool_calls"]:
        assert_weather_call(call["name"], call["arguments"])
    # The loop ended on its own with an answer, not at the stopWhen limit on a tool call.
    assert observed["finish_reason"] == "stop", observed
    return assert_used_tool_result(observed["text"])


def journaled_responses_inputs(mock: RunningServer) -> list[dict[str, Any]]:
    """The journal's /v1/responses requests whose `input` is a list of items."""
    journal = admin(mock, "GET", "/_mock/requests?path=/v1/responses")
    return [entry for entry in journal["data"] if isinstance(entry["body"].get("input"), list)]


def item_types(entry: dict[str, Any]) -> list[str]:
    return [item.get("type", "message") for item in entry["body"]["input"]]


@pytest.mark.parametrize("api", APIS)
def test_generate_text(node_project: Path, mock: RunningServer, api: str) -> None:
    observed = run_case(node_project, mock, api, "generate_text")
    assert_text(observed["text"])
    assert observed["finish_reason"] == "stop"
    assert_usage(observed["usage"])


@pytest.mark.parametrize("api", APIS)
def test_stream_text(node_project: Path, mock: RunningServer, api: str) -> None:
    observed = run_case(node_project, mock, api, "stream_text")
    # textStream joins to the stream's own text and to generateText's answer to the same prompt.
    assert assert_text(observed["streamed"]) == observed["text"] == observed["generated"]
    assert observed["finish_reason"] == "stop"
    assert_usage(observed["usage"])


@pytest.mark.parametrize("api", APIS)
def test_tool_loop(node_project: Path, mock: RunningServer, api: str) -> None:
    assert_tool_loop(run_case(node_project, mock, api, "tool_loop"))


@pytest.mark.parametrize("api", APIS)
def test_tool_result_as_content_parts(node_project: Path, mock: RunningServer, api: str) -> None:
    """A tool whose toModelOutput gives content parts; on Responses the SDK sends
    function_call_output.output as an array of input_text items, which the live API takes."""
    assert_tool_loop(run_case(node_project, mock, api, "tool_content_output"))
    if api == "responses":
        outputs = [
            item["output"]
            for entry in journaled_responses_inputs(mock)
            for item in entry["body"]["input"]
            if item.get("type") == "function_call_output"
        ]
        assert outputs, "no function_call_output was sent"
        assert all(isinstance(output, list) for output in outputs), outputs


@pytest.mark.parametrize("api", APIS)
def test_generate_object(node_project: Path, mock: RunningServer, api: str) -> None:
    observed = run_case(node_project, mock, api, "generate_object")
    assert_city(observed["object"])
    assert observed["finish_reason"] == "stop"


@pytest.mark.parametrize("api", APIS)
def test_multi_turn_with_response_messages(
    node_project: Path, mock: RunningServer, api: str
) -> None:
    """`result.response.messages` pushed back into `messages`, then a second turn. On Responses
    with store on, the SDK sends the earlier assistant output as an `item_reference`: the model
    reads the stored item, so the turn costs the prompt tokens of the same turn sent inline."""
    observed = run_case(node_project, mock, api, "multi_turn")
    assert_text(observed["first"])
    assert_text(observed["second"])
    assert_text(observed["inline"])
    if api == "responses":
        entries = journaled_responses_inputs(mock)
        referenced = [entry for entry in entries if "item_reference" in item_types(entry)]
        inline = [
            entry
            for entry in entries
            if item_types(entry) == ["message", "message", "message"]
            and entry["body"]["input"][1].get("role") == "assistant"
        ]
        assert len(referenced) == 1, f"the SDK sent no single item_reference: {entries}"
        assert len(inline) == 1, f"no inline turn in {entries}"
        assert referenced[0]["status"] == inline[0]["status"] == 200
        tokens = [entry["response_body"]["usage"]["input_tokens"] for entry in referenced + inline]
        assert tokens[0] == tokens[1], (
            f"input_tokens with the item_reference {tokens[0]}, with the same item inline "
            f"{tokens[1]}: the referenced item was not read"
        )
    assert observed["second_input_tokens"] == observed["inline_input_tokens"], observed
