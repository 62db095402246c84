"""Every registered fault is one object that says what it does, and the app does exactly that.

The checks run over the registry, so a new fault is tested by adding its class: it must
have a name, say what the client sees, declare the headers that tune it, change at least
one step of the pipeline, and the app must answer it as the fault object says.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from flask import Flask
from flask.testing import FlaskClient

from harness.sse import DONE, decode_stream
from mockserver import MockConfig, create_app
from mockserver.errors import ErrorReply
from mockserver.faults import FAULT_HEADER, FAULTS, MOCK_HEADERS, Fault
from mockserver.faults.base import FaultPlan, StreamError
from mockserver.faults.registry import FAULT_NAMES

API_KEY = "registry-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
CHAT = "/v1/chat/completions"
HELLO = {"model": "gpt-4", "messages": [{"role": "user", "content": "Tell me a long story"}]}
STAGES = ("error", "stream_failure", "error_without_stream", "wrap_body", "wrap_stream")
REGISTERED = sorted(FAULTS)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    state = tmp_path_factory.mktemp("registry") / "state.sqlite"
    return create_app(MockConfig(api_key=API_KEY, state_path=state))


@pytest.fixture
def client(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[FlaskClient]:
    # A held request is held for a moment, not 30 s; what it sends is the same.
    for fault in FAULTS.values():
        if fault.hold_s is not None:
            monkeypatch.setattr(type(fault), "hold_s", 0.01)
    with app.test_client() as test_client:
        yield test_client


def overrides(fault: Fault) -> list[str]:
    """The pipeline steps ``fault`` changes."""
    changed = [
        stage for stage in STAGES if getattr(type(fault), stage) is not getattr(Fault, stage)
    ]
    return [*changed, "hold"] if fault.hold_s is not None else changed


@pytest.mark.parametrize("name", REGISTERED)
def test_each_fault_has_a_name_a_summary_and_declared_headers(name: str) -> None:
    fault = FAULTS[name]
    assert fault.name == name
    assert re.fullmatch(r"[a-z][a-z_]*", name)
    assert fault.summary.strip()
    for header in fault.headers:
        assert header.startswith(f"{FAULT_HEADER}-"), header
        assert header in MOCK_HEADERS  # read on the fast path's check, like every mock header
    assert name in FAULT_NAMES  # the stub schema's enum offers it


@pytest.mark.parametrize("name", REGISTERED)
def test_each_fault_changes_at_least_one_step(name: str) -> None:
    assert overrides(FAULTS[name]), f"{name} changes nothing: a fault that does nothing"


def chat(client: FlaskClient, name: str, **body: Any) -> Any:
    return client.post(CHAT, json={**HELLO, **body}, headers={**AUTH, FAULT_HEADER: name})


@pytest.mark.parametrize("name", REGISTERED)
def test_each_fault_answers_a_json_request_as_it_says(client: FlaskClient, name: str) -> None:
    fault = FAULTS[name]
    answer = chat(client, name)
    data = answer.get_data()
    plan = FaultPlan(fault=fault)
    error = fault.error("gpt-4") or fault.error_without_stream(plan)
    if fault.hold_s is not None:
        # Nothing comes: the announced length is never reached. The test client, as granian,
        # gives no socket to cut, so a status line goes out first: never a success (it was
        # 200: a streaming SDK call returned a Stream, and only iterating it raised).
        assert data == b""
        assert int(answer.headers["Content-Length"]) > 0
        assert answer.status_code == 504
    elif error is not None:
        assert answer.status_code == error.status
        assert answer.get_json() == error.body()
        for header, value in error.headers.items():
            assert answer.headers[header] == value
    elif fault.wrap_body(b"{}", plan, lambda: None) is not None:
        assert answer.status_code == 200
        with pytest.raises(ValueError):
            json.loads(data)
    else:
        pytest.fail(f"{name}: a JSON request is answered as if no fault were asked")


@pytest.mark.parametrize("name", REGISTERED)
def test_each_fault_answers_a_stream_as_it_says(client: FlaskClient, name: str) -> None:
    fault = FAULTS[name]
    plan = FaultPlan(fault=fault)
    answer = chat(client, name, stream=True)
    data = answer.get_data()
    if fault.hold_s is not None or fault.error("gpt-4") is not None:
        assert b"data:" not in data  # answered before any stream began
        return
    plain = client.post(CHAT, json={**HELLO, "stream": True}, headers=AUTH).get_data()
    assert answer.status_code == 200
    failure = fault.stream_failure(plan)
    if failure is not None:
        events = decode_stream(data.decode("utf-8"))
        assert all(event.data != DONE for event in events)
        assert json.loads(events[-1].data) == failure.reply().body()
    else:
        assert fault.wrap_stream([b"data: {}\n\n"], plan, lambda: None) is not None
        declared = answer.headers.get("Content-Length")
        broken = declared is not None and int(declared) > len(data)
        assert broken or not _valid_frames(data), f"{name}: the stream came out whole"
    assert data != plain


def _valid_frames(data: bytes) -> bool:
    try:
        for event in decode_stream(data.decode("utf-8")):
            if event.data != DONE:
                json.loads(event.data)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(
    ("name", "header"), [(name, header) for name in REGISTERED for header in FAULTS[name].headers]
)
def test_a_faults_own_headers_are_accepted_with_it_and_refused_with_another(
    client: FlaskClient, name: str, header: str
) -> None:
    value = "1" if header.endswith("Frames") else "server_error"
    tuned = client.post(
        CHAT, json={**HELLO, "stream": True}, headers={**AUTH, FAULT_HEADER: name, header: value}
    )
    assert tuned.status_code != 400, tuned.get_data()
    others = [other for other in REGISTERED if header not in FAULTS[other].headers]
    for other in others:
        refused = client.post(
            CHAT, json=HELLO, headers={**AUTH, FAULT_HEADER: other, header: value}
        )
        assert refused.status_code == 400
        assert refused.get_json()["error"]["param"] in {header, f"{FAULT_HEADER}-Error-Type"}
        assert name in refused.get_json()["error"]["message"]


def test_an_unknown_fault_is_refused_listing_every_registered_one(client: FlaskClient) -> None:
    answer = chat(client, "explode")
    assert answer.status_code == 400
    message = answer.get_json()["error"]["message"]
    for name in REGISTERED:
        assert name in message


class Teapot(Fault):
    """A fault written for this test: one class, nothing else edited."""

    name: ClassVar[str] = "teapot"
    summary: ClassVar[str] = "418, short and stout"

    def error(self, model: str) -> ErrorReply:
        return ErrorReply(418, f"{model} is a teapot.", code="teapot")


class Whisper(Fault):
    """A stream fault written for this test: its own end of stream, on both endpoints."""

    name: ClassVar[str] = "whisper"
    summary: ClassVar[str] = "a stream that ends with a quiet error"

    def stream_failure(self, plan: FaultPlan) -> StreamError:
        return StreamError(type="quiet", code="whisper", message="Shh.")


def test_a_new_fault_is_one_class(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(FAULTS, Teapot.name, Teapot())
    monkeypatch.setitem(FAULTS, Whisper.name, Whisper())
    answer = chat(client, "teapot")
    assert answer.status_code == 418
    assert answer.get_json()["error"] == {
        "message": "gpt-4 is a teapot.",
        "type": "invalid_request_error",
        "param": None,
        "code": "teapot",
    }
    streamed = chat(client, "whisper", stream=True).get_data().decode("utf-8")
    last = json.loads(decode_stream(streamed)[-1].data)
    assert last["error"]["code"] == "whisper"
    responses = client.post(
        "/v1/responses",
        json={"model": "gpt-4", "input": "Hello", "stream": True},
        headers={**AUTH, FAULT_HEADER: "whisper"},
    )
    kinds = [event.event for event in decode_stream(responses.get_data().decode("utf-8"))]
    assert kinds[-2:] == ["error", "response.failed"]


def _outcome(answer: Any) -> tuple[int, bool, Any]:
    """What a client can tell of an answer: status, cut short or not, the error it carries."""
    data = answer.get_data()
    declared = answer.headers.get("Content-Length")
    cut = declared is not None and int(declared) > len(data)
    try:
        error = json.loads(data).get("error")
    except ValueError:
        error = "not JSON"
    return answer.status_code, cut, error


@pytest.mark.parametrize("name", REGISTERED)
def test_a_stub_choosing_a_fault_is_answered_as_the_header_is(
    client: FlaskClient, name: str
) -> None:
    message = f"please fail with {name}"
    body = {**HELLO, "messages": [{"role": "user", "content": message}]}
    stub = {"match": {"last_user_message": message}, "reply": {"fault": name}, "times": 1}
    assert client.post("/_mock/stubs", json=stub, headers=AUTH).status_code == 201
    stubbed = client.post(CHAT, json=body, headers=AUTH)
    by_header = client.post(CHAT, json=body, headers={**AUTH, FAULT_HEADER: name})
    assert _outcome(stubbed) == _outcome(by_header)
    assert _outcome(by_header) != _outcome(client.post(CHAT, json=body, headers=AUTH))
