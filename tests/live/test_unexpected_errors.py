"""A failure inside the mock is still a JSON 500 in the OpenAI shape, never a traceback."""

from __future__ import annotations

import openai
import pytest
import requests

import mockserver.api.chat
from mockserver import MockConfig, create_app
from tests.fixtures.clients import RecordingTransport, sdk_client
from tests.fixtures.servers import serve_in_thread


def _explode(*_: object, **__: object) -> None:
    raise RuntimeError("secret internal detail")


def test_internal_failure_is_json_500_and_sdk_raises(
    monkeypatch: pytest.MonkeyPatch, recorder: RecordingTransport
) -> None:
    monkeypatch.setattr(mockserver.api.chat, "plan_chat", _explode)
    app = create_app(MockConfig())
    with serve_in_thread(app) as url:
        raw = requests.post(
            f"{url}/v1/chat/completions",
            json={"model": "gpt-4", "messages": [{"role": "user", "content": "Hi"}]},
            headers={"Authorization": "Bearer k"},
            timeout=10,
        )
        assert raw.status_code == 500
        assert raw.headers["content-type"].startswith("application/json")
        error = raw.json()["error"]
        assert error["type"] == "server_error"
        assert "secret internal detail" not in raw.text
        assert "Traceback" not in raw.text
        with (
            sdk_client(f"{url}/v1", recorder) as client,
            pytest.raises(openai.InternalServerError),
        ):
            client.chat.completions.create(
                model="gpt-4", messages=[{"role": "user", "content": "Hi"}]
            )
