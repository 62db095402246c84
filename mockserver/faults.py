"""Faults on demand: named ways to fail, chosen per request by header or by a stub.

``X-Mock-Fault: <name>`` picks one of :data:`FAULT_NAMES`; ``X-Mock-Latency-Ms`` delays the
first byte and ``X-Mock-Chunk-Delay-Ms`` paces stream frames. Errors come with the real
API's bodies and headers (a 429 carries ``Retry-After`` and the ``x-ratelimit-*`` family).

The faults that break a stream part-way (``disconnect``, ``malformed``, ``stream_error``)
act after ``X-Mock-Fault-After-Frames: N`` frames (3 unless asked); ``stream_error`` sends
the error the live API sends when a stream fails after it started, whose ``type`` and
``code`` ``X-Mock-Fault-Error-Type`` and ``X-Mock-Fault-Error-Code`` choose.
"""

from __future__ import annotations

import contextlib
import re
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from mockserver.errors import SERVER_ERROR, ErrorReply, MockError

FAULT_HEADER = "X-Mock-Fault"
LATENCY_HEADER = "X-Mock-Latency-Ms"
CHUNK_DELAY_HEADER = "X-Mock-Chunk-Delay-Ms"
AFTER_FRAMES_HEADER = "X-Mock-Fault-After-Frames"
ERROR_TYPE_HEADER = "X-Mock-Fault-Error-Type"
ERROR_CODE_HEADER = "X-Mock-Fault-Error-Code"
MAX_LATENCY_MS = 60_000
MAX_CHUNK_DELAY_MS = 10_000
# Far more frames than any stream the mock sends: a larger count fails at the stream's end.
MAX_AFTER_FRAMES = 100_000
# An error type or code as the API writes them (`server_error`, `rate_limit_exceeded`).
_ERROR_WORD = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
# How long `timeout` holds a request before dropping it unanswered: long past any client
# timeout worth testing, short enough that a held worker thread always comes back.
TIMEOUT_HOLD_S = 30.0
# Frames sent before `disconnect` cuts a stream, `malformed` breaks one or `stream_error`
# ends one, unless X-Mock-Fault-After-Frames says otherwise.
FRAMES_BEFORE_FAULT = 3
# How long a cut waits, where the server gives no socket, for what was sent before it to be
# written (see socket_closer): far longer than a loopback write, short beside any timeout.
CUT_GRACE_S = 0.05

RATE_LIMIT = "rate_limit"
SERVER_ERROR_FAULT = "server_error"
OVERLOADED = "overloaded"
TIMEOUT = "timeout"
DISCONNECT = "disconnect"
MALFORMED = "malformed"
STREAM_ERROR = "stream_error"
FAULT_NAMES = frozenset(
    {RATE_LIMIT, SERVER_ERROR_FAULT, OVERLOADED, TIMEOUT, DISCONNECT, MALFORMED, STREAM_ERROR}
)
# Faults answered with an error instead of a reply.
ERROR_FAULTS = frozenset({RATE_LIMIT, SERVER_ERROR_FAULT, OVERLOADED})
# Faults that break a stream after some frames (`X-Mock-Fault-After-Frames`).
FRAME_FAULTS = frozenset({DISCONNECT, MALFORMED, STREAM_ERROR})
STREAM_ERROR_MESSAGE = (
    "The server had an error processing your request. Sorry about that! You can retry your "
    "request, or contact us through our help center if you keep seeing this error."
)


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
class FaultPlan:
    """What a request asked to go wrong (nothing, by default)."""

    fault: str | None = None
    latency_ms: int = 0
    chunk_delay_ms: int = 0
    after_frames: int = FRAMES_BEFORE_FAULT
    stream_error: StreamError = StreamError()

    def with_fault(self, fault: str | None) -> FaultPlan:
        return replace(self, fault=fault or self.fault)


NO_FAULT = FaultPlan()


# Every request header the mock reads, and its name in a WSGI environ.
MOCK_HEADERS = (
    FAULT_HEADER,
    LATENCY_HEADER,
    CHUNK_DELAY_HEADER,
    AFTER_FRAMES_HEADER,
    ERROR_TYPE_HEADER,
    ERROR_CODE_HEADER,
)
_ENVIRON_NAMES = tuple("HTTP_" + name.upper().replace("-", "_") for name in MOCK_HEADERS)


class HeaderSource(Protocol):
    def get(self, key: str) -> str | None: ...


def read_fault_headers(headers: HeaderSource) -> FaultPlan:
    """The fault a request asks for; a 400 listing the valid values for a bad header."""
    environ = getattr(headers, "environ", None)
    if isinstance(environ, dict):
        # Most requests carry none of these headers, and a lookup in the WSGI environ
        # answers that in a fraction of werkzeug's header lookup (about 1 µs each).
        for name in _ENVIRON_NAMES:
            if name in environ:
                break
        else:
            return NO_FAULT
    fault = headers.get(FAULT_HEADER)
    if fault is not None:
        fault = fault.strip().lower()
        if fault not in FAULT_NAMES:
            raise MockError(
                ErrorReply(
                    400,
                    f"Invalid {FAULT_HEADER} {fault!r}; "
                    f"use one of: {', '.join(sorted(FAULT_NAMES))}.",
                    param=FAULT_HEADER,
                    code="invalid_mock_fault",
                )
            )
    plan = FaultPlan(
        fault=fault,
        latency_ms=_whole_number(headers, LATENCY_HEADER, MAX_LATENCY_MS, "milliseconds") or 0,
        chunk_delay_ms=(
            _whole_number(headers, CHUNK_DELAY_HEADER, MAX_CHUNK_DELAY_MS, "milliseconds") or 0
        ),
    )
    after = _whole_number(headers, AFTER_FRAMES_HEADER, MAX_AFTER_FRAMES, "frames")
    error_type = _error_word(headers, ERROR_TYPE_HEADER)
    error_code = _error_word(headers, ERROR_CODE_HEADER)
    if after is None and error_type is None and error_code is None:
        return plan
    _check_applies(fault, after is not None, error_type or error_code)
    error = plan.stream_error
    return replace(
        plan,
        after_frames=FRAMES_BEFORE_FAULT if after is None else after,
        stream_error=replace(
            error, type=error_type or error.type, code=error_code or error_type or error.code
        ),
    )


def _check_applies(fault: str | None, after: bool, error: str | None) -> None:
    # Without X-Mock-Fault a stub may still choose the fault; with another fault, these
    # headers would be silently ignored, which hides a mistake in the test that sent them.
    if fault is None:
        return
    if after and fault not in FRAME_FAULTS:
        _refuse(AFTER_FRAMES_HEADER, ", ".join(sorted(FRAME_FAULTS)), fault)
    if error and fault != STREAM_ERROR:
        _refuse(ERROR_TYPE_HEADER, STREAM_ERROR, fault, also=ERROR_CODE_HEADER)


def _refuse(name: str, kinds: str, fault: str, also: str | None = None) -> None:
    names = f"{name} and {also}" if also else name
    raise MockError(
        ErrorReply(
            400,
            f"{names} apply only with {FAULT_HEADER}: {kinds}, not {fault!r}.",
            param=name,
            code="invalid_mock_header",
        )
    )


def _whole_number(headers: HeaderSource, name: str, maximum: int, unit: str) -> int | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        value = -1
    if not 0 <= value <= maximum:
        raise MockError(
            ErrorReply(
                400,
                f"Invalid {name} {raw!r}; use a whole number of {unit} from 0 to {maximum}.",
                param=name,
                code="invalid_mock_header",
            )
        )
    return value


def _error_word(headers: HeaderSource, name: str) -> str | None:
    raw = headers.get(name)
    if raw is None:
        return None
    value = raw.strip()
    if not _ERROR_WORD.fullmatch(value):
        raise MockError(
            ErrorReply(
                400,
                f"Invalid {name} {raw!r}; use 1 to 64 letters, digits or _ . : - "
                "(e.g. server_error, rate_limit_exceeded).",
                param=name,
                code="invalid_mock_header",
            )
        )
    return value


def stub_stream_error(faults: FaultPlan, spec: Mapping[str, Any]) -> FaultPlan:
    """The plan of a stub's ``{"stream_error": {...}}`` reply (fields as the stub schema has)."""
    error = faults.stream_error
    error_type = spec.get("type")
    code = spec.get("code")
    after = spec.get("after_frames")
    return replace(
        faults,
        fault=STREAM_ERROR,
        after_frames=faults.after_frames if after is None else int(after),
        stream_error=StreamError(
            type=str(error_type or error.type),
            code=str(code or error_type or error.code),
            message=str(spec.get("message") or error.message),
            param=spec.get("param"),
        ),
    )


# What the real API sends with a 429: when to retry (``retry-after-ms`` is OpenAI's own,
# read first by the official SDKs) and the state of the request and token budgets.
RATE_LIMIT_HEADERS = {
    "Retry-After": "1",
    "retry-after-ms": "1000",
    "x-ratelimit-limit-requests": "500",
    "x-ratelimit-remaining-requests": "0",
    "x-ratelimit-reset-requests": "1s",
    "x-ratelimit-limit-tokens": "10000",
    "x-ratelimit-remaining-tokens": "0",
    "x-ratelimit-reset-tokens": "6s",
}


def fault_error(fault: str, model: str = "gpt-4") -> ErrorReply | None:
    """The error reply of an error fault (rate limit, server error, overloaded), else None."""
    if fault == RATE_LIMIT:
        return ErrorReply(
            429,
            f"Rate limit reached for {model} in organization org-mock on requests per min "
            "(RPM): Limit 500, Used 500, Requested 1. Please try again in 1s.",
            "requests",
            None,
            "rate_limit_exceeded",
            headers=RATE_LIMIT_HEADERS,
        )
    if fault == SERVER_ERROR_FAULT:
        return ErrorReply(
            500,
            "The server had an error while processing your request. Sorry about that!",
            SERVER_ERROR,
        )
    if fault == OVERLOADED:
        return ErrorReply(
            503,
            "The engine is currently overloaded, please try again later.",
            SERVER_ERROR,
            code="overloaded",
        )
    return None


SocketCloser = Callable[[], None]


def socket_closer(environ: Mapping[str, Any]) -> SocketCloser:
    """A function that cuts the client's connection at once, as a dropped network would.

    WSGI has no way to abort a response. gunicorn and Werkzeug expose the client socket in
    the environ, and shutting it down makes the client see an incomplete body. granian
    exposes none, and an exception inside the body ends a chunked stream as if it were
    complete; so every cut reply also announces a Content-Length it never reaches (see
    ``delivery``), and a server ends such a body by closing the connection. granian writes
    what it was handed asynchronously, and closing drops what it has not written yet; so
    without a socket, closing waits a moment first, for the part before the cut to go out.
    """
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")

    def close() -> None:
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):  # already gone
                sock.shutdown(socket.SHUT_RDWR)
        else:
            time.sleep(CUT_GRACE_S)

    return close


def dropped(close: SocketCloser) -> Iterator[bytes]:
    """The body of a `timeout` fault once held: nothing, then a dropped connection."""
    close()
    yield from ()


def _flush_then_cut(close: SocketCloser) -> Iterator[bytes]:
    # Whoever iterates the body may hold a chunk back (the journal does, to learn which is
    # the last): an empty chunk first lets the part before the cut reach the server.
    yield b""
    close()


def faulty_frames(frames: Iterable[bytes], plan: FaultPlan, close: SocketCloser) -> Iterator[bytes]:
    """Stream frames paced by the chunk delay, cut or broken when the plan says so."""
    delay = plan.chunk_delay_ms / 1000
    for position, frame in enumerate(frames):
        if position and delay:
            time.sleep(delay)
        if position == plan.after_frames:
            if plan.fault == DISCONNECT:
                yield from _flush_then_cut(close)
                return
            if plan.fault == MALFORMED:
                yield b'data: {"id": "broken", "choices": [{"delta": {"content": "\n\n'
        yield frame


def faulty_body(body: bytes, plan: FaultPlan, close: SocketCloser) -> Iterator[bytes]:
    """A JSON body cut half-way (``disconnect``) or truncated into invalid JSON (``malformed``)."""
    half = body[: max(1, len(body) // 2)]
    if plan.fault == DISCONNECT:
        yield half
        yield from _flush_then_cut(close)
        return
    if plan.fault == MALFORMED:
        yield half
        return
    yield body
