"""A stream no one paces reaches the server in a few chunks of whole frames; a paced stream
and a fault's stream go frame by frame (the pacing and the cut are per frame)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.delivery import coalesced
from tests.fixtures.wsgi import post_environ

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
    headers = {"Authorization": "Bearer sk-test", **headers}
    environ = post_environ("/v1/chat/completions", orjson.dumps(body), headers=headers)
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
