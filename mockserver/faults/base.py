"""What a fault is: one named way for a request to go wrong, asked at each step of the pipeline.

A request's :class:`FaultPlan` holds the :class:`Fault` it asked for (by ``X-Mock-Fault`` or
a stub's reply) and the settings that tune it. Each step of the pipeline asks the fault
what to do there and does nothing of its own for a fault it does not know:

1. ``hold_s`` and :meth:`Fault.error`: answer without a reply at all (held, then dropped)
   or with an error instead of one. For a header fault this is decided before the body is
   read (``api.guard``); for a stub's fault, once the stub matched (``stub_replies``).
2. :meth:`Fault.stream_failure`: the error a stream ends with part-way, which each endpoint
   renders as its own frames (``api.chat``, ``api.responses``);
   :meth:`Fault.error_without_stream`: what a request that asked for no stream gets instead.
3. :meth:`Fault.wrap_body` and :meth:`Fault.wrap_stream`: the bytes as sent, cut or broken
   (``delivery``).

A new fault is one subclass in a family module, listed in ``registry.FAULTS``.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from mockserver.errors import SERVER_ERROR, ErrorReply, MockError
from mockserver.pausing import pause

FAULT_HEADER = "X-Mock-Fault"
# The headers that tune a fault (see Fault.headers), read by ``faults.headers``.
AFTER_FRAMES_HEADER = "X-Mock-Fault-After-Frames"
ERROR_TYPE_HEADER = "X-Mock-Fault-Error-Type"
ERROR_CODE_HEADER = "X-Mock-Fault-Error-Code"
# Frames sent before a fault that breaks a stream acts, unless X-Mock-Fault-After-Frames
# says otherwise.
FRAMES_BEFORE_FAULT = 3
# How long a cut waits, where the server gives no socket, for what was sent before it to be
# written (see socket_closer): far longer than a loopback write, short beside any timeout.
CUT_GRACE_S = 0.05
STREAM_ERROR_MESSAGE = (
    "The server had an error processing your request. Sorry about that! You can retry your "
    "request, or contact us through our help center if you keep seeing this error."
)

SocketCloser = Callable[[], None]


@dataclass(frozen=True)
class StreamError:
    """The error a stream that fails after it started carries (``stream_error``)."""

    type: str = SERVER_ERROR
    code: str = SERVER_ERROR
    message: str = STREAM_ERROR_MESSAGE
    param: str | None = None

    def details(self) -> dict[str, str | None]:
        """The error object as a Responses ``error`` event nests it (live key order)."""
        return {"type": self.type, "code": self.code, "message": self.message, "param": self.param}

    def reply(self) -> ErrorReply:
        """The same error as an HTTP 500, for a request that asked for no stream."""
        return ErrorReply(500, self.message, self.type, self.param, self.code)


@dataclass(frozen=True)
class Wrapped:
    """A body or stream as a fault sends it: its chunks, and the length it announces.

    A cut reply announces the whole length and sends less, so the client sees a body cut
    short even where the server gives no socket to shut (see :func:`socket_closer`).
    """

    chunks: Iterable[bytes]
    content_length: int | None = None


class Fault:
    """One named way to fail. Subclasses set ``name`` and ``summary`` and override the
    steps they change; every step left alone answers "nothing to do here"."""

    name: ClassVar[str]
    # What the client sees, in one line (the README's table of faults says the same).
    summary: ClassVar[str]
    # Request headers besides X-Mock-Fault that tune this fault; sent with another fault
    # they are refused, since silently ignoring them would hide a mistake in the test.
    headers: ClassVar[tuple[str, ...]] = ()
    # Seconds the request is held unanswered before the connection drops; None: not held.
    hold_s: ClassVar[float | None] = None

    def error(self, model: str) -> ErrorReply | None:
        """The error answered instead of a reply, or None."""
        return None

    def stream_failure(self, plan: FaultPlan) -> StreamError | None:
        """The error a stream ends with after ``plan.after_frames`` frames, or None."""
        return None

    def error_without_stream(self, plan: FaultPlan) -> ErrorReply | None:
        """The error a request that asked for no stream gets instead of its body, or None."""
        return None

    def wrap_body(self, body: bytes, plan: FaultPlan, close: SocketCloser) -> Wrapped | None:
        """A JSON body as sent, or None to send it whole."""
        return None

    def wrap_stream(
        self, frames: Iterable[bytes], plan: FaultPlan, close: SocketCloser
    ) -> Wrapped | None:
        """SSE frames as sent (before pacing), or None to send them as they are."""
        return None

    def __repr__(self) -> str:
        return f"<fault {self.name}>"


@dataclass(frozen=True)
class FaultPlan:
    """What a request asked to go wrong (nothing, by default)."""

    fault: Fault | None = None
    latency_ms: int = 0
    chunk_delay_ms: int = 0
    after_frames: int = FRAMES_BEFORE_FAULT
    stream_error: StreamError = StreamError()

    @property
    def name(self) -> str | None:
        """The fault's name as the journal shows it."""
        return self.fault.name if self.fault is not None else None

    def with_fault(self, fault: Fault | None) -> FaultPlan:
        return replace(self, fault=fault or self.fault)

    def stream_failure(self) -> StreamError | None:
        return self.fault.stream_failure(self) if self.fault is not None else None

    def error_without_stream(self) -> ErrorReply | None:
        return self.fault.error_without_stream(self) if self.fault is not None else None


NO_FAULT = FaultPlan()


class HeldRequest(Exception):
    """The request is answered with nothing for ``hold_s``, then a dropped connection."""

    def __init__(self, hold_s: float) -> None:
        super().__init__(f"held for {hold_s} s")
        self.hold_s = hold_s


def end_before_reply(fault: Fault, model: str) -> None:
    """End the request now if ``fault`` answers without a reply: held, or with its error."""
    if fault.hold_s is not None:
        raise HeldRequest(fault.hold_s)
    error = fault.error(model)
    if error is not None:
        raise MockError(error)


def socket_closer(environ: Mapping[str, Any]) -> SocketCloser:
    """A function that cuts the client's connection at once, as a dropped network would.

    WSGI has no way to abort a response. gunicorn and Werkzeug expose the client socket in
    the environ, and shutting it down makes the client see an incomplete body. granian
    exposes none, and an exception inside the body ends a chunked stream as if it were
    complete; so every cut reply also announces a Content-Length it never reaches (see
    :class:`Wrapped`), and a server ends such a body by closing the connection. granian
    writes what it was handed asynchronously, and closing drops what it has not written
    yet; so without a socket, closing waits a moment first, for the part before the cut.
    """
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")

    def close() -> None:
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):  # already gone
                sock.shutdown(socket.SHUT_RDWR)
        else:
            pause(CUT_GRACE_S)

    return close


def flush_then_cut(close: SocketCloser) -> Iterator[bytes]:
    """End a body by cutting the connection, after what came before it has gone out."""
    # Whoever iterates the body may hold a chunk back (the journal does, to learn which is
    # the last): an empty chunk first lets the part before the cut reach the server.
    yield b""
    close()


def dropped(close: SocketCloser) -> Iterator[bytes]:
    """The body of a held request once the hold is over: nothing, then a dropped connection."""
    close()
    yield from ()
