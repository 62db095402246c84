"""Run the mock under a production WSGI server: gunicorn or granian, configured in code.

Both build the app once and fork the workers from that process: gunicorn with
``preload_app``, granian by forking its workers from the process that ran
:func:`run_granian`, whose factory hands them the app it built. Where granian starts its
workers fresh instead (a platform without fork), each builds the app from a configuration
passed in the environment (:func:`app_from_environment`), the parent having prepared the
shared state (the state file, stubs loaded once).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import gc
import importlib.util
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, MutableMapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from flask import Flask
from gunicorn.app.base import BaseApplication

from harness.errors import UsageError
from harness.sse import dump_json_bytes
from mockserver import access_log, process_exit
from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.errors import INVALID_REQUEST, SERVER_ERROR, ErrorReply
from mockserver.idle_memory import trim_when_idle
from mockserver.rsgi_bridge import RsgiBridge

# A WSGI application: the Flask app, or any callable(environ, start_response).
WSGIApp = Callable[..., Any]
CONFIG_ENV = "HARNESS_MOCK_CONFIG"
# The threads a worker may run requests on (the RSGI bridge's pool for what may block).
THREADS_ENV = "HARNESS_MOCK_THREADS"
# The pid of the process that starts granian's workers, which they must not outlive.
MASTER_PID_ENV = "HARNESS_MOCK_MASTER_PID"
# The app run_granian built in this process, which forked workers inherit.
_built_before_fork: Flask | None = None
# How long a worker may stay silent before gunicorn restarts it: a held `timeout` fault or
# a slow stream keeps a thread busy, never the whole worker, so this is generous.
WORKER_TIMEOUT_S = 120
# How long a stopping worker may finish its running requests (a held `timeout` fault, a
# slow stream) before it is ended regardless.
GRACEFUL_TIMEOUT_S = 5
# How often a worker checks that its master is alive.
PARENT_CHECK_S = 0.25


class _GunicornApp(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    def __init__(self, app: WSGIApp, options: dict[str, Any]) -> None:
        self._app = app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApp:
        return self._app


def run_gunicorn(
    app: WSGIApp,
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    worker_class: str = "gthread",
) -> None:
    """Serve until interrupted (Ctrl-C / SIGTERM stop it cleanly)."""
    options = {
        "bind": _bind(host, port),
        "workers": workers,
        "worker_class": worker_class,
        "threads": threads,
        # The app is built once in the master and forked, so workers start instantly and
        # share the loaded specs' memory.
        "preload_app": True,
        "graceful_timeout": GRACEFUL_TIMEOUT_S,
        "post_worker_init": _watch_master,
        "timeout": WORKER_TIMEOUT_S,
        "keepalive": 5,
        "accesslog": None,
        "loglevel": "warning",
    }
    if worker_class == "gevent":
        options["worker_connections"] = max(threads, 100)
    answer_protocol_errors_in_json()
    freeze_long_lived_objects()
    _GunicornApp(app, options).run()


def answer_protocol_errors_in_json() -> None:
    """Have gunicorn answer what it cannot parse (two lengths, a bad chunk, a header too
    long) with the API's JSON envelope instead of its HTML page.

    Those answers never reach the app: gunicorn writes them itself with ``util.write_error``
    and offers no hook for them, so that one function is replaced, in this process and the
    workers it forks. Same status, reason and message; the body is the envelope.
    """
    from gunicorn import util

    def write_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
        kind = SERVER_ERROR if status_int >= 500 else INVALID_REQUEST
        body = dump_json_bytes(ErrorReply(status_int, mesg or reason, kind).body())
        head = (
            f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        util.write_nonblock(sock, head.encode("latin-1") + body)

    util.write_error = write_error


def _watch_master(worker: Any) -> None:
    """gunicorn's ``post_worker_init`` hook: the worker stops with its master, and hands
    freed memory back when idle."""
    exit_with_parent(worker.ppid)
    trim_when_idle()


def run_granian(
    parent_app: Flask,
    config: MockConfig,
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    rsgi: bool = False,
) -> None:
    """Serve with granian: each worker builds the app from ``config`` (see module docstring).

    ``rsgi``: on granian's RSGI interface, through :mod:`mockserver.rsgi_bridge` (requests
    on the worker's event loop, ``threads`` only for what may block), instead of WSGI.

    ``parent_app`` is the app built from ``config`` in this process: building it first fails
    early on bad specs or stubs and creates the state file the workers share. The workers
    read the ``--stubs`` file again, to put its stubs back on a reset; adding them finds
    them stored already, and keeps them as they are.
    """
    from granian import Granian
    from granian.constants import Interfaces, Loops

    global _built_before_fork
    _built_before_fork = parent_app

    shared = dataclasses.replace(config, state_path=parent_app.extensions["mockserver"].db.path)
    os.environ[CONFIG_ENV] = _dump_config(shared)
    os.environ[MASTER_PID_ENV] = str(os.getpid())
    os.environ[THREADS_ENV] = str(threads)
    server = Granian(
        f"mockserver.serving:{'rsgi_' if rsgi else ''}app_from_environment",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.RSGI if rsgi else Interfaces.WSGI,
        workers=workers,
        # Under RSGI granian runs no Python in its blocking threads: the bridge has its own.
        blocking_threads=1 if rsgi else threads,
        # uvloop where installed (a dependency but on Windows): granian's "auto" would take
        # rloop first, which measured slower here.
        loop=Loops.uvloop if importlib.util.find_spec("uvloop") else Loops.asyncio,
        log_level="warning",  # type: ignore[arg-type]  # granian accepts the plain name
        respawn_failed_workers=True,
        # Without it a stopping granian waits for every running request, however long
        # (respected since granian 2.7.6).
        workers_kill_timeout=GRACEFUL_TIMEOUT_S,
    )
    logging.getLogger("_granian").addFilter(_ThreadCountNotice())
    freeze_long_lived_objects()
    server.serve()


class _ThreadCountNotice(logging.Filter):
    """Drops granian's warning that a worker may run more threads than 2 x cores + 1.

    Under WSGI every open stream holds a thread, so the count is sized for streams (50 slow
    streams must not stall plain requests), not for the cores; the warning would only alarm.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "Python threads" not in record.getMessage()


def app_from_environment() -> Flask:
    """The factory granian's workers call.

    A worker forked from the process that built the app (granian forks on Linux) serves
    that app, as gunicorn's preloaded workers do: a second app built in the worker would
    cost it all the memory of the first again (specs, validators, tokenizer), on top of
    the parent's pages it already maps. A worker started fresh builds the app from the
    configuration in the environment.
    """
    if MASTER_PID_ENV in os.environ:
        exit_with_parent(int(os.environ[MASTER_PID_ENV]))
    trim_when_idle()
    drop_request_variables(os.environ)
    if _built_before_fork is not None:
        return _built_before_fork
    if LOGGING_ENV in os.environ:
        configure_logging(*json.loads(os.environ[LOGGING_ENV]))
    app = create_app(_load_config(os.environ[CONFIG_ENV]))
    freeze_long_lived_objects()
    return app


def rsgi_app_from_environment() -> RsgiBridge:
    """The factory granian's RSGI workers call: the app of :func:`app_from_environment`,
    served by :class:`~mockserver.rsgi_bridge.RsgiBridge`."""
    app = app_from_environment()
    state = app.extensions["mockserver"]
    return RsgiBridge(
        app,
        max_body_bytes=state.config.max_body_bytes,
        threads=int(os.environ[THREADS_ENV]),  # set by run_granian, as CONFIG_ENV is
        # Every call to a Redis store is a network round trip, which would stop the loop.
        all_in_threads=state.config.state_url is not None,
    )


# The CGI names a request's own items take in a WSGI environ, besides the HTTP_* headers.
_BODY_VARIABLES = frozenset({"CONTENT_LENGTH", "CONTENT_TYPE"})


def drop_request_variables(environment: MutableMapping[str, str]) -> list[str]:
    """Remove the variables named like a request's items from this worker's environment.

    granian builds every WSGI environ on a copy of its worker's environment, taken once the
    app is loaded, with the request's own items over it (a CGI habit). A variable named like
    an item the request did not send then reads as sent: ``HTTP_AUTHORIZATION`` let every
    request in without a key, ``HTTP_ORIGIN`` had the admin API refuse every call (its
    health check included, so the server never came up), ``HTTP_X_MOCK_FAULT`` faulted every
    request, ``CONTENT_LENGTH`` cut every chunked body. The mock sends nothing out of its
    workers, so they have no use for these names (``HTTP_PROXY``, the one seen in practice,
    stays in the master's environment). Returns the names removed.
    """
    names = [name for name in environment if name.startswith("HTTP_") or name in _BODY_VARIABLES]
    for name in names:
        del environment[name]
    return names


def exit_with_parent(parent_pid: int, grace_s: float = GRACEFUL_TIMEOUT_S) -> None:
    """Stop this worker when its master dies: gracefully at once, for good after ``grace_s``.

    A granian worker never looks at its parent: with the master killed (``kill -9``, the
    OOM killer) it would go on serving the port, unseen, for good. gunicorn's workers do
    notice, but then wait for their running requests however long they take (a held
    ``timeout`` fault: 30 s), where a live master would have killed them after its
    graceful timeout. A thread that watches the parent pid gives every worker the stop its
    master would have given it. (Linux's ``prctl(PR_SET_PDEATHSIG)`` signals at once, but
    only one signal, with no deadline after it, and only on Linux.)
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_S)
        os.kill(os.getpid(), signal.SIGTERM)  # the server's own graceful stop
        time.sleep(grace_s)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def ensure_port_free(host: str, port: int) -> str:
    """The address ``host`` names, once ``port`` is found free there; :class:`UsageError` if not.

    The address is numeric (granian takes no host names), the one a server should bind.

    granian's workers bind with ``SO_REUSEPORT``, so a second granian server on a taken
    port binds as well and the kernel splits the connections between the two servers,
    silently. A probe bound without ``SO_REUSEPORT`` fails on a port that any socket
    listens on (Linux shares a port only among sockets that all set it), while
    ``SO_REUSEADDR``, as servers set it, lets a port whose last connections linger in
    TIME_WAIT be taken again. Two servers started within the same second can both pass
    the probe before either listens: the check is for the common mistake, not a lock.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UsageError(
                    f"port {port} is in use: another server listens on {host}:{port}; "
                    "stop it or choose another --port"
                ) from exc
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return str(address[0])


def freeze_long_lived_objects() -> None:
    """Keep what the built app holds out of the garbage collector's full collections.

    The loaded specs, compiled validators and their kind make some 60,000 objects that
    live as long as the server; a full collection walks them all, a pause during which the
    worker answers nothing, which showed as the p99 under load (benchmarks/bench_serve.py).
    They are never garbage, and frozen before the fork their memory pages also stay shared
    with the workers.
    """
    gc.collect()
    gc.freeze()


LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")
# The log configuration, for a granian worker started fresh (see app_from_environment).
LOGGING_ENV = "HARNESS_MOCK_LOGGING"
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str = "info", log_format: str = "text") -> None:
    """Print the mock's log (``mockserver.*``, access lines included) on stderr.

    ``log_format`` is ``text`` or ``json`` (one object a line, the access fields as keys).
    The handler sits on the ``mockserver`` logger, not the root, so the servers' own
    logging set-up (granian configures logging in each worker) leaves it alone.
    """
    handler = _BatchedStderrHandler()
    formatter = _JsonFormatter() if log_format == "json" else _TextFormatter(_TEXT_FORMAT)
    handler.setFormatter(formatter)
    logger = logging.getLogger("mockserver")
    logger.handlers[:] = [handler]
    logger.setLevel(level.upper())
    logger.propagate = False
    access_log.print_lines_with(handler)
    os.environ[LOGGING_ENV] = json.dumps([level, log_format])


class _BatchedStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes stderr in batches: the lines of the last ``FLUSH_EVERY_S`` in one write.

    A write per line costs little in itself, but it is a system call that lets the
    request's thread give up the interpreter lock, waking the journal's writer thread for
    each request: the journal then commits one entry at a time instead of batches, which
    measured as half the CPU time of a request again. A thread per process flushes what is
    buffered every ``FLUSH_EVERY_S``, so a line shows within that time.
    """

    FLUSH_EVERY_S = 0.2

    def __init__(self) -> None:
        super().__init__(_block_buffered_stderr())
        self._flusher_pid: int | None = None
        self._lock_for_start = threading.Lock()
        # Access lines handed over as fields (mockserver.access_log), formatted at the flush.
        self._deferred: list[tuple[float, str, dict[str, Any]]] = []

    def defer_access_line(self, created: float, message: str, fields: dict[str, Any]) -> None:
        self._deferred.append((created, message, fields))  # atomic: no lock on the way
        self.flush()  # starts the flushing thread in a new process

    def emit(self, record: logging.LogRecord) -> None:
        self._write_deferred()  # the access lines handed over before it come first
        super().emit(record)

    def _write_deferred(self) -> None:
        if not self._deferred:
            return
        with self.lock:  # type: ignore[union-attr]  # Handler.createLock made it
            taken, self._deferred = self._deferred, []
            formatter = self.formatter
            for created, message, fields in taken:
                if isinstance(formatter, _JsonFormatter | _TextFormatter):
                    line = formatter.access_line(created, message, fields)
                else:  # a formatter set from outside: given the record it would have had
                    line = self.format(_access_record(created, message, fields))
                with contextlib.suppress(OSError, ValueError):  # stderr closed or gone
                    self.stream.write(line + self.terminator)

    def flush(self) -> None:
        # Called after every record by StreamHandler.emit: the flushing thread flushes instead.
        if self._flusher_pid != os.getpid():  # none yet in this process (or forked since)
            with self._lock_for_start:
                if self._flusher_pid != os.getpid():
                    self._flusher_pid = os.getpid()
                    threading.Thread(
                        target=self._flush_forever, name="log-flush", daemon=True
                    ).start()
                    process_exit.at_exit(self._flush_now, priority=process_exit.LOG)

    def _flush_forever(self) -> None:
        while True:
            time.sleep(self.FLUSH_EVERY_S)
            self._flush_now()

    def _flush_now(self) -> None:
        self._write_deferred()
        with contextlib.suppress(OSError, ValueError):  # stderr closed or gone
            super().flush()


ACCESS_LOGGER = "mockserver.access"


def _access_record(created: float, message: str, fields: dict[str, Any]) -> logging.LogRecord:
    record = logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 0, message, None, None)
    record.created = created
    record.msecs = int((created - int(created)) * 1000) + 0.0  # as LogRecord sets it
    record.access = fields
    return record


class _TextFormatter(logging.Formatter):
    """The text format, which also writes an access line from its fields, as it would have
    written its record (the time as ``formatTime`` writes it, remembered for the second)."""

    _second: tuple[int, str] = (-1, "")

    def access_line(self, created: float, message: str, fields: dict[str, Any]) -> str:
        second = int(created)
        if self._second[0] != second:
            self._second = (second, time.strftime(self.default_time_format, self.converter(second)))
        msecs = int((created - second) * 1000)
        asctime = self.default_msec_format % (self._second[1], msecs)  # type: ignore[operator]
        return f"{asctime} INFO {ACCESS_LOGGER}: {message}"


def _block_buffered_stderr() -> TextIO:
    """stderr, buffered in blocks: ``sys.stderr`` writes each line out as it is written."""
    try:
        descriptor = os.dup(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):  # no file behind it (a test's capture)
        return sys.stderr
    return open(  # the handler owns it for the life of the process
        descriptor, "w", buffering=64 * 1024, encoding="utf-8", errors="backslashreplace"
    )


class _JsonFormatter(logging.Formatter):
    """A record as one JSON object. By hand: a dozen lines, where a library (python-json-logger)
    would be a dependency for them."""

    def format(self, record: logging.LogRecord) -> str:
        line = self._line(record.created, record.levelname, record.name, record.getMessage())
        line.update(getattr(record, "access", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)

    def access_line(self, created: float, message: str, fields: dict[str, Any]) -> str:
        line = self._line(created, "INFO", ACCESS_LOGGER, message)
        line.update(fields)
        return json.dumps(line, default=str)

    @staticmethod
    def _line(created: float, level: str, logger: str, message: str) -> dict[str, Any]:
        return {
            "time": datetime.fromtimestamp(created, timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": level.lower(),
            "logger": logger,
            "message": message,
        }


def _dump_config(config: MockConfig) -> str:
    fields = dataclasses.asdict(config)
    return json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in fields.items()})


def _load_config(text: str) -> MockConfig:
    raw = json.loads(text)
    # JSON has no tuples; the configuration's sequences are tuples (it is frozen).
    raw = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    for name in ("specs_dir", "state_path", "stubs_file"):
        if raw.get(name) is not None:
            raw[name] = Path(raw[name])
    return MockConfig(**raw)


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
