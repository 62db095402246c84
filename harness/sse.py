"""Server-sent events: one encoder and one decoder, shared by the mock and the checks.

Written by hand because the wire is tiny and fixed (WHATWG "event stream" format), and
the libraries that parse SSE (httpx-sse, sseclient) are bound to an HTTP response object,
while the harness must also read a transcript saved to a file or a cassette.
The real API frames chat chunks as ``data: {json}\\n\\n`` ending with ``data: [DONE]\\n\\n``,
and Responses events as ``event: <type>\\ndata: {json}\\n\\n``; JSON is compact.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

DONE = "[DONE]"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched event: its ``event:`` name (``None`` when absent) and joined ``data:``."""

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None

    def json(self) -> Any:
        """The data parsed as JSON (raises ``ValueError`` if it is not JSON)."""
        return json.loads(self.data)


def dump_json(payload: Any) -> str:
    """Compact JSON as the real API writes it, non-ASCII kept as UTF-8 (see dump_json_bytes)."""
    return dump_json_bytes(payload).decode("utf-8")


def dump_json_bytes(payload: Any) -> bytes:
    """Compact UTF-8 JSON as the real API writes it.

    orjson writes it about ten times faster than the standard library (it is on every
    response's path); what orjson refuses falls back to the standard library: integers
    beyond 64 bits, and lone surrogates (which clients and fuzzers do send), which cannot
    be UTF-8 encoded and so are written as ASCII escapes, still valid JSON.
    """
    try:
        return orjson.dumps(payload)
    except (TypeError, orjson.JSONEncodeError):
        pass
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def encode_event(data: str, event: str | None = None) -> bytes:
    """Frame one event; multi-line data becomes several ``data:`` lines."""
    lines = [f"event: {event}"] if event is not None else []
    lines.extend(f"data: {line}" for line in data.split("\n"))
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def encode_json_event(payload: Any, event: str | None = None) -> bytes:
    # Compact JSON has no line breaks (they are escaped inside strings): one data line.
    data = dump_json_bytes(payload)
    if event is None:
        return b"data: " + data + b"\n\n"
    return b"event: " + event.encode("utf-8") + b"\ndata: " + data + b"\n\n"


def encode_done() -> bytes:
    return encode_event(DONE)


def decode_stream(stream: str | bytes | Iterable[str]) -> list[ServerSentEvent]:
    """Parse a whole transcript (text, bytes, or an iterable of lines)."""
    if isinstance(stream, bytes):
        stream = stream.decode("utf-8")
    # Only CR, LF and CRLF end a line in SSE; str.splitlines would also split on U+2028,
    # U+0085 and friends, which JSON written with ensure_ascii=False may carry raw.
    lines = _LINE_BREAK.split(stream) if isinstance(stream, str) else stream
    return list(iter_events(lines))


def iter_events(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    """Yield events from lines (without their line endings), per the WHATWG algorithm."""
    data: list[str] = []
    event: str | None = None
    event_id: str | None = None
    retry: int | None = None
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data or event is not None:
                yield ServerSentEvent("\n".join(data), event, event_id, retry)
            data, event, retry = [], None, None
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id":
            event_id = value
        elif name == "retry" and value.isdigit():
            retry = int(value)
    if data or event is not None:
        yield ServerSentEvent("\n".join(data), event, event_id, retry)
