"""`harness serve --replay`: the replay app through Flask's test client, and the CLI's errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from harness.cassettes import read_cassettes
from harness.cassettes.replay import create_replay_app, split_events
from harness.cli import main
from mockserver import MockConfig, create_app
from tests.cassettes.conftest import SHIPPED
from tests.fixtures.servers import free_port

DOCUMENTED = SHIPPED / "documented"
HELLO = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]}
# Any non-empty key, as on the mock (tests/live/test_replay_keys.py: the key rules).
KEY = {"Authorization": "Bearer test-key"}


@pytest.fixture(scope="module")
def replay_app() -> Flask:
    return create_replay_app(read_cassettes(DOCUMENTED))


def test_a_recorded_answer_is_replayed_whatever_the_key_order(replay_app: Flask) -> None:
    data = '{"messages": [{"role": "user", "content": "Hello"}],   "model": "gpt-4"}'
    answer = replay_app.test_client().post(
        "/v1/chat/completions", data=data, content_type="application/json", headers=KEY
    )
    recorded = read_cassettes(DOCUMENTED)[0].interactions[0].response.body
    assert answer.status_code == 200
    assert answer.data == recorded
    assert answer.content_type == "application/json"


def test_a_recorded_stream_is_replayed_event_by_event(replay_app: Flask) -> None:
    answer = replay_app.test_client().post(
        "/v1/responses", json={"model": "gpt-4", "input": "Hello", "stream": True}, headers=KEY
    )
    assert answer.mimetype == "text/event-stream"
    assert answer.is_streamed
    frames = list(answer.response)
    assert frames[0].startswith(b"event: response.created\n")
    assert all(frame.endswith(b"\n\n") for frame in frames)
    assert len(frames) == 17


def test_split_events_gives_back_the_body() -> None:
    body = b"data: 1\n\nevent: x\r\ndata: 2\r\n\r\ndata: 3\r\rtrailing"
    assert split_events(body) == [
        b"data: 1\n\n",
        b"event: x\r\ndata: 2\r\n\r\n",
        b"data: 3\r\r",
        b"trailing",
    ]


def test_an_unmatched_request_names_the_closest_recording(replay_app: Flask) -> None:
    answer = replay_app.test_client().post(
        "/v1/chat/completions", json={**HELLO, "temperature": 0.5}, headers=KEY
    )
    assert answer.status_code == 404
    error = answer.get_json()["error"]
    assert error["code"] == "no_recorded_interaction"
    assert error["type"] == "invalid_request_error"
    assert "chat-completion.yaml#0 (POST /v1/chat/completions)" in error["message"]
    assert "/temperature (recorded nothing, got 0.5)" in error["message"]


def test_a_bad_chunk_delay_is_a_400(replay_app: Flask) -> None:
    answer = replay_app.test_client().post(
        "/v1/chat/completions", json=HELLO, headers={**KEY, "X-Mock-Chunk-Delay-Ms": "soon"}
    )
    assert answer.status_code == 400
    assert answer.get_json()["error"]["param"] == "X-Mock-Chunk-Delay-Ms"


def test_the_mock_answers_what_no_cassette_holds(tmp_path: Path) -> None:
    mock = create_app(MockConfig(state_path=tmp_path / "state.sqlite"))
    app = create_replay_app(read_cassettes(DOCUMENTED), fallback=mock)
    client = app.test_client()
    auth = {"Authorization": "Bearer any-key-123"}
    recorded = client.post("/v1/chat/completions", json=HELLO, headers=auth)
    assert recorded.get_json()["id"] == "chatcmpl-BKKWkzVpUFHEDbw7MlOsqBIbm9Vi2"
    other = {**HELLO, "messages": [{"role": "user", "content": "Something else"}], "stream": True}
    with client.post("/v1/chat/completions", json=other, headers=auth) as streamed:
        assert streamed.status_code == 200
        assert streamed.get_data().endswith(b"data: [DONE]\n\n")
    assert client.get("/_mock/health").get_json()["status"] == "ok"
    journal = client.get("/_mock/requests").get_json()["data"]
    # Only the request no cassette held reached the mock.
    assert [entry["path"] for entry in journal] == ["/v1/chat/completions"]


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def test_serve_replay_refuses_broken_cassettes_with_a_clear_message(tmp_path: Path) -> None:
    write(tmp_path, "good.yaml", (DOCUMENTED / "chat-completion.yaml").read_text())
    write(tmp_path, "bad.yaml", "interactions:\n- request: {method: POST}\n  response: 7\n")
    result = CliRunner().invoke(
        main, ["serve", "--replay", str(tmp_path), "--port", str(free_port())]
    )
    assert result.exit_code == 1
    assert f"cannot replay {tmp_path}" in result.output
    assert f"{tmp_path / 'bad.yaml'}: interaction 0: `response` must be a mapping" in result.output
    assert "Traceback" not in result.output


def test_replay_fallback_needs_replay() -> None:
    result = CliRunner().invoke(main, ["serve", "--replay-fallback", "mock"])
    assert result.exit_code == 2
    assert "--replay-fallback needs --replay DIR" in result.output
