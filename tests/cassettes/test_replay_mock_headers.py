"""`harness serve --replay` reads X-Mock-Chunk-Delay-Ms exactly as the mock does.

One parse (``harness.mock_headers``) serves both: a value one accepts the other accepts,
and a value one refuses the other refuses with the same 400.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from harness.cassettes import read_cassettes
from harness.cassettes.replay import create_replay_app
from mockserver import MockConfig, create_app
from tests.cassettes.conftest import SHIPPED

HEADER = "X-Mock-Chunk-Delay-Ms"
API_KEY = "replay-headers-key"
# The request the documented cassettes hold an answer to.
HELLO = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]}


@pytest.fixture(scope="module")
def replay() -> Flask:
    return create_replay_app(read_cassettes(SHIPPED / "documented"))


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    state: Path = tmp_path_factory.mktemp("replay-headers") / "state.sqlite"
    return create_app(MockConfig(api_key=API_KEY, state_path=state))


def _ask(app: Flask, value: str) -> tuple[int, object]:
    headers = {"Authorization": f"Bearer {API_KEY}", HEADER: value}
    answer = app.test_client().post("/v1/chat/completions", json=HELLO, headers=headers)
    return answer.status_code, answer.get_json().get("error")


@pytest.mark.parametrize("value", ["soon", "-5", "10001", "999999", "", "1.5", "\u00b2"])
def test_a_bad_chunk_delay_is_the_same_400_from_both(
    replay: Flask, mock: Flask, value: str
) -> None:
    replayed, mocked = _ask(replay, value), _ask(mock, value)
    assert mocked[0] == 400
    assert replayed == mocked


@pytest.mark.parametrize("value", ["0", "1", " 2 ", "10000"])
def test_a_good_chunk_delay_is_served_by_both(replay: Flask, mock: Flask, value: str) -> None:
    assert _ask(replay, value)[0] == 200
    assert _ask(mock, value)[0] == 200
