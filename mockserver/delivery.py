"""Send a planned reply, a JSON body or SSE frames, with the request's faults applied.

Every API view answers through here, so latency, chunk pacing and the faults that cut or
break the bytes behave alike on every endpoint, for header faults and stub faults alike.
What happens to the bytes is the fault's own answer (``Fault.wrap_body``,
``Fault.wrap_stream``); a fault that ends a stream with an error is rendered by the views
(with the endpoint's own error frames), and a JSON body asked to fail that way is answered
with the fault's ``error_without_stream``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from werkzeug.wrappers import Response

from harness.mock_headers import paced
from harness.sse import dump_json_bytes
from mockserver.errors import error_response
from mockserver.exchange import Exchange
from mockserver.faults import FaultPlan, HeldRequest, socket_closer
from mockserver.faults.base import dropped
from mockserver.journal_capture import RenderedJson
from mockserver.pausing import pause
from mockserver.render.stream import SSE_HEADERS

# What a held request announces and never sends, so the connection drops even where the
# server gives no socket to cut (see socket_closer).
_HELD_LENGTH = "2"


def json_reply(exchange: Exchange, body: Any, status: int = 200) -> Response:
    faults = exchange.faults
    fault = faults.fault
    if fault is None:
        return RenderedJson(dump_json_bytes(body), status=status, mimetype="application/json")
    error = fault.error_without_stream(faults)
    if error is not None:
        return error_response(error)
    data = dump_json_bytes(body)
    wrapped = fault.wrap_body(data, faults, socket_closer(exchange.request.environ))
    if wrapped is None:
        return Response(data, status=status, mimetype="application/json")
    response = Response(wrapped.chunks, status=status, mimetype="application/json")
    if wrapped.content_length is not None:
        response.headers["Content-Length"] = str(wrapped.content_length)
    return response


def stream_reply(exchange: Exchange, frames: Iterable[bytes]) -> Response:
    """Send SSE frames (see ``render.stream``), paced, cut or broken as the faults say."""
    faults = exchange.faults
    length = None
    if faults.fault is not None:
        wrapped = faults.fault.wrap_stream(frames, faults, socket_closer(exchange.request.environ))
        if wrapped is not None:
            frames, length = wrapped.chunks, wrapped.content_length
    if faults.chunk_delay_ms:
        frames = paced(frames, faults.chunk_delay_ms / 1000, pause)
    elif faults.fault is None:
        frames = coalesced(frames)
    response = Response(frames, mimetype="text/event-stream")
    response.headers.update(SSE_HEADERS)
    if length is not None:
        response.headers["Content-Length"] = str(length)
    return response


# The most bytes of frames handed to the server as one chunk (see coalesced).
COALESCED_BYTES = 16 * 1024


def coalesced(frames: Iterable[bytes], max_bytes: int = COALESCED_BYTES) -> Iterator[bytes]:
    """A stream no one paces, handed to the server in chunks of several frames.

    The server pulls a body from Python one chunk at a time, each pull a round trip through
    the GIL from its own threads: frame by frame, that was most of a stream's cost (a
    40-token reply is some 45 frames). Frames made as fast as they can be made reach the
    client together anyway; a client reads SSE by lines, whatever the HTTP chunks. A paced
    stream (X-Mock-Chunk-Delay-Ms) and a fault's stream, which cuts or breaks it at a frame,
    go frame by frame. The first chunk waits for at most ``max_bytes`` of frames.
    """
    batch: list[bytes] = []
    size = 0
    for frame in frames:
        batch.append(frame)
        size += len(frame)
        if size >= max_bytes:
            yield b"".join(batch)
            batch, size = [], 0
    if batch:
        yield b"".join(batch)


# The status of a held request once the hold is over: where a status line goes out at all
# (granian sends one before any body), it is a gateway's timeout, never a success.
HELD_STATUS = 504


def held_reply(environ: dict[str, Any], held: HeldRequest) -> Response:
    """A held request: no answer at all for ``held.hold_s``, then a dropped connection.

    The hold happens before the app returns, since granian sends the status line as soon
    as the app returns, before any body; and the announced length is never sent, so the
    connection drops even where the server gives no socket to cut (see socket_closer).
    That status line says 504: a 200 let a streaming SDK call return a stream as if it
    had succeeded (only reading it failed, past the SDK's retries).
    """
    pause(held.hold_s)
    response = Response(
        dropped(socket_closer(environ)), status=HELD_STATUS, mimetype="application/json"
    )
    response.headers["Content-Length"] = _HELD_LENGTH
    return response


def delay_first_byte(faults: FaultPlan) -> None:
    if faults.latency_ms:
        pause(faults.latency_ms / 1000)
