"""Send a planned reply, a JSON body or SSE frames, with the request's faults applied.

Every API view answers through here, so latency, chunk pacing, ``disconnect``, ``malformed``
and ``timeout`` behave alike on every endpoint, for header faults and stub faults alike.
``stream_error`` is rendered by the views (it ends a stream with the endpoint's own error
frames); a JSON body asked to fail that way is answered with the error as a 500.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from werkzeug.wrappers import Response

from harness.sse import dump_json_bytes
from mockserver.errors import error_response
from mockserver.exchange import Exchange
from mockserver.faults import (
    DISCONNECT,
    MALFORMED,
    STREAM_ERROR,
    TIMEOUT_HOLD_S,
    FaultPlan,
    dropped,
    faulty_body,
    faulty_frames,
    socket_closer,
)
from mockserver.render.stream import SSE_HEADERS


def json_reply(exchange: Exchange, body: Any, status: int = 200) -> Response:
    faults = exchange.faults
    if faults.fault == STREAM_ERROR:
        # No stream to fail part-way: the error comes as the status a failed request gets.
        return error_response(faults.stream_error.reply())
    data = dump_json_bytes(body)
    if faults.fault not in (DISCONNECT, MALFORMED):
        return Response(data, status=status, mimetype="application/json")
    chunks = faulty_body(data, faults, socket_closer(exchange.request.environ))
    response = Response(chunks, status=status, mimetype="application/json")
    if faults.fault == DISCONNECT:
        # The full length is announced and half is sent: the client sees a cut body.
        response.headers["Content-Length"] = str(len(data))
    return response


def stream_reply(exchange: Exchange, frames: Iterable[bytes]) -> Response:
    """Send SSE frames (see ``render.stream``), paced, cut or broken as the faults say."""
    faults = exchange.faults
    length = None
    if faults.fault in (DISCONNECT, MALFORMED):
        frames = list(frames)
        # Past the stream's end, the last frame is the one cut or broken.
        faults = replace(faults, after_frames=min(faults.after_frames, max(len(frames) - 1, 0)))
    if faults.fault == DISCONNECT:
        # The whole stream's length is announced and part is sent (see socket_closer).
        length = sum(len(frame) for frame in frames)
    if faults.fault in (DISCONNECT, MALFORMED) or faults.chunk_delay_ms:
        frames = faulty_frames(frames, faults, socket_closer(exchange.request.environ))
    response = Response(frames, mimetype="text/event-stream")
    response.headers.update(SSE_HEADERS)
    if length is not None:
        response.headers["Content-Length"] = str(length)
    return response


def held_reply(environ: dict[str, Any], hold_s: float = TIMEOUT_HOLD_S) -> Response:
    """The ``timeout`` fault: no answer at all for ``hold_s``, then a dropped connection.

    The hold happens before the app returns, since granian sends the status line as soon
    as the app returns, before any body; and the announced length is never sent, so the
    connection drops even where the server gives no socket to cut (see socket_closer).
    """
    time.sleep(hold_s)
    response = Response(dropped(socket_closer(environ)), mimetype="application/json")
    response.headers["Content-Length"] = "2"
    return response


def delay_first_byte(faults: FaultPlan) -> None:
    if faults.latency_ms:
        time.sleep(faults.latency_ms / 1000)
