"""Every error the mock gives is JSON in the OpenAI shape and raises the SDK's matching class."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
import requests
from openai import OpenAI

from tests.fixtures.clients import RecordingTransport, sdk_client
from tests.fixtures.servers import API_KEY, RunningServer

HELLO = [{"role": "user", "content": "Hello"}]


def assert_openai_error(body: Any, *, param: str | None = None, code: str | None = None) -> None:
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str)
    if param is not None:
        assert error["param"] == param
    if code is not None:
        assert error["code"] == code


def test_wrong_key_raises_authentication_error(
    live_server: RunningServer, recorder: RecordingTransport
) -> None:
    with (
        sdk_client(live_server.base_url, recorder, api_key="not-the-key") as client,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        client.chat.completions.create(model="gpt-4", messages=HELLO)
    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
    assert "not-the-key" not in caught.value.message


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic abc", "token"])
def test_missing_or_malformed_bearer_is_401(live_server: RunningServer, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = requests.post(
        f"{live_server.base_url}/chat/completions",
        json={"model": "gpt-4", "messages": HELLO},
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    assert_openai_error(response.json())


def test_unknown_model_raises_not_found(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-5-imaginary", messages=HELLO)
    assert caught.value.code == "model_not_found"
    assert caught.value.param == "model"


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"model": "gpt-4"}, "messages", "missing_required_parameter"),
        (
            {"model": "gpt-4", "messages": [{"role": "user", "content": 5}]},
            "messages[0].content",
            None,
        ),
        (
            {"model": "gpt-4", "messages": [{"role": "robot", "content": "hi"}]},
            "messages[0].role",
            None,
        ),
        ({"model": "gpt-4", "messages": HELLO, "temperature": 3}, "temperature", "invalid_value"),
        ({"model": "gpt-4", "messages": HELLO, "n": 0}, "n", "invalid_value"),
        ({"model": "gpt-4", "messages": HELLO, "stream": "yes"}, "stream", "invalid_type"),
        ({"model": "gpt-4", "messages": HELLO, "seed": 0}, "seed", "invalid_value"),
        ({"model": 4, "messages": HELLO}, "model", "invalid_type"),
        (
            {"model": "gpt-4", "messages": HELLO, "tools": [{"type": "function", "function": {}}]},
            "tools[0].function.name",
            "missing_required_parameter",
        ),
    ],
)
def test_spec_violations_raise_bad_request_naming_the_field(
    client: OpenAI, body: dict[str, Any], param: str, code: str | None
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.post("/chat/completions", body=body, cast_to=httpx.Response)
    assert caught.value.status_code == 400
    assert caught.value.param == param
    assert caught.value.type == "invalid_request_error"
    if code is not None:
        assert caught.value.code == code
    assert param.split("[")[0].split(".")[0] in caught.value.message


@pytest.fixture
def raw(live_server: RunningServer) -> Iterator[requests.Session]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {API_KEY}"
    yield session
    session.close()


@pytest.mark.parametrize(
    "data",
    [
        *(b"{bad json", b"", b"[1, 2]", b'"text"', b'{"model": NaN}', b"\xff\xfe"),
        b'{"messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # deeper than any parser
        # Parsed, but deeper than the validator goes.
        b'{"model": "gpt-4", "messages": [{"role": "user", "content": '
        + b"[" * 600
        + b"]" * 600
        + b"}]}",
    ],
)
def test_malformed_json_is_400(
    live_server: RunningServer, raw: requests.Session, data: bytes
) -> None:
    response = raw.post(
        f"{live_server.base_url}/chat/completions",
        data=data,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert_openai_error(response.json())


def test_non_json_content_type_is_415(live_server: RunningServer, raw: requests.Session) -> None:
    response = raw.post(
        f"{live_server.base_url}/chat/completions",
        data="model=gpt-4",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert response.status_code == 415
    assert_openai_error(response.json())


def test_wrong_method_is_405_with_allow(live_server: RunningServer, raw: requests.Session) -> None:
    response = raw.get(f"{live_server.base_url}/chat/completions", timeout=10)
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert_openai_error(response.json())


@pytest.mark.parametrize("path", ["/v1/nope", "/", "/v2/chat/completions", "/_mock/nope"])
def test_unknown_path_is_json_404(
    live_server: RunningServer, raw: requests.Session, path: str
) -> None:
    response = raw.post(f"{live_server.url}{path}", json={}, timeout=10)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert_openai_error(response.json())


ODD_BUT_VALID = [
    {"stop": True},
    {"stop": 5},
    {"stop": None},
    {"max_tokens": 1.5},
    {"top_logprobs": 2.5, "logprobs": True},
    {"n": 1_000_000_000, "max_tokens": 1},
    {"messages": []},
    {"messages": [{"role": "tool", "content": "42", "tool_call_id": "call_x"}]},
    {"messages": [{"role": "user", "content": "\udbb5 lone surrogate"}]},
    {"response_format": {"type": "json_object"}},
    {"provider": "openai", "user": "u-1", "metadata": {"a": "b"}},
    {"tool_choice": "required"},
]


@pytest.mark.parametrize("extra", ODD_BUT_VALID, ids=[str(sorted(e)) for e in ODD_BUT_VALID])
def test_spec_accepted_oddities_are_answered(
    live_server: RunningServer, raw: requests.Session, extra: dict[str, Any]
) -> None:
    """Values the published spec accepts, however odd, get a 200 (never a refusal or a crash)."""
    body = {"model": "gpt-4", "messages": HELLO, **extra}
    # json.dumps escapes the lone surrogate as \\udbb5, as a fuzzer's client would send it.
    response = raw.post(
        f"{live_server.base_url}/chat/completions",
        data=json.dumps(body),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["object"] == "chat.completion"
