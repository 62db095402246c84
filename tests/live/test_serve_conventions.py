"""`harness serve`'s conventions: options from HARNESS_* variables, --port 0, CORS, access log."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click
import pytest
import requests
from click.testing import CliRunner

from harness.cli.serve import serve
from harness.testing import LiveServer
from mockserver import MockConfig, create_app

CHAT = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]}
PAGE = "http://127.0.0.1:5173"
KEY = {"Authorization": "Bearer k"}


def test_every_option_has_a_help_line_and_a_harness_variable() -> None:
    result = CliRunner().invoke(serve, ["--help"])
    assert result.exit_code == 0
    for param in serve.params:
        if not isinstance(param, click.Option) or param.name == "help":
            continue
        assert param.help, f"{param.opts[0]} has no help line"
        expected = "HARNESS_" + param.opts[0].removeprefix("--").replace("-", "_").upper()
        assert param.envvar == expected, param.opts[0]
        assert expected in result.output


@pytest.fixture
def captured_serve(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """``harness serve`` up to the server's start: what it would have run, not running it."""
    seen: dict[str, Any] = {}

    def fake_granian(app: Any, config: MockConfig, **options: Any) -> None:
        seen.update(options, config=config, app=app)

    monkeypatch.setattr("mockserver.serving.run_granian", fake_granian)
    monkeypatch.setattr("mockserver.serving.configure_logging", lambda *a: seen.update(log=a))
    return seen


def test_options_come_from_harness_variables(captured_serve: dict[str, Any]) -> None:
    env = {
        "HARNESS_PORT": "0",
        "HARNESS_WORKERS": "3",
        "HARNESS_API_KEY": "secret-key",
        "HARNESS_CORS": f"{PAGE} http://localhost:3000",
        "HARNESS_MODEL": "my-model other-model",
        "HARNESS_LOG_LEVEL": "WARNING",
        "HARNESS_LOG_FORMAT": "json",
    }
    result = CliRunner().invoke(serve, [], env=env)
    assert result.exit_code == 0, result.output
    config = captured_serve["config"]
    assert captured_serve["workers"] == 3
    assert captured_serve["port"] != 0  # --port 0: a free port, chosen and printed
    assert f"127.0.0.1:{captured_serve['port']}/v1" in result.output
    assert config.api_key == "secret-key"
    assert config.cors_origins == (PAGE, "http://localhost:3000")
    assert config.model_aliases == ("my-model", "other-model")
    assert captured_serve["log"] == ("warning", "json")
    assert config.access_log is False  # warning: no access lines


def test_a_command_line_option_beats_its_variable(captured_serve: dict[str, Any]) -> None:
    result = CliRunner().invoke(serve, ["--workers", "1"], env={"HARNESS_WORKERS": "5"})
    assert result.exit_code == 0, result.output
    assert captured_serve["workers"] == 1
    assert captured_serve["config"].access_log is True  # info, the default


@pytest.mark.parametrize("origin", ["http://127.0.0.1:5173/", "127.0.0.1:5173", "ftp://x"])
def test_a_cors_value_that_is_no_origin_is_refused(origin: str) -> None:
    result = CliRunner().invoke(serve, ["--cors", origin])
    assert result.exit_code == 2
    assert "--cors" in result.output and "is not an origin" in result.output


def test_port_0_serves_on_a_free_port_it_prints(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "serve", "--port", "0", "--workers", "1"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HARNESS_LOG_FORMAT": "json"},
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/v1", first)
        assert found, first
        url = f"http://127.0.0.1:{found.group(1)}"
        assert int(found.group(1)) != 0
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{url}/_mock/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.05)
        answer = requests.post(f"{url}/v1/chat/completions", json=CHAT, headers=KEY, timeout=10)
        assert answer.status_code == 200
        # The access line, as JSON (HARNESS_LOG_FORMAT), once the answer is out.
        lines = [json.loads(process.stderr.readline()) for _ in range(2)]
        chat = next(line for line in lines if line["path"] == "/v1/chat/completions")
        assert chat["method"] == "POST" and chat["status"] == 200 and chat["latency_ms"] >= 0
        assert chat["level"] == "info" and chat["logger"] == "mockserver.access"
    finally:
        process.terminate()
        process.wait(timeout=15)
        if process.stderr is not None:
            process.stderr.close()


# --- CORS, in process: the layer create_app puts around the API routes ---


def _client(origins: tuple[str, ...]) -> Any:
    return create_app(MockConfig(cors_origins=origins)).test_client()


def _preflight(client: Any, path: str = "/v1/chat/completions", origin: str = PAGE) -> Any:
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-stainless-os",
        },
    )


def test_cors_preflight_is_answered_for_an_allowed_origin() -> None:
    answer = _preflight(_client((PAGE,)))
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == PAGE
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    allowed = answer.headers["Access-Control-Allow-Headers"]
    assert "authorization" in allowed and "x-stainless-os" in allowed
    assert "Origin" in answer.headers["Vary"]


def test_cors_answers_and_streams_name_the_origin() -> None:
    client = _client((PAGE,))
    for body in (CHAT, {**CHAT, "stream": True}):
        answer = client.post("/v1/chat/completions", json=body, headers={**KEY, "Origin": PAGE})
        assert answer.status_code == 200
        assert answer.headers["Access-Control-Allow-Origin"] == PAGE
        assert answer.headers["Access-Control-Expose-Headers"] == "*"
    refused = client.post("/v1/chat/completions", json=CHAT, headers={"Origin": PAGE})
    assert refused.status_code == 401  # errors too, so the page can read them
    assert refused.headers["Access-Control-Allow-Origin"] == PAGE


def test_cors_any_origin() -> None:
    answer = _preflight(_client(("*",)), origin="http://anything.example:1")
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_is_off_by_default_and_for_other_origins() -> None:
    for client in (_client(()), _client((PAGE,))):
        answer = _preflight(client, origin="http://evil.example")
        assert answer.status_code == 405
        assert "Access-Control-Allow-Origin" not in answer.headers
        plain = client.post(
            "/v1/chat/completions", json=CHAT, headers={**KEY, "Origin": "http://evil.example"}
        )
        assert "Access-Control-Allow-Origin" not in plain.headers


def test_cors_leaves_the_admin_api_out() -> None:
    client = _client(("*",))
    answer = client.get("/_mock/requests", headers={"Origin": PAGE})
    assert "Access-Control-Allow-Origin" not in answer.headers
    assert "Access-Control-Allow-Origin" not in _preflight(client, "/_mock/stubs").headers


# --- the access log ---


def test_access_log_line_per_request_streams_when_they_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = create_app(MockConfig(access_log=True)).test_client()
    stub = {"id": "greeting", "match": {"last_user_message": "Hello"}, "reply": {"text": "Hi"}}
    assert client.post("/_mock/stubs", json=stub).status_code == 201
    caplog.set_level(logging.INFO, logger="mockserver.access")
    caplog.clear()
    client.post("/v1/chat/completions", json=CHAT, headers=KEY)
    streamed = client.post(
        "/v1/chat/completions", json={**CHAT, "stream": True}, headers=KEY, buffered=False
    )
    assert len(caplog.records) == 1  # the stream has not ended yet
    b"".join(streamed.response)
    streamed.close()
    client.post("/v1/chat/completions", json=CHAT, headers={**KEY, "X-Mock-Fault": "overloaded"})
    access = [record.access for record in caplog.records]  # type: ignore[attr-defined]
    assert [(a["status"], a["stub_id"], a["fault"]) for a in access] == [
        (200, "greeting", None),
        (200, "greeting", None),
        (503, None, "overloaded"),  # header faults run before the stubs
    ]
    assert caplog.records[0].getMessage().startswith("POST /v1/chat/completions 200 ")
    assert "stub=greeting fault=-" in caplog.records[0].getMessage()


def test_live_server_is_quiet(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with LiveServer() as server:
        requests.post(f"{server.base_url}/chat/completions", json=CHAT, headers=KEY, timeout=10)
    assert not [r for r in caplog.records if r.name == "mockserver.access"]
