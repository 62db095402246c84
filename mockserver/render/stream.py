"""Frame an iterator of payloads as server-sent events (the HTTP side is `delivery`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from harness.sse import dump_json_bytes, encode_done, encode_json_event
from mockserver.render.obfuscation import BLOCK, random_block

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
CHUNK_OBJECT = "chat.completion.chunk"
# What `"obfuscation":"<padding>"` adds to a chunk's JSON besides the padding itself.
_PAD_OPEN = b',"obfuscation":"'
_PAD_CLOSE = b'"}\n\n'
_PAD_FIELD_BYTES = len(_PAD_OPEN) + 1


def sse_frames(
    payloads: Iterable[Any], *, done_marker: bool, typed: bool = False
) -> Iterator[bytes]:
    """Frame payloads: ``event: <type>`` lines for typed (Responses) events, then ``[DONE]``."""
    for payload in payloads:
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
        if payload.get("object") != CHUNK_OBJECT:
            yield encode_json_event(payload)
            continue
        data = dump_json_bytes(payload)  # a non-empty object: it ends with "}"
        pad = BLOCK - (len(data) + _PAD_FIELD_BYTES) % BLOCK
        if used + pad > len(pool):
            pool, used = random_block(), 0
        yield b"".join((b"data: ", data[:-1], _PAD_OPEN, pool[used : used + pad], _PAD_CLOSE))
        used += pad
    if done_marker:
        yield encode_done()
