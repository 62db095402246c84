"""`harness record` keeps the upstream's answer as it was: in the cassette and on the wire.

A fake upstream on a free loopback port; the recorder runs as its app under a real server in a
thread, or as a `harness record` subprocess where its own HTTP server matters (headers it adds,
its shutdown).
"""

from __future__ import annotations

import importlib.util
import json
import signal
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import brotli
import httpx
import pytest
from flask import Flask, Response, request

from harness.cassettes import read_cassette
from harness.cassettes.recorder import RecorderConfig, create_recorder_app
from tests.cassettes.conftest import start_recorder
from tests.fixtures.servers import serve_in_thread

# An answer full of ordinary words a careless scrub takes for secrets.
ANSWER = (
    '{"object": "chat.completion", "service_tier": "default", "choices": [{"message": '
    '{"role": "assistant", "content": "accepted"}}], "usage": {"completion_tokens_details": '
    '{"accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}}'
)
CREDENTIAL = "sess9Kq27Lm35Wp81"
BINARY = bytes(range(256)) * 4
MODELS = b'{"object": "list", "data": [{"id": "gpt-4", "object": "model"}]}'


def fake_upstream() -> Flask:
    app = Flask("fake-upstream")

    @app.post("/v1/chat/completions")
    def chat() -> Response:
        if request.args.get("stream"):
            events = "".join(f'data: {{"i": {n}}}\n\n' for n in range(3)) + "data: [DONE]\n\n"
            return Response(events, content_type="text/event-stream")
        return Response(ANSWER, content_type="application/json")

    @app.post("/v1/credential-as-key")
    def credential_as_key() -> Response:
        body = '{"' + CREDENTIAL + '_count": 1, "echo": "' + CREDENTIAL + '"}'
        return Response(body, content_type="application/json")

    @app.get("/v1/encodings")
    def encodings() -> Response:
        seen = request.headers.get("Accept-Encoding")
        return Response(json.dumps({"accept_encoding": seen}), content_type="application/json")

    @app.get("/v1/binary")
    def binary() -> Response:
        return Response(BINARY, content_type="application/octet-stream")

    @app.post("/v1/brotli")
    def brotli_answer() -> Response:
        answer = Response(brotli.compress(ANSWER.encode()), content_type="application/json")
        answer.headers["Content-Encoding"] = "br"
        return answer

    @app.route("/v1/models", methods=["GET", "HEAD"])
    def models() -> Response:
        answer = Response(MODELS, content_type="application/json")
        answer.headers["Server"] = "fake-upstream/1"
        answer.headers["Date"] = "Tue, 01 Dec 2026 00:00:00 GMT"
        return answer

    return app


@pytest.fixture
def upstream() -> Iterator[str]:
    with serve_in_thread(fake_upstream()) as url:
        yield url


@pytest.fixture
def recorder(upstream: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    folder = tmp_path / "recorded"
    app = create_recorder_app(RecorderConfig(upstream=upstream, cassettes_dir=folder))
    with serve_in_thread(app) as url:
        yield url, folder


def recorded_body(folder: Path, name: str) -> bytes:
    (interaction,) = read_cassette(folder / f"{name}.yaml").interactions
    return interaction.response.body


# --- ordinary words are not secrets ---------------------------------------------------------


def test_ordinary_cookie_and_session_values_do_not_corrupt_the_answer(
    recorder: tuple[str, Path],
) -> None:
    url, folder = recorder
    headers = {
        "Authorization": "Bearer sk-wire-Ab12Cd34Ef56",
        "Cookie": "consent=accepted; theme=default",
        "X-Session-Id": "assistant",
        "X-Harness-Cassette": "words",
    }
    answer = httpx.post(f"{url}/v1/chat/completions", json={}, headers=headers, timeout=10)
    assert answer.content == ANSWER.encode()
    assert recorded_body(folder, "words") == ANSWER.encode()


def test_a_credential_in_a_cookie_is_scrubbed_but_never_inside_a_json_key(
    recorder: tuple[str, Path],
) -> None:
    url, folder = recorder
    headers = {"Cookie": f"session={CREDENTIAL}", "X-Harness-Cassette": "credential"}
    httpx.post(f"{url}/v1/credential-as-key", json={}, headers=headers, timeout=10)
    body = json.loads(recorded_body(folder, "credential"))
    assert body == {f"{CREDENTIAL}_count": 1, "echo": "***"}


# --- bodies that are not UTF-8 text -----------------------------------------------------------


def test_a_brotli_answer_is_recorded_decoded(recorder: tuple[str, Path]) -> None:
    url, folder = recorder
    headers = {"Accept-Encoding": "br", "X-Harness-Cassette": "brotli"}
    answer = httpx.post(f"{url}/v1/brotli", json={}, headers=headers, timeout=10)
    assert answer.headers["content-encoding"] == "br"
    assert answer.json()["service_tier"] == "default"
    (interaction,) = read_cassette(folder / "brotli.yaml").interactions
    assert interaction.response.body == ANSWER.encode()
    assert "content-encoding" not in {name.lower() for name in interaction.response.headers}


def test_only_encodings_the_recorder_can_decode_are_asked_for(
    recorder: tuple[str, Path],
) -> None:
    """Without the brotli module a br answer could not be recorded: br is not asked for then."""
    url, folder = recorder
    headers = {"Accept-Encoding": "gzip, deflate, br, zstd", "X-Harness-Cassette": "encodings"}
    seen = httpx.get(f"{url}/v1/encodings", headers=headers, timeout=10).json()
    expected = "gzip, deflate, br" if importlib.util.find_spec("brotli") else "gzip, deflate"
    assert seen["accept_encoding"] == expected
    only_unknown = {"Accept-Encoding": "zstd", "X-Harness-Cassette": "encodings"}
    seen = httpx.get(f"{url}/v1/encodings", headers=only_unknown, timeout=10).json()
    assert seen["accept_encoding"] == "identity"
    assert len(read_cassette(folder / "encodings.yaml").interactions) == 2


def test_a_binary_answer_is_relayed_and_its_not_recording_is_logged(
    recorder: tuple[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    # The harness's cassette readers hold text bodies only (record-replay.md says so).
    url, folder = recorder
    headers = {"X-Harness-Cassette": "binary"}
    answer = httpx.get(f"{url}/v1/binary", headers=headers, timeout=10)
    assert answer.content == BINARY
    assert not (folder / "binary.yaml").exists()
    assert any("not UTF-8" in record.getMessage() for record in caplog.records)


# --- the recorder's own server: shutdown and headers ----------------------------------------


def test_a_stream_whose_client_resets_the_connection_does_not_hold_up_the_stop(
    upstream: str, tmp_path: Path
) -> None:
    """werkzeug skips closing the body when its last read of the socket fails (a reset)."""
    folder = tmp_path / "c"
    proxy = start_recorder(upstream, folder, log_dir=tmp_path)
    port = int(proxy.url.rsplit(":", 1)[1])
    body = b"{}"
    head = (
        f"POST /v1/chat/completions?stream=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        # A byte past the request keeps werkzeug reading the socket after the body is sent.
        client.sendall(head + body + b"x")
        received = b""
        while not received.endswith(b"0\r\n\r\n"):
            chunk = client.recv(65536)
            assert chunk, received
            received += chunk
        # Close with a reset (SO_LINGER 0), as a client dropping a finished stream may.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    time.sleep(0.3)
    started = time.monotonic()
    proxy.process.send_signal(signal.SIGTERM)
    assert proxy.process.wait(timeout=20) == 0
    stopped_in = time.monotonic() - started
    assert "unfinished" not in proxy.log()
    assert stopped_in < 5, proxy.log()
    assert len(read_cassette(folder / "chat_completions.yaml").interactions) == 1


def test_date_and_server_come_once_from_the_upstream_and_head_keeps_its_length(
    upstream: str, tmp_path: Path
) -> None:
    proxy = start_recorder(upstream, tmp_path / "c", log_dir=tmp_path)
    try:
        direct = httpx.get(f"{upstream}/v1/models", timeout=10)
        got = httpx.get(f"{proxy.url}/v1/models", timeout=10)
        head = httpx.head(f"{proxy.url}/v1/models", timeout=10)
    finally:
        proxy.stop()
    # The fake upstream's own server adds a Server and a Date to the ones it sets.
    assert "fake-upstream/1" in direct.headers.get_list("server")
    assert got.headers.get_list("server") == direct.headers.get_list("server")
    assert len(got.headers.get_list("date")) == len(direct.headers.get_list("date"))
    assert "Tue, 01 Dec 2026 00:00:00 GMT" in got.headers.get_list("date")
    assert head.headers.get_list("content-length") == [str(len(MODELS))]
    assert head.headers.get_list("server") == direct.headers.get_list("server")
