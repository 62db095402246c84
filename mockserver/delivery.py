"""Send a planned reply, a JSON body or SSE frames, with the request's faults applied.

Every API view answers through here, so latency, chunk pacing, ``disconnect``, ``malformed``
and ``timeout`` behave alike on every endpoint, for header faults and stub faults alike.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Response, request, stream_with_context

from harness.sse import dump_json
from mockserver.faults import (
    DISCONNECT,
    MALFORMED,
    FaultPlan,
    faulty_body,
    faulty_frames,
    held_then_dropped,
    socket_closer,
)
from mockserver.render.stream import SSE_HEADERS, sse_frames


def json_reply(body: Any, faults: FaultPlan, status: int = 200) -> Response:
    data = dump_json(body).encode("utf-8")
    if faults.fault not in (DISCONNECT, MALFORMED):
        return Response(data, status=status, mimetype="application/json")
    chunks = faulty_body(data, faults, socket_closer(request.environ))
    response = Response(chunks, status=status, mimetype="application/json")
    if faults.fault == DISCONNECT:
        # The full length is announced and half is sent: the client sees a cut body.
        response.headers["Content-Length"] = str(len(data))
    return response


def stream_reply(
    payloads: Iterable[Any], faults: FaultPlan, *, done_marker: bool, typed: bool
) -> Response:
    frames: Iterator[bytes] = sse_frames(payloads, done_marker=done_marker, typed=typed)
    if faults.fault in (DISCONNECT, MALFORMED) or faults.chunk_delay_ms:
        frames = faulty_frames(frames, faults, socket_closer(request.environ))
    response = Response(stream_with_context(frames), mimetype="text/event-stream")
    response.headers.update(SSE_HEADERS)
    return response


def held_reply() -> Response:
    """The ``timeout`` fault: no answer at all, then a dropped connection (bounded)."""
    return Response(held_then_dropped(socket_closer(request.environ)), mimetype="application/json")


def delay_first_byte(faults: FaultPlan) -> None:
    if faults.latency_ms:
        time.sleep(faults.latency_ms / 1000)
