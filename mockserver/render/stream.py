"""Turn an iterator of payloads into an SSE HTTP response."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from flask import Response

from harness.sse import encode_done, encode_json_event

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse_frames(
    payloads: Iterable[Any], *, done_marker: bool, typed: bool = False
) -> Iterator[bytes]:
    """Frame payloads: ``event: <type>`` lines for typed (Responses) events, then ``[DONE]``."""
    for payload in payloads:
        yield encode_json_event(payload, payload.get("type") if typed else None)
    if done_marker:
        yield encode_done()


def sse_response(payloads: Iterable[Any], *, done_marker: bool, typed: bool = False) -> Response:
    frames = sse_frames(payloads, done_marker=done_marker, typed=typed)
    response = Response(frames, mimetype="text/event-stream")
    response.headers.update(SSE_HEADERS)
    return response
