"""The Node `openai` package against `harness serve`: node/matrix.mjs runs one case, this
file checks what it observed with the same expectations as the Python clients.

The package is pinned by node/package-lock.json and installed with `npm ci` when
node/node_modules is missing. Where `node` or `npm` is not installed the tests skip, saying so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.clients.conftest import OFFLINE_ENV
from tests.clients.expect import assert_city, assert_text, assert_weather_call
from tests.fixtures.servers import RunningServer

NODE_PROJECT = Path(__file__).parent / "node"
CASE_TIMEOUT_S = 60
INSTALL_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def node_project() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(name for name, path in (("node", node), ("npm", npm)) if not path)
        pytest.skip(f"the Node client matrix needs Node.js 20+ with npm; {missing} not on PATH")
    if not (NODE_PROJECT / "node_modules" / "openai").is_dir():
        # npm must reach its registry: drop the proxy guard the matrix sets for the clients.
        env = {k: v for k, v in os.environ.items() if k.upper() not in OFFLINE_ENV}
        install = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=NODE_PROJECT,
            env=env,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
        )
        assert install.returncode == 0, f"npm ci failed:\n{install.stdout}\n{install.stderr}"
    return NODE_PROJECT


def run_case(project: Path, mock: RunningServer, case: str) -> dict[str, Any]:
    done = subprocess.run(
        ["node", "matrix.mjs", case],
        cwd=project,
        env={**os.environ, "OPENAI_BASE_URL": mock.base_url},
        capture_output=True,
        text=True,
        timeout=CASE_TIMEOUT_S,
    )
    assert done.returncode == 0, f"node matrix.mjs {case} failed:\n{done.stderr}"
    observed: dict[str, Any] = json.loads(done.stdout)
    return observed


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
