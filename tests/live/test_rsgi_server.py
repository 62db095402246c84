"""`harness serve --server granian-rsgi`: requests run on the worker's event loop, so what a
request waits for (a latency, a held fault, paced frames, a stub's latency) must be awaited
there, never slept: on one worker, a slept pause would stop every other request with it.
A client that sends its body slowly costs no thread, and is cut off with a 408.

The suites every server passes (tests/live/test_servers.py, test_chunked_framing.py, the
lifecycle tests) run against this server too.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import requests

from mockserver.engine.tokens import _OFF_LOOP_CHARS as LONG_PROMPT_CHARS
from tests.fixtures.admin import Admin
from tests.fixtures.redis_server import RedisServer, redis_server
from tests.fixtures.rsgi_short_timeout import BODY_READ_TIMEOUT_S, MAX_BODY_BYTES
from tests.fixtures.servers import (
    API_KEY,
    RunningServer,
    free_port,
    start_server,
    wait_until_healthy,
)

ROOT = Path(__file__).resolve().parents[2]
__all__ = ["redis_server"]  # fixtures this module uses

HEADERS = {"Authorization": f"Bearer {API_KEY}"}
# How long each slow request below waits before its answer (or, held, for good).
SLOW_S = 3.0
PLAIN_REQUESTS = 10


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One worker: the loop every request below shares."""
    running = start_server(
        ["--server", "granian-rsgi", "--workers", "1", "--api-key", API_KEY],
        log_dir=tmp_path_factory.mktemp("rsgi"),
    )
    yield running
    running.stop()


def _chat(text: str, **extra: object) -> dict[str, object]:
    return {"model": "gpt-4", "messages": [{"role": "user", "content": text}], **extra}


def _latency_header(server: RunningServer) -> None:
    requests.post(
        f"{server.base_url}/chat/completions",
        json=_chat("wait for it"),
        headers={**HEADERS, "X-Mock-Latency-Ms": str(int(SLOW_S * 1000))},
        timeout=SLOW_S + 10,
    ).raise_for_status()


def _held_fault(server: RunningServer) -> None:
    with contextlib.suppress(requests.RequestException):  # held, then dropped: never answered
        requests.post(
            f"{server.base_url}/chat/completions",
            json=_chat("hold me"),
            headers={**HEADERS, "X-Mock-Fault": "timeout"},
            timeout=SLOW_S,
        )


def _read_paced_stream(server: RunningServer, prompt: str) -> None:
    """Stream an answer to ``prompt`` paced at 300 ms a frame, read for SLOW_S."""
    with requests.post(
        f"{server.base_url}/chat/completions",
        json=_chat(prompt, stream=True),
        headers={**HEADERS, "X-Mock-Chunk-Delay-Ms": "300"},
        stream=True,
        timeout=SLOW_S + 30,
    ) as answer:
        answer.raise_for_status()
        deadline = time.monotonic() + SLOW_S
        for line in answer.iter_lines():
            assert not line or line.startswith(b"data: {"), line
            if time.monotonic() > deadline:  # paced long enough: the rest is not needed
                break


def _paced_stream(server: RunningServer) -> None:
    _read_paced_stream(server, "Tell me a long story")


def _paced_stream_of_a_long_prompt(server: RunningServer) -> None:
    """A prompt long enough to be tokenized off the loop (mockserver.pausing.off_loop), then
    its answer paced on the loop: the path works under the real server (that the loop is
    free meanwhile is shown in tests/unit/test_pausing.py, where it can be made to wait)."""
    _read_paced_stream(server, "lorem ipsum dolor sit amet " * (LONG_PROMPT_CHARS // 27 + 1))


def _stub_latency(server: RunningServer) -> None:
    Admin(server.url).stub(
        match={"last_user_message": "the slow stub"},
        reply={"text": "late", "latency_ms": int(SLOW_S * 1000)},
    )
    answer = requests.post(
        f"{server.base_url}/chat/completions",
        json=_chat("the slow stub"),
        headers=HEADERS,
        timeout=SLOW_S + 10,
    )
    assert answer.json()["choices"][0]["message"]["content"] == "late"


@pytest.mark.parametrize(
    "slow_request",
    [_latency_header, _held_fault, _paced_stream, _paced_stream_of_a_long_prompt, _stub_latency],
    ids=["latency-header", "held-fault", "paced-stream", "long-prompt-stream", "stub-latency"],
)
def test_a_waiting_request_does_not_hold_up_the_others_on_its_worker(
    server: RunningServer, slow_request: Callable[[RunningServer], None]
) -> None:
    slow = threading.Thread(target=slow_request, args=(server,), daemon=True)
    slow.start()
    time.sleep(0.5)  # the slow request is waiting in the worker
    started = time.monotonic()
    for number in range(PLAIN_REQUESTS):
        answer = requests.post(
            f"{server.base_url}/chat/completions",
            json=_chat(f"plain request {number}"),
            headers=HEADERS,
            timeout=SLOW_S + 10,
        )
        assert answer.status_code == 200, answer.text
    took = time.monotonic() - started
    assert slow.is_alive(), "the slow request ended before the plain ones: nothing was shown"
    # Each plain request would otherwise have waited for the slow one: SLOW_S at least.
    assert took < SLOW_S / 2, f"{PLAIN_REQUESTS} plain requests took {took:.2f} s"
    slow.join(SLOW_S + 35)
    assert not slow.is_alive()


def _partial_request(url: str, declared: int, sent: bytes) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + f"Authorization: Bearer {API_KEY}\r\nContent-Type: application/json\r\n".encode()
        + f"Content-Length: {declared}\r\n\r\n".encode()
        + sent
    )
    return sock


def test_clients_that_send_their_bodies_slowly_hold_up_no_one(server: RunningServer) -> None:
    # Under granian's WSGI interface each of these holds one of the worker's threads for as
    # long as it likes (granian reads a WSGI body with no timeout).
    slow = [_partial_request(server.url, 100, b'{"model": "gpt-4", ') for _ in range(100)]
    try:
        time.sleep(0.5)
        started = time.monotonic()
        answer = requests.post(
            f"{server.base_url}/chat/completions",
            json=_chat("am I served?"),
            headers=HEADERS,
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        assert time.monotonic() - started < 2
    finally:
        for sock in slow:
            sock.close()


def test_the_admin_api_and_the_journal_answer_beside_the_api(server: RunningServer) -> None:
    admin = Admin(server.url)
    text = "journaled under rsgi"
    requests.post(
        f"{server.base_url}/chat/completions", json=_chat(text), headers=HEADERS, timeout=10
    ).raise_for_status()
    bodies = [entry["body"] for entry in admin.requests(path="/v1/chat/completions")]
    # (A body past the journal's cap, as the long prompt's, is kept as cut text.)
    parsed = [body for body in bodies if isinstance(body, dict)]
    assert any(body["messages"][0]["content"] == text for body in parsed)


def test_a_streamed_answer_and_an_admin_call_are_logged_once_sent(server: RunningServer) -> None:
    def count(line_start: str) -> int:
        return sum(line_start in line for line in server.log().splitlines())

    time.sleep(0.5)  # the log is written in batches, every 0.2 s
    streams, reads = count("POST /v1/chat/completions 200"), count("GET /_mock/requests 200")
    with requests.post(
        f"{server.base_url}/chat/completions",
        json=_chat("a logged stream", stream=True),
        headers=HEADERS,
        stream=True,
        timeout=10,
    ) as answer:
        assert answer.status_code == 200
        assert b"[DONE]" in answer.content
    requests.get(
        f"{server.url}/_mock/requests", params={"limit": 1}, headers=HEADERS, timeout=10
    ).raise_for_status()
    deadline = time.monotonic() + 5
    while count("GET /_mock/requests 200") == reads and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    assert count("POST /v1/chat/completions 200") == streams + 1
    assert count("GET /_mock/requests 200") == reads + 1


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_a_body_over_the_limit_is_a_413_naming_it(
    chunked: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    running = start_server(
        ["--server", "granian-rsgi", "--workers", "1", "--max-body-bytes", "2000"],
        log_dir=tmp_path_factory.mktemp("rsgi-limit"),
    )
    try:
        body = json.dumps(_chat("x" * 5000)).encode()
        content = iter([body[:3000], body[3000:]]) if chunked else body
        answer = httpx.post(
            f"{running.base_url}/chat/completions",
            content=content,
            headers={**HEADERS, "Content-Type": "application/json"},
            timeout=10,
        )
        assert answer.status_code == 413, answer.text
        assert "2000 bytes" in answer.json()["error"]["message"]
    finally:
        running.stop()


@pytest.fixture(scope="module")
def short_timeout_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The bridge under granian's own command line, with a body timeout of a second."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("rsgi-timeout") / "granian.log"
    command = [
        *(sys.executable, "-m", "granian", "--interface", "rsgi", "--factory"),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
        "tests.fixtures.rsgi_short_timeout:app",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    running = RunningServer(f"http://127.0.0.1:{port}", process, log_path)
    wait_until_healthy(running, "/_mock/health", "granian")
    yield running
    running.stop()


def test_a_body_that_does_not_arrive_in_time_is_a_408(
    short_timeout_server: RunningServer,
) -> None:
    sock = _partial_request(short_timeout_server.url, 100, b'{"model": ')
    try:
        sock.settimeout(BODY_READ_TIMEOUT_S + 5)
        started = time.monotonic()
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        took = time.monotonic() - started
    finally:
        sock.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer[:300]
    error = json.loads(body)["error"]
    assert error["code"] == "request_timeout"
    assert f"{BODY_READ_TIMEOUT_S:g} s" in error["message"]
    assert BODY_READ_TIMEOUT_S - 0.2 < took < BODY_READ_TIMEOUT_S + 2


def test_a_body_that_arrives_in_time_is_served_by_the_same_bridge(
    short_timeout_server: RunningServer,
) -> None:
    body = json.dumps(_chat("just in time")).encode()
    assert len(body) < MAX_BODY_BYTES
    sock = _partial_request(short_timeout_server.url, len(body), body[:10])
    try:
        time.sleep(BODY_READ_TIMEOUT_S / 3)
        sock.sendall(body[10:])
        answer = b""
        sock.settimeout(10)
        while not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]


@pytest.mark.slow
def test_on_a_redis_store_requests_run_on_threads_and_still_overlap(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every call to a Redis store is a network round trip: the bridge runs such requests on
    its threads, where a pause sleeps its own thread only."""
    running = start_server(
        [
            *("--server", "granian-rsgi", "--workers", "1", "--api-key", API_KEY),
            *("--state", redis_server.url, "--redis-prefix", f"rsgi-{uuid.uuid4().hex[:8]}:"),
        ],
        log_dir=tmp_path_factory.mktemp("rsgi-redis"),
    )
    try:
        first = requests.post(
            f"{running.base_url}/responses",
            json={"model": "gpt-4", "input": "My name is Ada.", "store": True},
            headers=HEADERS,
            timeout=10,
        )
        assert first.status_code == 200, first.text
        second = requests.post(
            f"{running.base_url}/responses",
            json={
                "model": "gpt-4",
                "input": "And again?",
                "previous_response_id": first.json()["id"],
            },
            headers=HEADERS,
            timeout=10,
        )
        assert second.status_code == 200, second.text
        assert second.json()["usage"]["input_tokens"] > first.json()["usage"]["input_tokens"]
        test_a_waiting_request_does_not_hold_up_the_others_on_its_worker(running, _latency_header)
    finally:
        running.stop()
