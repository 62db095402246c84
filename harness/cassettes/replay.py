"""Serve recorded interactions over HTTP (``harness serve --replay DIR``).

A request is answered with the first recorded interaction of the same method, path and JSON
body (compared as data, :mod:`harness.cassettes.matching`); a recorded stream is sent as its
recorded SSE text, one event per chunk, paced by ``X-Mock-Chunk-Delay-Ms`` as the mock paces
its own. An unmatched request gets a 404 ``no_recorded_interaction`` that names the closest
recorded request and how it differs, or, with a fallback app (the mock), that app's answer.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.wrappers import Request as WSGIRequest
from werkzeug.wrappers import Response
from werkzeug.wsgi import get_input_stream

from harness.bearer import check_bearer
from harness.cassettes.cassette import Cassette, RecordedResponse
from harness.cassettes.matching import RequestIndex
from harness.cassettes.recorder import HOP_BY_HOP, METHODS
from harness.cassettes.scrub import body_as_recorded
from harness.mock_headers import (
    CHUNK_DELAY_HEADER,
    INVALID_HEADER_CODE,
    BadHeaderValue,
    chunk_delay_ms,
    paced,
)
from harness.openai_errors import ErrorReply, error_response, install_error_handlers

# A WSGI application (the mock's Flask app, as the fallback).
WSGIApp = Callable[..., Any]
NO_MATCH_CODE = "no_recorded_interaction"
HEALTH_PATH = "/_mock/health"
# Headers of the recorded response not replayed: framing and the date are the replaying
# server's own (it sets them itself), and bodies are stored decoded.
_NOT_REPLAYED = HOP_BY_HOP | {"content-length", "content-encoding", "date", "server"}
# One SSE event: everything up to and including the blank line that ends it.
_SSE_EVENT = re.compile(rb".*?(?:\r\n\r\n|\n\n|\r\r)", re.DOTALL)


def create_replay_app(
    cassettes: Sequence[Cassette],
    *,
    fallback: WSGIApp | None = None,
    api_key: str | None = None,
) -> Flask:
    """A Flask app answering from ``cassettes``; unmatched requests go to ``fallback`` if set.

    Its API routes take the bearer key as the mock's do: any non-empty key, or ``api_key``.
    """
    index = RequestIndex(item for cassette in cassettes for item in cassette.interactions)
    app = Flask("harness.replay")
    app.extensions["harness.replay"] = index

    @app.route("/", defaults={"path": ""}, methods=METHODS)
    @app.route("/<path:path>", methods=METHODS)
    def replay(path: str) -> Response:
        # A credential inside the body (an MCP tool's key) was recorded as `***`.
        body = body_as_recorded(request.get_data(cache=True))
        if request.path == HEALTH_PATH:
            return jsonify(status="ok", mode="replay", interactions=len(index.interactions))
        refused = check_bearer(request.headers.get("Authorization", ""), api_key)
        if refused is not None:
            return error_response(refused)
        found = index.find(request.method, request.path, body)
        if found is not None:
            try:
                delay_ms = chunk_delay_ms(request.headers.get(CHUNK_DELAY_HEADER))
            except BadHeaderValue as bad:  # refused as the mock refuses it
                return error_response(
                    ErrorReply(400, bad.message, param=bad.name, code=INVALID_HEADER_CODE)
                )
            return _replayed(found.response, delay_ms / 1000)
        return error_response(ErrorReply(404, _no_match_message(index, body), code=NO_MATCH_CODE))

    install_error_handlers(app)
    if fallback is not None:
        # Flask's documented way to put middleware in front of an app; mypy sees a method.
        app.wsgi_app = _Fallback(app.wsgi_app, index, fallback)  # type: ignore[method-assign]
    return app


class _Fallback:
    """WSGI middleware: what no cassette holds (and the mock's ``/_mock/`` API) goes to the mock.

    It decides before Flask sees the request: a Flask app called from inside another Flask
    app's request would interleave the two apps' contexts, which breaks the mock's streams.
    """

    def __init__(self, replay: WSGIApp, index: RequestIndex, fallback: WSGIApp) -> None:
        self.replay = replay
        self.index = index
        self.fallback = fallback

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        body = get_input_stream(environ, safe_fallback=True).read()
        # The body is read once here; both apps get it again from memory.
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = True
        path = WSGIRequest(environ).path
        if path.startswith("/_mock/") or (
            path != HEALTH_PATH
            and self.index.find(environ.get("REQUEST_METHOD", "GET"), path, body_as_recorded(body))
            is None
        ):
            return self.fallback(environ, start_response)
        return self.replay(environ, start_response)


def _no_match_message(index: RequestIndex, body: bytes) -> str:
    message = f"No recorded interaction matches {request.method} {request.path}"
    closest = index.closest(request.method, request.path, body)
    if closest is None:
        return message + " (no interactions are recorded)."
    return f"{message}. Closest recorded request: {closest.describe()}."


def _replayed(response: RecordedResponse, delay_s: float) -> Response:
    headers = [
        (name, value)
        for name, values in response.headers.items()
        if name.lower() not in _NOT_REPLAYED
        for value in values
    ]
    status = f"{response.status} {response.reason}".strip()
    if not response.is_stream:
        return Response(response.body, status=status, headers=headers)
    return Response(paced(split_events(response.body), delay_s), status=status, headers=headers)


def split_events(body: bytes) -> list[bytes]:
    """A recorded SSE body cut into its events, each with its blank line (joined: ``body``)."""
    events = [match.group(0) for match in _SSE_EVENT.finditer(body)]
    rest = body[sum(len(event) for event in events) :]
    return [*events, rest] if rest else events
