"""Frame an iterator of payloads as server-sent events (the HTTP side is `delivery`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson

from harness.sse import dump_json_bytes, encode_done, encode_json_event
from mockserver.render.obfuscation import BLOCK, random_block

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
CHUNK_OBJECT = "chat.completion.chunk"
# What `"obfuscation":"<padding>"` adds to a chunk's JSON besides the padding itself.
_PAD_OPEN = b',"obfuscation":"'
_PAD_CLOSE = b'"}\n\n'
_PAD_FIELD_BYTES = len(_PAD_OPEN) + 1


class Written(Mapping[str, Any]):
    """A stream payload already written as JSON: ``data``, the bytes; ``kind``, its
    ``object`` (a chat chunk) or ``type`` (a Responses event).

    A stream's deltas repeat everything but their text: the renderers write the repeated
    parts once per stream and each delta's text into them, where writing a dict per delta
    was most of a stream's cost. The framers send ``data`` as it is; anything else that
    reads the payload sees the mapping it stands for.
    """

    __slots__ = ("_parsed", "data", "kind")

    def __init__(self, data: bytes, kind: str) -> None:
        self.data = data
        self.kind = kind
        self._parsed: dict[str, Any] | None = None

    def _mapping(self) -> dict[str, Any]:
        if self._parsed is None:
            self._parsed = orjson.loads(self.data)
        return self._parsed

    def __getitem__(self, key: str) -> Any:
        return self._mapping()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._mapping())

    def __len__(self) -> int:
        return len(self._mapping())


def sse_frames(
    payloads: Iterable[Any], *, done_marker: bool, typed: bool = False
) -> Iterator[bytes]:
    """Frame payloads: ``event: <type>`` lines for typed (Responses) events, then ``[DONE]``."""
    for payload in payloads:
        if type(payload) is Written:
            event = b"event: " + payload.kind.encode("utf-8") + b"\n" if typed else b""
            yield event + b"data: " + payload.data + b"\n\n"
        else:
            yield encode_json_event(payload, payload.get("type") if typed else None)
    if done_marker:
        yield encode_done()


def padded_chunk_frames(
    payloads: Iterable[Mapping[str, Any]], *, done_marker: bool
) -> Iterator[bytes]:
    """Chat frames whose chunks end with the live API's ``obfuscation`` padding.

    Each chunk's JSON is padded to a multiple of 16 bytes (see ``render.obfuscation``). The
    field is spliced into the JSON already written rather than added before writing: its
    length depends on the written length, and writing twice would double the cost of every
    frame. Only chunks are padded, not the ``{"error": ...}`` that ends a failed stream.
    """
    # The padding pool is kept in locals, not behind a method call: this loop runs once
    # per frame, and the calls cost more than the padding itself.
    pool = b""
    used = 0
    for payload in payloads:
        if type(payload) is Written and payload.kind == CHUNK_OBJECT:
            data = payload.data
        elif payload.get("object") != CHUNK_OBJECT:
            yield encode_json_event(payload)
            continue
        else:
            data = dump_json_bytes(payload)  # a non-empty object: it ends with "}"
        pad = BLOCK - (len(data) + _PAD_FIELD_BYTES) % BLOCK
        if used + pad > len(pool):
            pool, used = random_block(), 0
        yield b"".join((b"data: ", data[:-1], _PAD_OPEN, pool[used : used + pad], _PAD_CLOSE))
        used += pad
    if done_marker:
        yield encode_done()
