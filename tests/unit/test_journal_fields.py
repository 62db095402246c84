"""The journal's fields for the dashboard: the response body (bounded as the request body is,
a stream as its text), the request id, the latency, and both ways' headers with secrets
masked; violations carry their JSON pointer; the journal filters by validity and fault."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.wrappers import Request, Response

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.journal import TRUNCATED, JournalEntry, _entry_text
from mockserver.journal_capture import RenderedJson
from mockserver.state import EXTENSION_KEY

KEY = "sk-journal-fields-secret-1234"
AUTH = {"Authorization": f"Bearer {KEY}"}


def app_with(tmp_path: Path, **config: Any) -> Flask:
    return create_app(MockConfig(state_path=tmp_path / "state.sqlite3", **config))


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    return app_with(tmp_path).test_client()


def chat(text: str = "Hello", **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4", "messages": [{"role": "user", "content": text}], **extra}


def entries(client: FlaskClient, query: str = "") -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = client.get(f"/_mock/requests{query}").get_json()["data"]
    return data


def test_an_entry_keeps_the_response_its_id_latency_and_masked_headers(
    client: FlaskClient,
) -> None:
    client.set_cookie("session", "cookie-secret-value")
    headers = {
        **AUTH,
        "X-Api-Key": "another-secret-key",
        "OpenAI-Organization": "org-secret-name",
        "X-Session-Token": "session-token-value",
        "X-Trace": "kept-as-sent",
    }
    answer = client.post("/v1/chat/completions", json=chat(), headers=headers)
    assert answer.status_code == 200
    [entry] = entries(client)
    assert entry["response_body"] == answer.get_json()
    assert entry["response_body_size"] == len(answer.data)
    assert entry["response_body_truncated"] is False
    assert entry["request_id"] == answer.headers["x-request-id"]
    assert 0 < entry["latency_ms"] < 10_000
    sent = entry["request_headers"]
    assert sent["Authorization"] == "Bearer ***"
    assert sent["X-Api-Key"] == sent["Openai-Organization"] == "***"
    assert sent["Cookie"] == sent["X-Session-Token"] == "***"
    assert sent["X-Trace"] == "kept-as-sent"
    assert sent["Content-Type"] == "application/json"
    got = entry["response_headers"]
    assert got["x-request-id"] == answer.headers["x-request-id"]
    assert got["Content-Type"] == "application/json"
    text = json.dumps(entry)
    for secret in (KEY, "another-secret-key", "org-secret-name", "cookie-secret-value"):
        assert secret not in text


def test_a_stream_is_kept_as_its_text_once_it_ends(client: FlaskClient) -> None:
    answer = client.post("/v1/chat/completions", json=chat(stream=True), headers=AUTH)
    streamed = answer.get_data()
    answer.close()  # the server closes the body after its last byte
    [entry] = entries(client)
    assert entry["stream"] is True
    assert entry["response_body"] == streamed.decode()
    assert entry["response_body"].endswith("data: [DONE]\n\n")
    assert entry["response_body_size"] == len(streamed)
    assert entry["response_headers"]["Content-Type"].startswith("text/event-stream")
    assert entry["latency_ms"] > 0


def test_bodies_past_the_entry_cap_are_cut_and_marked(tmp_path: Path) -> None:
    client = app_with(tmp_path, journal_body_max_bytes=300).test_client()
    long_text = "word " * 200
    stub = {"match": {"last_user_message": "^Long"}, "reply": {"text": long_text}}
    assert client.post("/_mock/stubs", json=stub).status_code == 201
    plain = client.post("/v1/chat/completions", json=chat("Long, please"), headers=AUTH)
    streamed = client.post("/v1/chat/completions", json=chat("Long", stream=True), headers=AUTH)
    stream_bytes = streamed.get_data()
    streamed.close()
    first, second = entries(client)
    assert first["response_body_truncated"] is True
    assert first["response_body_size"] == len(plain.data)
    assert first["response_body"] == plain.data[:300].decode() + TRUNCATED
    assert second["response_body_truncated"] is True
    assert second["response_body_size"] == len(stream_bytes)
    assert second["response_body"] == stream_bytes[:300].decode() + TRUNCATED


def test_violations_carry_their_pointer_and_the_journal_filters_by_validity_and_fault(
    client: FlaskClient,
) -> None:
    bad = {"model": "gpt-4", "messages": [{"role": "wizard", "content": "Hi"}]}
    assert client.post("/v1/chat/completions", json=bad, headers=AUTH).status_code == 400
    assert client.post("/v1/chat/completions", json=chat(), headers=AUTH).status_code == 200
    limited = client.post(
        "/v1/chat/completions", json=chat(), headers={**AUTH, "X-Mock-Fault": "rate_limit"}
    )
    assert limited.status_code == 429
    [invalid] = entries(client, "?valid=false")
    assert invalid["violations"][0]["pointer"] == "/messages/0/role"
    assert invalid["violations"][0]["param"] == "messages[0].role"
    assert invalid["response_body"]["error"]["param"] == "messages[0].role"
    assert [e["status"] for e in entries(client, "?valid=true")] == [200]
    [faulted] = entries(client, "?fault=rate_limit")
    assert faulted["status"] == 429 and faulted["response_body"]["error"]["code"]
    assert client.get("/_mock/requests?valid=yes").status_code == 400


def test_the_store_keeps_a_summary_of_each_entry(client: FlaskClient) -> None:
    client.post("/v1/chat/completions", json=chat(), headers=AUTH)
    [entry] = entries(client)
    app = client.application
    store = app.extensions[EXTENSION_KEY].db.journal
    [(seq, text)] = store.summaries({}, 0, None, 10)
    summary = json.loads(text)
    assert seq == entry["seq"]
    assert summary == {
        name: entry[name]
        for name in (
            "method",
            "path",
            "status",
            "stream",
            "stub_id",
            "fault",
            "valid",
            "latency_ms",
            "request_id",
            "time",
        )
    } | {"model": "gpt-4"}


def test_a_broken_body_is_kept_as_text_and_a_rendered_one_as_json() -> None:
    """A body the mock rendered is kept as the JSON bytes it is; other bytes under the same
    Content-Type (a fault's broken body) are not trusted to be JSON, and are kept as text."""
    request = Request({"REQUEST_METHOD": "POST", "PATH_INFO": "/v1/chat/completions"})
    kept = []
    for response in (
        RenderedJson(b'{"id": "x", "n": [1, 2]}', mimetype="application/json"),
        Response(b'{"id": "x", "n": [1, 2', mimetype="application/json"),
        Response(b'{"id": "x"}', mimetype="application/json"),
    ):
        entry = JournalEntry("POST", "/v1/chat/completions")
        entry.capture(request, response, response.response)
        entry.settle(1000)
        kept.append(json.loads(_entry_text(entry))["response_body"])
    assert kept == [{"id": "x", "n": [1, 2]}, '{"id": "x", "n": [1, 2', {"id": "x"}]


def test_a_request_the_fast_writer_refuses_keeps_its_rendered_response(
    client: FlaskClient,
) -> None:
    """A lone surrogate in the body sends the entry to the standard library's writer: the
    response body, kept as bytes, is written there too."""
    raw = b'{"model": "gpt-4", "messages": [{"role": "user", "content": "hi \\ud800"}]}'
    answer = client.post(
        "/v1/chat/completions",
        data=raw,
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert answer.status_code == 200
    [entry] = entries(client)
    assert entry["response_body"] == answer.get_json()
    assert entry["body"]["messages"][0]["content"] == "hi \ud800"


@pytest.mark.parametrize("given", ["bytes", "list"])
@pytest.mark.parametrize("method", ["POST", "GET", "HEAD"])
@pytest.mark.parametrize("status", [200, 400, 404, 429, 500, 204])
def test_a_rendered_body_answers_as_werkzeug_would(method: str, status: int, given: str) -> None:
    """RenderedJson skips werkzeug's header fix-ups on its own fast path: status, headers
    and body are the ones werkzeug's general path gives the same response."""
    environ = {"REQUEST_METHOD": method, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80"}

    def answered(response: Response) -> tuple[str, list[tuple[str, str]], bytes]:
        response.headers.setdefault("x-request-id", "req_1")
        response.direct_passthrough = True
        started: list[Any] = []
        body = response(environ, lambda line, headers, exc=None: started.extend([line, headers]))
        return started[0], started[1], b"".join(body)

    data = b'{"id": "x", "n": [1, 2]}'
    body: Any = data if given == "bytes" else [data]
    fast = answered(RenderedJson(body, status=status, mimetype="application/json"))
    general = answered(Response(body, status=status, mimetype="application/json"))
    assert fast == general
