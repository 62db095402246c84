"""Errors as data, rendered in one place in the OpenAI shape.

The envelope, its rendering and the Flask error handlers are the API's contract and live in
:mod:`harness.openai_errors`; the names are re-exported here for the mock's modules. What is
the mock's own: the 400 text for a request body the spec rejects.
"""

from __future__ import annotations

from harness.openai_errors import (
    INVALID_REQUEST,
    SERVER_ERROR,
    UNEXPECTED,
    ErrorReply,
    error_response,
    http_error_reply,
    install_error_handlers,
    reply_for_exception,
)
from harness.openai_errors import ReplyError as MockError
from harness.schema import Violation

__all__ = [
    "INVALID_REQUEST",
    "SERVER_ERROR",
    "UNEXPECTED",
    "ErrorReply",
    "MockError",
    "error_response",
    "http_error_reply",
    "install_error_handlers",
    "reply_for_exception",
    "validation_error",
]


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
