"""The OpenAI error envelope, as data and on the wire: part of the API's contract.

``{"error": {"message", "type", "param", "code"}}`` with a status is how the API answers a
request it refuses, so every server the project starts answers that way: the mock, ``harness
serve --replay`` and ``harness record``'s proxy. Every failure path of their Flask apps (ours,
Flask's, or an unexpected exception) ends in :func:`error_response`, through
:func:`reply_for_exception` for anything raised, so no HTML page, no traceback and no bare
500 leaves them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import Flask, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.wrappers import Response

from harness.sse import dump_json_bytes

log = logging.getLogger(__name__)

# The envelope's ``type`` for a request the server refuses, and for the server's own failure.
INVALID_REQUEST = "invalid_request_error"
SERVER_ERROR = "server_error"


@dataclass(frozen=True)
class ErrorReply:
    """An OpenAI-style error: ``{"error": {"message", "type", "param", "code"}}`` and a status."""

    status: int
    message: str
    type: str = INVALID_REQUEST
    param: str | None = None
    code: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, dict[str, str | None]]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


class ReplyError(Exception):
    """Raised inside a view to answer with an :class:`ErrorReply` (the mock's ``MockError``)."""

    def __init__(self, reply: ErrorReply) -> None:
        super().__init__(reply.message)
        self.reply = reply


UNEXPECTED = ErrorReply(
    500, "The server had an error while processing your request. Sorry about that!", SERVER_ERROR
)


def error_response(reply: ErrorReply) -> Response:
    """The reply on the wire: its status, its headers and the envelope as compact JSON."""
    response = Response(
        dump_json_bytes(reply.body()), status=reply.status, mimetype="application/json"
    )
    for name, value in reply.headers.items():
        response.headers[name] = value
    return response


def install_error_handlers(app: Flask) -> None:
    """Route every failure of a Flask app through :func:`error_response`."""

    @app.errorhandler(ReplyError)
    @app.errorhandler(HTTPException)
    @app.errorhandler(Exception)
    def _error(error: Exception) -> Response:
        return error_response(reply_for_exception(error, request.method, request.path))


def reply_for_exception(error: Exception, method: str, path: str) -> ErrorReply:
    """The OpenAI-shaped reply for whatever a request raised; the unexpected is logged.

    Call it from the ``except`` block (or error handler) that caught ``error``, so the log
    carries its traceback. Shared by the mock's API routes and every Flask app.
    """
    if isinstance(error, ReplyError):
        return error.reply
    if isinstance(error, HTTPException):
        return http_error_reply(error, method, path)
    log.exception("unexpected error while answering %s %s", method, path)
    return UNEXPECTED


def http_error_reply(error: HTTPException, method: str, path: str) -> ErrorReply:
    """The OpenAI-shaped reply for a routing or protocol error (404, 405, 413, ...)."""
    status = error.code or 500
    if status == 404:
        return ErrorReply(404, f"Invalid URL ({method} {path})")
    if isinstance(error, MethodNotAllowed):
        allowed = ", ".join(error.valid_methods or [])
        return ErrorReply(
            405,
            f"Method {method} is not allowed for {path}; use {allowed}.",
            headers={"Allow": allowed},
        )
    if status == 413:
        return ErrorReply(413, "The request body is too large.")
    kind = SERVER_ERROR if status >= 500 else INVALID_REQUEST
    return ErrorReply(status, error.description or error.name, kind)
