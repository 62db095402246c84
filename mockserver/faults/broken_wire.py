"""Faults that break the bytes on the wire: a body or stream cut short, or left invalid.

A stream breaks after ``X-Mock-Fault-After-Frames`` frames (3 unless asked); a count past
the stream's end breaks its last frame. A JSON body breaks half-way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import ClassVar

from mockserver.faults.base import (
    AFTER_FRAMES_HEADER,
    Fault,
    FaultPlan,
    SocketCloser,
    Wrapped,
    flush_then_cut,
)

# The start of a chat chunk that never ends: what `malformed` sends in place of a frame.
BROKEN_FRAME = b'data: {"id": "broken", "choices": [{"delta": {"content": "\n\n'


def _half(body: bytes) -> bytes:
    return body[: max(1, len(body) // 2)]


def _last_frame_at_most(frames: list[bytes], after: int) -> int:
    # Past the stream's end, the last frame is the one cut or broken.
    return min(after, max(len(frames) - 1, 0))


class Disconnect(Fault):
    name: ClassVar[str] = "disconnect"
    summary: ClassVar[str] = (
        "the body is cut: a stream after 3 frames with no `[DONE]`, a JSON body half-way"
    )
    headers: ClassVar[tuple[str, ...]] = (AFTER_FRAMES_HEADER,)

    def wrap_body(self, body: bytes, plan: FaultPlan, close: SocketCloser) -> Wrapped:
        # The full length is announced and half is sent: the client sees a cut body.
        return Wrapped(_cut_body(_half(body), close), content_length=len(body))

    def wrap_stream(self, frames: Iterable[bytes], plan: FaultPlan, close: SocketCloser) -> Wrapped:
        sent = list(frames)
        cut_at = _last_frame_at_most(sent, plan.after_frames)
        # The whole stream's length is announced and part is sent (see socket_closer).
        length = sum(len(frame) for frame in sent)
        return Wrapped(_cut_stream(sent, cut_at, close), content_length=length)


def _cut_body(half: bytes, close: SocketCloser) -> Iterator[bytes]:
    yield half
    yield from flush_then_cut(close)


def _cut_stream(frames: list[bytes], cut_at: int, close: SocketCloser) -> Iterator[bytes]:
    yield from frames[:cut_at]
    if cut_at < len(frames):  # an empty stream has nothing to cut
        yield from flush_then_cut(close)


class Malformed(Fault):
    name: ClassVar[str] = "malformed"
    summary: ClassVar[str] = "a frame (or body) that is not valid JSON"
    headers: ClassVar[tuple[str, ...]] = (AFTER_FRAMES_HEADER,)

    def wrap_body(self, body: bytes, plan: FaultPlan, close: SocketCloser) -> Wrapped:
        return Wrapped(iter((_half(body),)))

    def wrap_stream(self, frames: Iterable[bytes], plan: FaultPlan, close: SocketCloser) -> Wrapped:
        sent = list(frames)
        broken_at = _last_frame_at_most(sent, plan.after_frames)
        return Wrapped(_broken_stream(sent, broken_at))


def _broken_stream(frames: list[bytes], broken_at: int) -> Iterator[bytes]:
    for position, frame in enumerate(frames):
        # The broken frame and the one it precedes go out together, as one write.
        yield BROKEN_FRAME + frame if position == broken_at else frame
