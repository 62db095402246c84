"""The mock's WSGI app served on granian's RSGI interface (``harness serve``'s default server,
``--server granian-rsgi``).

Under granian's WSGI interface (``--server granian``) every request takes one of the
worker's threads from its first byte to its last: a client that sends its body slowly holds
a thread for as long as it likes (granian reads a WSGI body with no timeout, and will not
add one: granian issue #728), a waiting answer (latency, a held fault, a paced stream)
holds one for its wait, and the threads hand the interpreter lock to each other at every
body read, tokenizer call and write, a context switch each (11 to 12 a request at 64
threads, measured with ``perf``), which showed in the p99 under load.

Here the worker's event loop reads the body (awaited, so a slow body costs no thread, and
bounded by :data:`BODY_READ_TIMEOUT_S`), then runs the app on the loop's own thread, in a
greenlet whose pauses the loop awaits (``pausing.py``): no thread, no hand-off. What may
block the thread in other ways runs on a thread pool, as under WSGI: the admin API (a
journal read waits for the entries still being written) and every request on a Redis store
(each state call is a network round trip). Measured side by side, in
``docs/guides/load-testing.md``: p99 halved, plain requests 5 to 15 % fewer a second
(granian's RSGI path costs more per request than its WSGI one, mostly Rust), streams about
as many.

By hand: no library serves a WSGI app on RSGI, let alone inline on the loop (granian's own
WSGI interface is the threaded one this replaces; a2wsgi bridges WSGI to ASGI on threads).
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from harness.openai_errors import INVALID_REQUEST, SERVER_ERROR, ErrorReply
from harness.sse import dump_json_bytes
from mockserver.pausing import run_pausable, started_pool

# How long a client may take to send a request's body, from its headers to its last byte.
BODY_READ_TIMEOUT_S = 30.0
_JSON = [("content-type", "application/json")]
# The names WSGI gives a request's body headers, without the HTTP_ prefix.
_BODY_HEADERS = {"CONTENT_TYPE", "CONTENT_LENGTH"}
_END = object()
# How often slow body reads are looked for: the timeout is kept within this.
_SWEEP_EVERY_S = 0.5
# The threads for the admin API, when the store is local (see RsgiBridge).
ADMIN_THREADS = 8


class _BodyTimedOut(Exception):
    """The request's body took longer than the bridge waits for one."""


Run = Callable[..., Awaitable[Any]]
WSGIApp = Callable[..., Iterable[bytes]]


class RsgiBridge:
    """An RSGI application (granian calls ``__rsgi__``) that serves a WSGI ``app``."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        max_body_bytes: int,
        threads: int,
        all_in_threads: bool = False,
        body_read_timeout_s: float = BODY_READ_TIMEOUT_S,
    ) -> None:
        self._app = app
        self._max_body_bytes = max_body_bytes
        # Only the admin API needs threads beside a local store: a few suffice.
        self._threads = threads if all_in_threads else min(threads, ADMIN_THREADS)
        self._all_in_threads = all_in_threads
        self._body_read_timeout_s = body_read_timeout_s
        self._pool: ThreadPoolExecutor | None = None  # made in the worker, after the fork
        # The requests whose bodies are being read, and when each must have arrived; the
        # sweep takes out the ones it cuts off.
        self._reading: dict[asyncio.Task[Any], float] = {}
        self._watching = False

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        if scope.proto != "http":
            return
        environ = wsgi_environ(scope)
        try:
            environ["wsgi.input"] = io.BytesIO(await self._read_body(environ, protocol))
        except _BodyTimedOut:
            return _answer_error(
                protocol,
                ErrorReply(
                    408,
                    f"The request body did not arrive within {self._body_read_timeout_s:g} s.",
                    INVALID_REQUEST,
                    code="request_timeout",
                ),
            )
        except (RuntimeError, OSError):  # the client went away while sending
            return None
        if self._all_in_threads or environ["PATH_INFO"].startswith("/_mock/"):
            loop = asyncio.get_running_loop()
            pool = self._thread_pool()

            def in_thread(function: Callable[..., Any], *args: Any) -> Awaitable[Any]:
                return loop.run_in_executor(pool, function, *args)

            await self._serve(environ, protocol, in_thread)
        else:
            await self._serve(environ, protocol, run_pausable)
        return None

    async def _read_body(self, environ: dict[str, Any], protocol: Any) -> bytes:
        """The body, or its first ``max_body_bytes + 1`` bytes: enough for the app's 413.

        A declared length over the limit is not read at all (the app answers 413 by the
        length). The read is cut off once ``body_read_timeout_s`` is over, by cancelling
        this request's task (see :meth:`_cut_off_slow_bodies`).
        """
        declared = environ.get("CONTENT_LENGTH")
        if declared is None and "HTTP_TRANSFER_ENCODING" not in environ:
            return b""  # no body (RFC 9112, 6.3)
        if declared is not None and declared.isascii() and declared.isdigit():
            length = int(declared)
            if length == 0 or length > self._max_body_bytes:
                return b""
        else:
            length = -1  # chunked, or a length the app refuses: read up to the limit
        task = asyncio.current_task()
        if task is None:  # not in a task: nothing to cancel, no deadline
            return await self._read(protocol, length)
        loop = asyncio.get_running_loop()
        if not self._watching:
            self._watching = True
            loop.call_later(_SWEEP_EVERY_S, self._cut_off_slow_bodies, loop)
        self._reading[task] = loop.time() + self._body_read_timeout_s
        try:
            return await self._read(protocol, length)
        except asyncio.CancelledError:
            if task in self._reading:  # cancelled by someone else than the sweep
                raise
            if hasattr(task, "uncancel"):  # Python 3.11+
                task.uncancel()
            raise _BodyTimedOut() from None
        finally:
            self._reading.pop(task, None)

    async def _read(self, protocol: Any, length: int) -> bytes:
        if length >= 0:
            body: bytes = await protocol()
            return body
        chunks: list[bytes] = []
        size = 0
        async for chunk in protocol:
            chunks.append(chunk)
            size += len(chunk)
            if size > self._max_body_bytes:
                break
        return b"".join(chunks)

    def _cut_off_slow_bodies(self, loop: asyncio.AbstractEventLoop) -> None:
        """Cancel the body reads past their deadline; then look again in a moment.

        One timer a worker, not one a request: a timer armed and cancelled for every
        request (``asyncio.wait_for``, ``loop.call_later``) cost some 10 % of the requests
        a second and put p99 at 40 to 50 ms under uvloop (benchmarks, a bare handler).
        """
        now = loop.time()
        for task, deadline in list(self._reading.items()):
            if deadline <= now:
                del self._reading[task]
                task.cancel()
        loop.call_later(_SWEEP_EVERY_S, self._cut_off_slow_bodies, loop)

    async def _serve(self, environ: dict[str, Any], protocol: Any, run: Run) -> None:
        try:
            status, headers, body = await run(_start, self._app, environ)
        except Exception:
            _answer_error(protocol, ErrorReply(500, "The server had an error.", SERVER_ERROR))
            raise
        if isinstance(body, bytes):
            protocol.response_bytes(status, headers, body)
            return
        try:
            transport = protocol.response_stream(status, headers)
            while (chunk := await run(next, body, _END)) is not _END:
                if chunk:
                    await transport.send_bytes(chunk)
        except (RuntimeError, OSError):  # the client went away (granian's ProtocolClosed)
            pass
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                await run(close)

    def _thread_pool(self) -> ThreadPoolExecutor:
        """The pool, its threads all started at its first use (see ``started_pool``)."""
        if self._pool is None:
            self._pool = started_pool(self._threads, "rsgi-blocking")
        return self._pool


def _start(app: WSGIApp, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], Any]:
    """Call the WSGI app: its status, headers, and its body as bytes or an open iterator."""
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [int(status[:3]), headers]
        return _no_write

    result = app(environ, start_response)
    if isinstance(result, list | tuple) and started:
        body = b"".join(result)
        close = getattr(result, "close", None)
        if close is not None:
            close()
        return started[0], started[1], body
    iterator = iter(result)
    first = None
    if not started:  # a generator that starts the response at its first chunk
        first = next(iterator, b"")
    return started[0], started[1], _OpenBody(first, iterator, result)


def _no_write(data: bytes) -> None:
    raise NotImplementedError("the mock's app never uses WSGI's write()")


class _OpenBody(Iterator[bytes]):
    """The app's body as it is sent: ``first`` (if read already), then the rest.

    Closing it closes the app's own iterable, not only its iterator: PEP 3333 asks for that,
    and the journal's entry and the access line of a streamed answer are made there.
    """

    def __init__(self, first: bytes | None, rest: Iterator[bytes], result: Iterable[bytes]) -> None:
        self._first = first
        self._rest = rest
        self._result = result

    def __next__(self) -> bytes:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        return next(self._rest)

    def close(self) -> None:
        close = getattr(self._result, "close", None)
        if close is not None:
            close()


def wsgi_environ(scope: Any) -> dict[str, Any]:
    """A WSGI environ (PEP 3333) for an RSGI request; its body, ``wsgi.input``, comes after."""
    server_host, _, server_port = scope.server.rpartition(":")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        # WSGI's native strings: the path's bytes, read as latin-1.
        "PATH_INFO": scope.path.encode("utf-8", "surrogateescape").decode("latin-1"),
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": server_host,
        "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": scope.client.rpartition(":")[0],
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in scope.headers.items():
        key = name.upper().replace("-", "_")
        if key not in _BODY_HEADERS:
            key = "HTTP_" + key
        # Repeated headers join with commas, as every WSGI server does.
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _answer_error(protocol: Any, error: ErrorReply) -> None:
    protocol.response_bytes(error.status, _JSON, dump_json_bytes(error.body()))
