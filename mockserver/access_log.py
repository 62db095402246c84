"""An access log line per request, as a WSGI layer: method, path, status, latency, stub, fault.

The layer reads the status from ``start_response`` and the stub and fault from the request's
journal entry (which the API routes leave in the environ, see ``mockserver.journal``), and
logs when the answer is over: a body already in memory as soon as it is handed to the
server, a stream when the server closes it after its last byte, so a stream's line tells
how long it ran and which fault broke it. The layer is installed only when the log is on
(``MockConfig.access_log``), so a quiet server pays nothing for it.

Lines go to the ``mockserver.access`` logger at INFO; ``mockserver.serving.configure_logging``
prints them as text or as JSON (``harness serve --log-format``). When that set-up's own
handler is the only one they reach, a line is handed to it as its fields (see
:func:`print_lines_with`) instead of as a log record: a record costs the request its
caller lookup, its attributes and the handler's lock, and its formatting; the handler's
flushing thread formats the lines it is handed, the same text, with the next batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from mockserver.journal import ENTRY_ENVIRON_KEY

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

log = logging.getLogger("mockserver.access")
# The fields of a line, in order; a JSON line has them as keys.
FIELDS = ("method", "path", "status", "latency_ms", "stub_id", "fault")


class LinePrinter(Protocol):
    """A log handler that also takes access lines as fields (``mockserver.serving``'s)."""

    def defer_access_line(self, created: float, message: str, fields: dict[str, Any]) -> None:
        """Print the line for ``fields`` (``message``, logged at ``created``) with its batch."""


_printer: LinePrinter | None = None


def print_lines_with(handler: LinePrinter | None) -> None:
    """Hand the access lines to ``handler`` as fields while it is the only handler they reach."""
    global _printer
    _printer = handler


class AccessLog:
    """Logs one line for each request ``app`` answers."""

    def __init__(self, app: WSGIApp) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        status: list[str] = []

        def start(line: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            status[:] = [line]
            return start_response(line, headers, *exc)

        body = self._app(environ, start)

        def finish() -> None:
            _log_request(environ, status[0] if status else "0", started)

        if isinstance(body, list):
            # Kept a list: granian writes a list in one go, any other iterable chunk by chunk.
            finish()
            return body
        return _ClosingBody(body, finish)


class _ClosingBody:
    """``body``, calling ``on_close`` once the server closes it (after its last byte)."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self._body = body
        self._on_close = on_close

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._on_close()


def _log_request(environ: dict[str, Any], status_line: str, started: float) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    entry = environ.get(ENTRY_ENVIRON_KEY)
    fields = {
        "method": _printable(environ.get("REQUEST_METHOD", "")),
        "path": _printable(environ.get("PATH_INFO", "")),
        "status": int(status_line.split(" ", 1)[0]),
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        "stub_id": getattr(entry, "stub_id", None),
        "fault": getattr(entry, "fault", None),
    }
    text = (
        f"{fields['method']} {fields['path']} {fields['status']} {fields['latency_ms']}ms "
        f"stub={fields['stub_id'] or '-'} fault={fields['fault'] or '-'}"
    )
    printer = _printer
    if printer is not None and _reaches_only(printer):
        printer.defer_access_line(time.time(), text, fields)
    else:
        log.info(text, extra={"access": fields})


# A path is logged up to this many characters (a server takes URLs of 64 KB).
MAX_LOGGED_PATH = 1024
# Control characters, escaped: a CR LF in a (percent-decoded) path would print a line of the
# client's choosing, an access line no request made.
_CONTROLS = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, 0x85)} | {
    0x2028: "\\u2028",  # the line and paragraph separators some log viewers break at
    0x2029: "\\u2029",
    0x0D: "\\r",
    0x0A: "\\n",
    0x09: "\\t",
}


def _printable(text: str) -> str:
    cut = text if len(text) <= MAX_LOGGED_PATH else text[:MAX_LOGGED_PATH] + "…"
    return cut.translate(_CONTROLS)


def _reaches_only(handler: Any) -> bool:
    """Whether an access record would reach ``handler`` alone, through no filter."""
    parent = log.parent
    return (
        not log.handlers
        and not log.filters
        and log.propagate
        and parent is not None
        and parent.handlers == [handler]
        and not parent.filters
        and not parent.propagate
        and not handler.filters
        and handler.level <= logging.INFO
    )
