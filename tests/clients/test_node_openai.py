"""The Node `openai` package against `harness serve`: node/matrix.mjs runs one case, this
file checks what it observed with the same expectations as the Python clients.

The package is pinned by node/package-lock.json and installed with `npm ci` when a pinned
package of node/ is missing or at another version (tests/clients/node_project.py). Where
`node` or `npm` is not installed the tests skip, saying so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.clients.expect import assert_city, assert_text, assert_weather_call
from tests.clients.node_project import install_node_project, run_node_case
from tests.fixtures.servers import RunningServer


@pytest.fixture(scope="module")
def node_project() -> Path:
    return install_node_project()


def run_case(project: Path, mock: RunningServer, case: str) -> dict[str, Any]:
    return run_node_case(project, mock, "matrix.mjs", case)


def test_chat(node_project: Path, mock: RunningServer) -> None:
    assert_text(run_case(node_project, mock, "chat")["content"])


def test_chat_stream(node_project: Path, mock: RunningServer) -> None:
    observed = run_case(node_project, mock, "chat_stream")
    assert assert_text(observed["streamed"]) == observed["content"]


def test_chat_tools(node_project: Path, mock: RunningServer) -> None:
    calls = run_case(node_project, mock, "chat_tools")["calls"]
    assert calls
    for call in calls:
        assert_weather_call(call["name"], call["arguments"])


def test_chat_structured_output(node_project: Path, mock: RunningServer) -> None:
    assert_city(run_case(node_project, mock, "chat_structured")["parsed"])


def test_responses_create(node_project: Path, mock: RunningServer) -> None:
    observed = run_case(node_project, mock, "responses_create")
    assert observed["status"] == "completed"
    assert_text(observed["output_text"])


def test_responses_stream(node_project: Path, mock: RunningServer) -> None:
    observed = run_case(node_project, mock, "responses_stream")
    assert observed["status"] == "completed"
    assert assert_text(observed["streamed"]) == observed["output_text"]


def test_responses_tools(node_project: Path, mock: RunningServer) -> None:
    calls = run_case(node_project, mock, "responses_tools")["calls"]
    assert calls
    for call in calls:
        assert_weather_call(call["name"], call["arguments"])


def test_responses_structured_output(node_project: Path, mock: RunningServer) -> None:
    assert_city(run_case(node_project, mock, "responses_structured")["parsed"])
