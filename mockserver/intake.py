"""Read an API request: its JSON body, the operation serving its model, and spec violations.

Shared by every API view, so both endpoints refuse and accept exactly alike.
"""

from __future__ import annotations

import json
from typing import Any

from flask import request

from harness.spec import Operation, SpecSet
from harness.validate import validate_request
from mockserver.errors import ErrorReply, MockError, validation_error

_BAD_JSON = (
    "We could not parse the JSON body of your request. The API expects a JSON payload, "
    "but what was sent was not valid JSON ({detail})."
)


def read_json_body() -> dict[str, Any]:
    """The request body as a JSON object, or a 415/400 :class:`MockError`."""
    body = read_json()
    if not isinstance(body, dict):
        raise MockError(
            ErrorReply(400, f"The request body must be a JSON object, not {type(body).__name__}.")
        )
    return body


def read_json() -> Any:
    """The request body as any JSON value, or a 415/400 :class:`MockError`."""
    mimetype = request.mimetype
    # No Content-Type at all is read as JSON (curl -d without -H, some proxies); any other
    # declared type is refused, since the spec documents application/json only.
    if mimetype and mimetype != "application/json" and not mimetype.endswith("+json"):
        raise MockError(
            ErrorReply(
                415,
                f"Unsupported Content-Type {mimetype!r}; send the body as application/json.",
            )
        )
    raw = request.get_data(cache=True)
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MockError(ErrorReply(400, _BAD_JSON.format(detail=exc))) from exc


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON (and the real API) do not.
    raise ValueError(f"{name} is not valid JSON")


def resolve_operation(specs: SpecSet, path: str, body: dict[str, Any]) -> Operation:
    """The operation serving the body's model at ``path``; 404 ``model_not_found`` if none."""
    model = body.get("model")
    if isinstance(model, str):
        operation = specs.find(path, "post", model)
        if operation is None:
            raise MockError(
                ErrorReply(
                    404,
                    f"The model `{model}` does not exist or you do not have access to it. "
                    f"Models served here: {', '.join(specs.models_for(path)) or 'none'}.",
                    param="model",
                    code="model_not_found",
                )
            )
        return operation
    # No model, or not a string: the spec's own validation explains what is wrong.
    operation = specs.find(path, "post")
    if operation is None:
        raise MockError(ErrorReply(404, f"Invalid URL (POST {path})"))
    return operation


def check_request(operation: Operation, body: dict[str, Any]) -> None:
    """Raise a 400 naming the first offending field when the spec rejects the body."""
    if operation.request_validator.is_valid(body):
        return
    raise MockError(validation_error(validate_request(operation, body)))
