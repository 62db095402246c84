"""`harness serve --replay` checks the bearer key as the mock does: a client's 401 handling
meets the same answers from a replay. (`--api-key` was dropped without a word: a wrong key,
or none, got the recording.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.cassettes.conftest import SHIPPED
from tests.fixtures.servers import RunningServer, start_server

HELLO = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]}
UNRECORDED = {"model": "gpt-4", "messages": [{"role": "user", "content": "never recorded"}]}


@pytest.fixture(scope="module", params=["replay only", "with the mock for the rest"])
def replay(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    fallback = ["--replay-fallback", "mock"] if request.param != "replay only" else []
    logs = tmp_path_factory.mktemp("replay-keys")
    args = ["--replay", str(SHIPPED / "documented"), "--api-key", "sk-fixed", *fallback]
    server = start_server([*args, "--state", str(logs / "state.sqlite3")], log_dir=logs)
    yield server
    server.stop()


def _chat(server: RunningServer, body: dict[str, object], key: str | None) -> requests.Response:
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    url = f"{server.url}/v1/chat/completions"
    return requests.post(url, json=body, headers=headers, timeout=30)


@pytest.mark.parametrize(("key", "code"), [(None, None), ("wrong", "invalid_api_key")])
def test_a_recorded_request_with_no_key_or_a_wrong_one_is_a_401(
    replay: RunningServer, key: str | None, code: str | None
) -> None:
    answer = _chat(replay, HELLO, key)
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["code"] == code


def test_the_right_key_gets_the_recording(replay: RunningServer) -> None:
    answer = _chat(replay, HELLO, "sk-fixed")
    assert answer.status_code == 200
    assert answer.json()["object"] == "chat.completion"


def test_recorded_or_not_a_request_meets_the_same_rule(replay: RunningServer) -> None:
    assert _chat(replay, UNRECORDED, "wrong").status_code == 401
    assert requests.get(f"{replay.url}/_mock/health", timeout=10).status_code == 200
