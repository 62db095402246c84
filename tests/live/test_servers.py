"""Every server `harness serve` offers answers, streams and fails alike, on the wire.

The cut faults matter most: gunicorn gives the app the client socket to shut, granian gives
none, so a cut reply announces a length it never reaches. Either way the client must see
the exact part sent and then a dropped connection, never a stream that looks complete.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import openai
import pytest
from openai import OpenAI

from harness.sse import decode_stream
from tests.fixtures.servers import API_KEY, RunningServer, start_server

SERVERS = ["gthread", "granian", "granian-rsgi"]
HEADERS = {"Authorization": f"Bearer {API_KEY}"}
CHAT = {"model": "gpt-4", "messages": [{"role": "user", "content": "Tell me a long story"}]}
# Frames a `disconnect` stream sends before the cut (mockserver.faults.FRAMES_BEFORE_FAULT).
FRAMES_BEFORE_CUT = 3


@pytest.fixture(scope="module", params=SERVERS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    running = start_server(
        ["--api-key", API_KEY, "--workers", "2", "--threads", "8", "--server", request.param],
        log_dir=tmp_path_factory.mktemp(f"server-{request.param}"),
    )
    yield running
    running.stop()


def test_sdk_plain_and_streamed_replies_agree(server: RunningServer) -> None:
    with OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0) as client:
        plain = client.chat.completions.create(model="gpt-4", messages=CHAT["messages"])
        streamed = "".join(
            chunk.choices[0].delta.content or ""
            for chunk in client.chat.completions.create(
                model="gpt-4", messages=CHAT["messages"], stream=True
            )
            if chunk.choices
        )
        assert plain.choices[0].message.content == streamed
        stored = client.responses.create(model="gpt-4", input="Remember me", store=True)
        # Two workers share the store: every retrieval finds it, whichever worker answers.
        for _ in range(6):
            assert client.responses.retrieve(stored.id).output_text == stored.output_text


def test_stream_disconnect_sends_three_frames_then_drops(server: RunningServer) -> None:
    # Repeated: a server that writes asynchronously could drop frames sent just before the
    # cut only now and then.
    for _ in range(10):
        received = b""
        with (
            pytest.raises(httpx.RemoteProtocolError),
            httpx.stream(
                "POST",
                f"{server.url}/v1/chat/completions",
                json={**CHAT, "stream": True},
                headers={**HEADERS, "X-Mock-Fault": "disconnect"},
                timeout=10,
            ) as response,
        ):
            assert response.status_code == 200
            for chunk in response.iter_raw():
                received += chunk
        events = decode_stream(received.decode())
        assert len(events) == FRAMES_BEFORE_CUT
        assert all(event.data != "[DONE]" for event in events)


def test_responses_stream_disconnect_raises_in_the_sdk(server: RunningServer) -> None:
    with (
        OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0, timeout=10) as client,
        pytest.raises(openai.APIConnectionError),
    ):
        for _ in client.responses.create(
            model="gpt-4",
            input="Tell me a long story",
            stream=True,
            extra_headers={"X-Mock-Fault": "disconnect"},
        ):
            pass


def test_json_disconnect_cuts_the_body_half_way(server: RunningServer) -> None:
    whole = httpx.post(f"{server.url}/v1/chat/completions", json=CHAT, headers=HEADERS)
    with pytest.raises(httpx.RemoteProtocolError, match=r"without sending complete"):
        httpx.post(
            f"{server.url}/v1/chat/completions",
            json=CHAT,
            headers={**HEADERS, "X-Mock-Fault": "disconnect"},
            timeout=10,
        )
    assert whole.status_code == 200


def test_timeout_fault_answers_nothing_before_the_client_gives_up(server: RunningServer) -> None:
    started = time.monotonic()
    # Not even a status line: the read timeout trips before the response headers arrive.
    with (
        pytest.raises(httpx.ReadTimeout),
        httpx.stream(
            "POST",
            f"{server.url}/v1/chat/completions",
            json=CHAT,
            headers={**HEADERS, "X-Mock-Fault": "timeout"},
            timeout=1.0,
        ) as response,
    ):
        pytest.fail(f"the held request answered {response.status_code}")
    assert time.monotonic() - started < 5
    # The held request holds one thread only: the server still answers at once.
    assert httpx.post(f"{server.url}/v1/models", headers=HEADERS).status_code == 405
    assert httpx.get(f"{server.url}/v1/models", headers=HEADERS).status_code == 200


def test_malformed_stream_breaks_the_json_of_a_frame(server: RunningServer) -> None:
    response = httpx.post(
        f"{server.url}/v1/chat/completions",
        json={**CHAT, "stream": True},
        headers={**HEADERS, "X-Mock-Fault": "malformed"},
        timeout=10,
    )
    assert response.status_code == 200
    events = decode_stream(response.text)
    broken = [event for event in events if event.data != "[DONE]" and not _is_json(event.data)]
    assert len(broken) == 1


def _is_json(text: str) -> bool:
    try:
        httpx.Response(200, content=text).json()
    except ValueError:
        return False
    return True
