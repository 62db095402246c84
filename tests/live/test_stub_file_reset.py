"""A reset leaves the mock as a fresh one started the same way: with its `--stubs` file's
stubs (`MockConfig(stubs_file=...)` in the pytest plugin), each at its first use again.
(A reset removed them: the plugin resets before every test, so a stubs file did nothing.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from harness.testing import LiveServer
from mockserver import MockConfig
from tests.fixtures.servers import RunningServer, start_server

STUBS = """
- match: {last_user_message: "^ping$"}
  reply: {text: "pong from the file"}
- match: {last_user_message: "^once$"}
  reply: {text: "only once"}
  times: 1
"""
AUTH = {"Authorization": "Bearer k"}


def _say(url: str, text: str) -> str:
    body = {"model": "gpt-4", "messages": [{"role": "user", "content": text}]}
    answer = requests.post(f"{url}/v1/chat/completions", json=body, headers=AUTH, timeout=30)
    assert answer.status_code == 200, answer.text
    content: str = answer.json()["choices"][0]["message"]["content"]
    return content


@pytest.fixture(scope="module")
def stubs_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stubs") / "stubs.yaml"
    path.write_text(STUBS)
    return path


@pytest.fixture(scope="module")
def served(stubs_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    logs = tmp_path_factory.mktemp("serve")
    args = ["--stubs", str(stubs_file), "--workers", "2", "--state", str(logs / "s.sqlite3")]
    server = start_server(args, log_dir=logs)
    yield server
    server.stop()


def test_serve_reset_restores_the_files_stubs(served: RunningServer) -> None:
    added = {"match": {"last_user_message": "^extra$"}, "reply": {"text": "added at run time"}}
    assert requests.post(f"{served.url}/_mock/stubs", json=added, timeout=10).status_code == 201
    assert _say(served.url, "once") == "only once"
    assert _say(served.url, "once") != "only once"  # used up
    for _ in range(4):  # every worker answers a reset the same way
        reset = requests.post(f"{served.url}/_mock/reset", timeout=10)
        assert reset.status_code == 200
        assert reset.json()["stubs_restored"] == 2
    assert _say(served.url, "ping") == "pong from the file"
    assert _say(served.url, "once") == "only once"  # at its first use again
    assert _say(served.url, "extra") != "added at run time"  # what was added is gone
    listed = requests.get(f"{served.url}/_mock/stubs", timeout=10).json()["data"]
    assert len(listed) == 2


def test_the_plugin_servers_reset_keeps_the_files_stubs(stubs_file: Path) -> None:
    with LiveServer(MockConfig(stubs_file=stubs_file)) as server:
        for _ in range(2):  # as the fixture does before each test
            server.reset()
            assert _say(server.url, "ping") == "pong from the file"
