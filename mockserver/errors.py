"""Errors as data, rendered in one place in the OpenAI shape.

Every failure path, ours or Flask's or an unexpected exception, ends in :func:`error_response`
(through :func:`reply_for_exception` for anything raised), so no HTML page, no traceback and
no bare 500 ever leaves the mock.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import Flask, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.wrappers import Response

from harness.schema import Violation
from harness.sse import dump_json_bytes

log = logging.getLogger(__name__)

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


class MockError(Exception):
    """Raised inside a view to answer with an :class:`ErrorReply`."""

    def __init__(self, reply: ErrorReply) -> None:
        super().__init__(reply.message)
        self.reply = reply


def error_response(reply: ErrorReply) -> Response:
    response = Response(
        dump_json_bytes(reply.body()), status=reply.status, mimetype="application/json"
    )
    for name, value in reply.headers.items():
        response.headers[name] = value
    return response


def validation_error(violations: list[Violation]) -> ErrorReply:
    """The 400 for a body the spec rejects; names the first offending field."""
    first = violations[0]
    param = first.param or None
    if first.keyword == "required" and param:
        message = f"Missing required parameter: '{param}'."
        code = "missing_required_parameter"
    elif param:
        message = f"Invalid value for '{param}': {first.message}."
        code = "invalid_type" if first.keyword == "type" else "invalid_value"
    else:
        message = f"Invalid request body: {first.message}."
        code = "invalid_value"
    if len(violations) > 1:
        others = "; ".join(f"'{v.param or '(body)'}': {v.message}" for v in violations[1:4])
        more = f" and {len(violations) - 4} more" if len(violations) > 4 else ""
        message += f" Other problems: {others}{more}."
    return ErrorReply(400, message, INVALID_REQUEST, param, code)


UNEXPECTED = ErrorReply(
    500, "The server had an error while processing your request. Sorry about that!", SERVER_ERROR
)


def install_error_handlers(app: Flask) -> None:
    """Route every failure of a Flask app through :func:`error_response`."""

    @app.errorhandler(MockError)
    @app.errorhandler(HTTPException)
    @app.errorhandler(Exception)
    def _error(error: Exception) -> Response:
        return error_response(reply_for_exception(error, request.method, request.path))


def reply_for_exception(error: Exception, method: str, path: str) -> ErrorReply:
    """The OpenAI-shaped reply for whatever a request raised; the unexpected is logged.

    Call it from the ``except`` block (or error handler) that caught ``error``, so the log
    carries its traceback. Shared by the API routes and every Flask app of the mock.
    """
    if isinstance(error, MockError):
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
