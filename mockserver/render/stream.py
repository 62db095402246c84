"""Frame an iterator of payloads as server-sent events (the HTTP side is `delivery`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

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
