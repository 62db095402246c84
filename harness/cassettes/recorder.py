"""The recording proxy behind ``harness record``.

Clients point their ``base_url`` at the proxy. Each request is forwarded to the upstream (with
the client's key, or the configured one instead), the answer goes back unchanged (status,
headers minus hop-by-hop ones, body; a stream chunk by chunk as it arrives), and the exchange
is appended, secrets scrubbed (:mod:`harness.cassettes.scrub`, the pipeline ``vcr_config()``
uses too), to a vcrpy cassette: one file per endpoint, or the file named by the
``X-Harness-Cassette`` request header. The proxy's one HTTP client keeps no cookies, so a
cookie the upstream sets for one client never rides along on another client's request.

An interaction is written only once it is complete, and each write replaces the cassette file
atomically (:func:`harness.cassettes.cassette.append_interaction`), so stopping the proxy at
any moment leaves every cassette loadable, holding only whole interactions:

- a plain answer (it has a ``Content-Length``) is read whole, written, then sent, so the
  client never has the answer before the cassette does;
- a stream is relayed as it arrives and written after its last chunk but before the end of
  the chunked body, so a client that reads the body to its end finds it written (the openai
  SDK stops at ``data: [DONE]``, a moment earlier). A stream cut by the upstream is cut for
  the client too (the connection is dropped) and is not written, nor is one the client walks
  away from.

Ctrl-C or SIGTERM stop taking requests and let the exchanges in flight finish (and be
written) for up to :data:`STOP_GRACE_S` seconds; a second Ctrl-C, or SIGKILL, drops them.

Served by werkzeug's threaded WSGI server (:func:`serve_recorder`), not gunicorn: the proxy
is one process, so Ctrl-C, SIGTERM or SIGKILL stop every relay at once (a forked gunicorn
worker outlives a killed master for a while and could go on streaming and writing); the work
is waiting on sockets, which threads do well. Appends to one cassette wait for each other
(its lock), appends to different cassettes do not.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from flask import Flask, jsonify, request

# vcrpy ships no type hints; its decoder turns a gzip/deflate body into text as vcrpy would.
from vcr.filters import AVAILABLE_DECOMPRESSORS, decode_response  # type: ignore[import-untyped]
from werkzeug.http import http_date
from werkzeug.wrappers import Response

from harness.cassettes.cassette import (
    CassetteError,
    RecordedRequest,
    RecordedResponse,
    append_interaction,
)
from harness.cassettes.scrub import (
    Secrets,
    header_secrets,
    query_secrets,
    scrub_request,
    scrub_response,
    scrub_uri,
)
from harness.openai_errors import SERVER_ERROR, ErrorReply, error_response, install_error_handlers

log = logging.getLogger("harness.record")

HEALTH_PATH = "/_harness/health"
# How long a stop waits for the exchanges in flight to finish and be written.
STOP_GRACE_S = 10.0
CASSETTE_HEADER = "X-Harness-Cassette"
# Hop-by-hop headers (RFC 9110 section 7.6.1) describe one connection and are never passed on.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Request headers not forwarded: the proxy's own Host and framing, and the proxy's control header.
_NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length", CASSETTE_HEADER.lower()}
# The mock's admin API is forwarded (tests set stubs through the proxy) but never recorded.
NOT_RECORDED_PREFIXES = ("/_mock/",)
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
MAX_NAME_LENGTH = 120
# Content codings a recorded body can be decoded from (vcrpy's decoders), and no coding at all.
_DECODABLE_CODINGS = frozenset({*AVAILABLE_DECOMPRESSORS, "identity"})
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_VERSION_SEGMENT = re.compile(r"v\d+")
# A path segment that names one resource (resp_…, msg_…, a long or numeric id), not an endpoint.
_ID_SEGMENT = re.compile(r"^(\d+|.{24,}|.*[_-][A-Za-z0-9]{8,}.*)$")


@dataclass(frozen=True)
class RecorderConfig:
    """What ``harness record`` proxies and where it writes.

    ``upstream``: the API's origin, optionally with a path prefix. ``api_key``: when set, sent
    upstream as ``Authorization: Bearer <api_key>`` in place of the client's key.
    """

    upstream: str
    cassettes_dir: Path
    api_key: str | None = None
    connect_timeout_s: float = 10.0
    # A stream may pause between chunks; only a silence this long counts as a dead upstream.
    read_timeout_s: float = 600.0


def cassette_name(path: str, requested: str | None = None) -> str:
    """The cassette file for a request: the requested name made safe, else the endpoint's.

    >>> cassette_name("/v1/responses/resp_67ccd2bed1ec8190b14f964a")
    'responses.yaml'
    >>> cassette_name("/v1/chat/completions", "tests/test_chat.py::test_stream[gpt-4]")
    'tests_test_chat.py_test_stream_gpt-4.yaml'
    """
    if requested is not None:
        name = _UNSAFE_NAME.sub("_", requested.strip())
        name = re.sub(r"\.ya?ml$", "", name).strip("._-")[:MAX_NAME_LENGTH]
        if not name:
            raise ValueError(f"{CASSETTE_HEADER} {requested!r} leaves no usable file name")
        return f"{name}.yaml"
    segments = [segment for segment in path.split("/") if segment]
    if segments and _VERSION_SEGMENT.fullmatch(segments[0]):
        segments = segments[1:]
    kept: list[str] = []
    for segment in segments:
        if _ID_SEGMENT.match(segment):
            break
        kept.append(_UNSAFE_NAME.sub("_", segment))
    return f"{'_'.join(kept) or 'root'}.yaml"


def upstream_url(upstream: str, raw_path: str) -> str:
    """The upstream URL for a request path (with its query).

    The upstream's own path is a prefix, unless the request path already starts with it, so
    ``--upstream https://api.example.com/v1`` works whether clients use ``…/v1`` or not.
    """
    base = urlsplit(upstream)
    prefix = base.path.rstrip("/")
    path, _, query = raw_path.partition("?")
    if prefix and not (path == prefix or path.startswith(prefix + "/")):
        path = prefix + path
    return urlunsplit((base.scheme, base.netloc, path or "/", query, ""))


def create_recorder_app(config: RecorderConfig) -> Flask:
    """The proxy as a Flask app (every path and method is forwarded)."""
    client = httpx.Client(
        timeout=httpx.Timeout(config.read_timeout_s, connect=config.connect_timeout_s),
        follow_redirects=False,
        # One client serves every client of the proxy: a cookie the upstream sets for one
        # must never ride along on another's request, so the jar accepts none.
        cookies=keep_no_cookies(),
    )
    # httpx adds Accept-Encoding and friends to every request; the proxy sends only what the
    # client sent, so the upstream answers exactly as it would have answered the client.
    for name in list(client.headers):
        del client.headers[name]
    source = {"source": "recorded", "recorder": "harness record", "upstream": _public(config)}
    in_flight = InFlight()
    app = Flask("harness.record")
    app.extensions["harness.record"] = RecorderState(client, in_flight)

    @app.route("/", defaults={"path": ""}, methods=METHODS)
    @app.route("/<path:path>", methods=METHODS)
    def forward(path: str) -> Response:
        if request.path == HEALTH_PATH:
            return jsonify(
                status="ok", upstream=_public(config), cassettes=str(config.cassettes_dir)
            )
        in_flight.enter()
        done = _once(in_flight.leave)
        try:
            response = relay()
        except BaseException:
            done()
            raise
        # The exchange is done when its body has been sent, or given up on. werkzeug closes
        # the body once the last byte is out, but not when its read of the socket after the
        # body fails (a client that reset the connection): the body's own end counts too.
        response.response = _counting(response.response, done)
        response.call_on_close(done)
        if "date" not in response.headers:
            # The server adds no Date (an upstream's would come twice); the proxy's own has one.
            response.headers["Date"] = http_date()
        return response

    def relay() -> Response:
        try:
            name = cassette_name(request.path, request.headers.get(CASSETTE_HEADER))
        except ValueError as exc:
            return error_response(
                ErrorReply(400, str(exc), param=CASSETTE_HEADER, code="bad_cassette_name")
            )
        proxied = _ProxiedRequest.from_request(config, name)
        try:
            upstream = client.send(proxied.build(client), stream=True)
        except httpx.HTTPError as exc:
            message = f"harness record: the upstream {_public(config)} did not answer: {exc}"
            return error_response(
                ErrorReply(502, message, SERVER_ERROR, code="upstream_unreachable")
            )
        headers = _passed_on(upstream.headers.raw)
        status = f"{upstream.status_code} {upstream.reason_phrase}".strip()
        if not _is_plain(upstream):
            return Response(proxied.relay(upstream, source), status=status, headers=headers)
        try:
            body = b"".join(upstream.iter_raw())
        except httpx.HTTPError as exc:
            message = f"harness record: the upstream answer broke off: {exc}"
            return error_response(ErrorReply(502, message, SERVER_ERROR, code="upstream_cut"))
        finally:
            upstream.close()
        proxied.record(upstream, body, source)
        response = Response(body, status=status, headers=headers)
        if request.method == "HEAD" or upstream.status_code == 304:
            # No body, but the length the upstream gave for it (werkzeug would say 0).
            length = upstream.headers.get("content-length")
            if length is not None:
                response.headers["Content-Length"] = length
        return response

    install_error_handlers(app)
    return app


def keep_no_cookies() -> CookieJar:
    """A cookie jar that stores nothing (an empty ``allowed_domains`` refuses every cookie).

    A cookie a client sends itself still goes through: it is one of the request's headers.
    """
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def serve_recorder(
    config: RecorderConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve the proxy until interrupted; ``announce`` gets its URL once it listens."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        # One line per recorded interaction is logged instead of one per request.
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            return None

        def send_response(self, code: int, message: str | None = None) -> None:
            # Without the server's own Server and Date headers: the upstream's are passed
            # on, and came twice (the proxy's own answers get a Date from the app).
            self.send_response_only(code, message)

    app = create_recorder_app(config)
    state: RecorderState = app.extensions["harness.record"]
    server = make_server(host, port, app, threaded=True, request_handler=QuietHandler)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    shown_host = f"[{host}]" if ":" in host else host
    announce(f"http://{shown_host}:{server.server_port}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()  # no new connections; those in flight go on in their threads
        _finish(state)


def _finish(state: RecorderState) -> None:
    try:
        if state.in_flight.count:
            log.info(
                "finishing %d exchange(s) in flight (Ctrl-C again to drop them)",
                state.in_flight.count,
            )
        left = state.in_flight.wait_idle(STOP_GRACE_S)
        if left:
            log.warning("stopped with %d exchange(s) unfinished; they are not recorded", left)
    except KeyboardInterrupt:
        pass
    finally:
        state.client.close()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM stops the proxy as Ctrl-C does, so the exchanges in flight may finish.
    raise KeyboardInterrupt


class InFlight:
    """How many exchanges are between their request and their last byte."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = threading.Condition()

    def enter(self) -> None:
        with self._changed:
            self.count += 1

    def leave(self) -> None:
        with self._changed:
            self.count -= 1
            self._changed.notify_all()

    def wait_idle(self, timeout: float) -> int:
        """Wait until none is left, or ``timeout`` seconds; returns how many are left."""
        with self._changed:
            self._changed.wait_for(lambda: self.count <= 0, timeout)
            return self.count


@dataclass(frozen=True)
class RecorderState:
    """What a recorder app keeps in ``app.extensions["harness.record"]``."""

    client: httpx.Client
    in_flight: InFlight


@dataclass
class _ProxiedRequest:
    """One request on its way through the proxy."""

    config: RecorderConfig
    cassette: Path
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes
    secrets: Secrets
    recorded: bool

    @classmethod
    def from_request(cls, config: RecorderConfig, name: str) -> _ProxiedRequest:
        headers = [
            (key, value)
            for key, value in request.headers.items()
            if key.lower() not in _NOT_FORWARDED
        ]
        if config.api_key is not None:
            # The configured key replaces the client's, which then goes nowhere: it is a
            # placeholder (record-replay.md has clients send "anything"), and learned as a
            # secret it was redacted from the conversation itself, wherever the word came
            # up, so the recording no longer matched its own request. Its header is still
            # dropped, as every credential is; the key that is sent is learned.
            headers = [(key, value) for key, value in headers if key.lower() != "authorization"]
            headers.append(("Authorization", f"Bearer {config.api_key}"))
        headers = [
            (key, accepted_encodings(value) if key.lower() == "accept-encoding" else value)
            for key, value in headers
        ]
        secrets = Secrets(header_secrets(_grouped(headers)))
        raw_path = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
        if raw_path and not raw_path.startswith("/"):
            # Absolute form (a client using the recorder as an HTTP proxy): keep the path.
            parts = urlsplit(raw_path)
            raw_path = parts.path + (f"?{parts.query}" if parts.query else "")
        if not raw_path:
            query = request.query_string.decode("latin-1")
            raw_path = quote(request.path) + (f"?{query}" if query else "")
        url = upstream_url(config.upstream, raw_path)
        secrets.add(query_secrets(url))
        return cls(
            config=config,
            cassette=config.cassettes_dir / name,
            method=request.method,
            url=url,
            headers=headers,
            body=request.get_data(cache=True),
            secrets=secrets,
            recorded=not request.path.startswith(NOT_RECORDED_PREFIXES),
        )

    @property
    def shown_url(self) -> str:
        """The URL as it may be logged or stored: no credential in its query."""
        return scrub_uri(self.url, self.secrets)

    def build(self, client: httpx.Client) -> httpx.Request:
        return client.build_request(self.method, self.url, headers=self.headers, content=self.body)

    def relay(self, upstream: httpx.Response, source: Mapping[str, Any]) -> Iterator[bytes]:
        """Pass the body on chunk by chunk; record it once the upstream has sent all of it."""
        chunks: list[bytes] = []
        try:
            for chunk in upstream.iter_raw():
                chunks.append(chunk)
                yield chunk
        except httpx.HTTPError as exc:
            log.warning(
                "not recorded %s %s: the upstream stream broke off (%s)",
                self.method,
                self.shown_url,
                self.secrets.redact(str(exc)),
            )
            # A ConnectionError makes werkzeug drop the connection without ending the chunked
            # body, so the client sees the stream cut, as it was cut upstream.
            raise ConnectionAbortedError("upstream stream broke off") from exc
        finally:
            upstream.close()
        self.record(upstream, b"".join(chunks), source)

    def record(self, upstream: httpx.Response, body: bytes, source: Mapping[str, Any]) -> None:
        if not self.recorded:
            return
        response = decode_response(
            {
                "status": {"code": upstream.status_code, "message": upstream.reason_phrase},
                "headers": _grouped(_decoded(upstream.headers.raw)),
                "body": {"string": body},
            }
        )
        response_headers = {
            name: values
            for name, values in response["headers"].items()
            if name.lower() not in HOP_BY_HOP
        }
        # The same pipeline, in the same order, as the vcrpy hooks of ``vcr_config()``.
        recorded_request = scrub_request(
            RecordedRequest(self.method, self.url, self.body, _grouped(self.headers)),
            self.secrets,
        )
        recorded_response = scrub_response(
            RecordedResponse(
                status=upstream.status_code,
                reason=upstream.reason_phrase,
                headers=response_headers,
                body=response["body"]["string"],
            ),
            self.secrets,
        )
        try:
            index = append_interaction(
                self.cassette, recorded_request, recorded_response, source=source
            )
        except (CassetteError, OSError) as exc:
            log.error("not recorded %s %s: %s", self.method, self.shown_url, exc)
            return
        kind = recorded_response.media_type or "no body"
        log.info(
            "recorded %s %s -> %d %s as %s#%d",
            self.method,
            urlsplit(self.url).path,
            upstream.status_code,
            kind,
            self.cassette.name,
            index,
        )


def _once(action: Callable[[], None]) -> Callable[[], None]:
    """``action``, run the first time the result is called and never again."""
    lock = threading.Lock()
    pending = [action]

    def run_once() -> None:
        with lock:
            todo = pending[:]
            pending.clear()
        for each in todo:
            each()

    return run_once


def _counting(body: Iterable[Any], done: Callable[[], None]) -> Iterator[Any]:
    """``body``, calling ``done`` once it is sent to its end or closed (given up on)."""
    try:
        yield from body
    finally:
        done()


def accepted_encodings(value: str) -> str:
    """The client's ``Accept-Encoding`` less the codings a recording could not decode.

    The body is stored decoded, by vcrpy's decoders: gzip and deflate, and br when the
    ``brotli`` module is installed (httpx asks for br whenever it is installed where the
    client runs). An answer in another coding is not text and cannot be recorded, so the
    upstream is not offered one; when none is left, ``identity``.

    >>> accepted_encodings("gzip, deflate, zstd, *")
    'gzip, deflate'
    """
    kept = [
        item.strip()
        for item in value.split(",")
        if item.split(";")[0].strip().lower() in _DECODABLE_CODINGS
    ]
    return ", ".join(kept) or "identity"


def _is_plain(upstream: httpx.Response) -> bool:
    """An answer with a known length that is not a stream: read whole before passing it on."""
    media = upstream.headers.get("content-type", "").split(";")[0].strip().lower()
    return media != "text/event-stream" and "content-length" in upstream.headers


def _passed_on(raw: Sequence[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    # The proxy's WSGI server frames the body itself (Content-Length or chunked).
    return [
        (name, value)
        for name, value in _decoded(raw)
        if name.lower() not in HOP_BY_HOP and name.lower() != "content-length"
    ]


def _decoded(raw: Sequence[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]


def _grouped(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """``[(name, value)]`` as vcrpy's ``{name: [values]}``, names spelled as first seen."""
    grouped: dict[str, list[str]] = {}
    spelled: dict[str, str] = {}
    for name, value in pairs:
        key = spelled.setdefault(name.lower(), name)
        grouped.setdefault(key, []).append(value)
    return grouped


def _public(config: RecorderConfig) -> str:
    """The upstream URL without credentials or query, fit to print and to store."""
    parts = urlsplit(config.upstream)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
