"""A stream no one paces reaches the server in a few chunks of whole frames; a paced stream
and a fault's stream go frame by frame (the pacing and the cut are per frame)."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.delivery import coalesced

CHAT = {
    "model": "gpt-4",
    "stream": True,
    "messages": [{"role": "user", "content": "Explain caching strategies, please."}],
}


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return create_app(MockConfig(state_path=tmp_path / "state.sqlite3"))


def chunks_of(app: Flask, body: dict[str, Any], **headers: str) -> list[bytes]:
    """The body's chunks as the WSGI server is handed them, one by one."""
    data = orjson.dumps(body)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/v1/chat/completions",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": sys.stderr,
        "HTTP_AUTHORIZATION": "Bearer sk-test",
        **{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()},
    }
    body_iter = app(environ, lambda status, headers, exc=None: None)
    try:
        return [chunk for chunk in body_iter if chunk]
    finally:
        body_iter.close()  # type: ignore[attr-defined]


def frames(chunks: list[bytes]) -> list[bytes]:
    return [frame + b"\n\n" for frame in b"".join(chunks).split(b"\n\n") if frame]


def test_an_unpaced_stream_comes_in_a_few_chunks_of_whole_frames(app: Flask) -> None:
    chunks = chunks_of(app, CHAT)
    assert len(frames(chunks)) > 10
    assert len(chunks) == 1  # a short reply: one chunk, well under the bound
    assert all(chunk.endswith(b"\n\n") for chunk in chunks)
    assert frames(chunks)[-1] == b"data: [DONE]\n\n"


def test_a_paced_stream_goes_frame_by_frame(app: Flask) -> None:
    chunks = chunks_of(app, CHAT, **{"X-Mock-Chunk-Delay-Ms": "1"})
    assert len(chunks) == len(frames(chunks)) > 10


def test_coalescing_keeps_every_frame_in_order_and_bounds_a_chunk() -> None:
    sent = [b"data: %d\n\n" % n for n in range(1000)]
    chunks = list(coalesced(iter(sent), max_bytes=100))
    assert b"".join(chunks) == b"".join(sent)
    assert all(len(chunk) < 100 + len(sent[-1]) for chunk in chunks)
    assert list(coalesced(iter([]))) == []
