"""Faults on demand make the official SDK fail exactly as it fails against the real API."""

from __future__ import annotations

import time
from typing import Any

import httpx
import openai
import pytest
import requests
from openai import OpenAI

from tests.fixtures.admin import Admin
from tests.fixtures.clients import RecordingTransport, sdk_client
from tests.fixtures.servers import API_KEY, RunningServer

HELLO = [{"role": "user", "content": "Hello"}]
LONG = [{"role": "user", "content": "Explain in detail how retries with backoff work"}]


def fault(name: str) -> dict[str, str]:
    return {"X-Mock-Fault": name}


def test_rate_limit_raises_rate_limit_error_with_real_headers(client: OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(
            model="gpt-4", messages=HELLO, extra_headers=fault("rate_limit")
        )
    response = caught.value.response
    assert response.status_code == 429
    assert caught.value.code == "rate_limit_exceeded"
    assert int(response.headers["Retry-After"]) >= 1
    for name in ["requests", "tokens"]:
        assert response.headers[f"x-ratelimit-limit-{name}"].isdigit()
        assert response.headers[f"x-ratelimit-remaining-{name}"] == "0"
        assert response.headers[f"x-ratelimit-reset-{name}"]


@pytest.mark.parametrize(("name", "status"), [("server_error", 500), ("overloaded", 503)])
def test_server_faults_raise_internal_server_error(client: OpenAI, name: str, status: int) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        client.responses.create(model="gpt-4", input="Hello", extra_headers=fault(name))
    assert caught.value.status_code == status


def test_sdk_retries_succeed_after_one_stubbed_429(
    live_server: RunningServer, admin: Admin, recorder: RecordingTransport
) -> None:
    admin.stub(
        match={"endpoint": "/v1/chat/completions", "last_user_message": "retry me"},
        reply={"error": {"status": 429, "type": "requests", "code": "rate_limit_exceeded"}},
        times=1,
    )
    client = OpenAI(
        base_url=live_server.base_url,
        api_key=API_KEY,
        max_retries=2,
        http_client=httpx.Client(transport=recorder),
    )
    with client:
        reply = client.chat.completions.create(
            model="gpt-4", messages=[{"role": "user", "content": "please retry me"}]
        )
    assert reply.choices[0].message.content
    assert [entry["status"] for entry in admin.requests(path="/v1/chat/completions")] == [429, 200]


def test_timeout_trips_the_client_timeout(
    live_server: RunningServer, recorder: RecordingTransport
) -> None:
    with sdk_client(live_server.base_url, recorder) as client:
        started = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            client.with_options(timeout=1.0).chat.completions.create(
                model="gpt-4", messages=HELLO, extra_headers=fault("timeout")
            )
        assert 0.9 <= time.monotonic() - started < 10


def read_stream(client: OpenAI, **extra: Any) -> str:
    text = ""
    stream = client.chat.completions.create(model="gpt-4", messages=LONG, stream=True, **extra)
    for chunk in stream:
        text += chunk.choices[0].delta.content or "" if chunk.choices else ""
    return text


@pytest.mark.parametrize("name", ["disconnect", "malformed"])
def test_broken_streams_make_the_client_raise_not_hang(
    live_server: RunningServer, name: str
) -> None:
    client = OpenAI(base_url=live_server.base_url, api_key=API_KEY, max_retries=0, timeout=10)
    started = time.monotonic()
    with client, pytest.raises((openai.APIError, httpx.HTTPError, ValueError)):
        read_stream(client, extra_headers=fault(name))
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("name", ["disconnect", "malformed"])
def test_broken_json_bodies_make_the_client_raise(live_server: RunningServer, name: str) -> None:
    client = OpenAI(base_url=live_server.base_url, api_key=API_KEY, max_retries=0, timeout=10)
    with client, pytest.raises((openai.APIError, httpx.HTTPError, ValueError)):
        client.chat.completions.create(model="gpt-4", messages=HELLO, extra_headers=fault(name))


def test_responses_stream_disconnect_raises(live_server: RunningServer) -> None:
    client = OpenAI(base_url=live_server.base_url, api_key=API_KEY, max_retries=0, timeout=10)
    with client, pytest.raises((openai.APIError, httpx.HTTPError)):
        for _ in client.responses.create(
            model="gpt-4",
            input="Tell me a long story",
            stream=True,
            extra_headers=fault("disconnect"),
        ):
            pass


def test_latency_delays_the_answer(live_server: RunningServer) -> None:
    body = {"model": "gpt-4", "messages": HELLO}
    headers = {"Authorization": f"Bearer {API_KEY}", "X-Mock-Latency-Ms": "400"}
    started = time.monotonic()
    response = requests.post(
        f"{live_server.base_url}/chat/completions", json=body, headers=headers, timeout=10
    )
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.4


def test_chunk_delay_paces_the_stream(live_server: RunningServer) -> None:
    body = {"model": "gpt-4", "messages": HELLO, "stream": True}
    headers = {"Authorization": f"Bearer {API_KEY}", "X-Mock-Chunk-Delay-Ms": "50"}
    started = time.monotonic()
    with requests.post(
        f"{live_server.base_url}/chat/completions",
        json=body,
        headers=headers,
        stream=True,
        timeout=10,
    ) as response:
        frames = [line for line in response.iter_lines() if line]
    # The server sleeps 50 ms between frames, so the whole stream cannot be faster.
    assert len(frames) >= 5
    assert time.monotonic() - started >= 0.05 * (len(frames) - 1)


@pytest.mark.parametrize(
    ("header", "value", "listed"),
    [
        ("X-Mock-Fault", "explode", "rate_limit"),
        ("X-Mock-Latency-Ms", "-5", "0 to"),
        ("X-Mock-Latency-Ms", "soon", "0 to"),
        ("X-Mock-Chunk-Delay-Ms", "999999", "0 to"),
    ],
)
def test_bad_fault_headers_are_400_naming_the_valid_values(
    live_server: RunningServer, header: str, value: str, listed: str
) -> None:
    response = requests.post(
        f"{live_server.base_url}/chat/completions",
        json={"model": "gpt-4", "messages": HELLO},
        headers={"Authorization": f"Bearer {API_KEY}", header: value},
        timeout=10,
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == header
    assert listed in error["message"]
