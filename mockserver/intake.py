"""Read an API request: its JSON body, the operation serving its model, and spec violations.

Shared by every API view, so both endpoints refuse and accept exactly alike. What a stub
that matches the accepted request does is ``stub_replies``'s part.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from werkzeug.exceptions import ClientDisconnected, HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Request

from harness.spec import Operation, SpecSet
from harness.validate import validate_request
from mockserver.errors import ErrorReply, MockError, validation_error
from mockserver.exchange import Exchange
from mockserver.faults import FaultPlan
from mockserver.live_limits import check_live_limits
from mockserver.stub_replies import apply_stub_reply
from mockserver.stubs import RequestFacts

_COMPRESSED = (
    "We could not parse the JSON body of your request: it is sent with Content-Encoding "
    "{encoding!r}, which is not decoded here. Send the body uncompressed."
)
_BAD_JSON = (
    "We could not parse the JSON body of your request. The API expects a JSON payload, "
    "but what was sent was not valid JSON ({detail})."
)


# Every digit as 1 and every other byte as 0: a run of 19 digits is then 19 ones in a row,
# which ``in`` finds with bytes' own fast search. re's [0-9]{19} steps through the body byte
# by byte in Python's regex engine: 53 µs on a 7 KB body (a chat request with 32 tools),
# three times what parsing it costs, against 3.6 µs this way.
_DIGITS_AS_ONES = bytes(1 if byte in b"0123456789" else 0 for byte in range(256))
_LONG_DIGIT_RUN = b"\x01" * 19
_TOO_DEEP = "The request body is nested too deeply to be validated ({detail})."


def read_json_body(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 415/400 :class:`MockError`."""
    body = read_json(request)
    if not isinstance(body, dict):
        raise MockError(
            ErrorReply(400, f"The request body must be a JSON object, not {type(body).__name__}.")
        )
    return body


def read_json(request: Request) -> Any:
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
    raw = read_body(request)
    # orjson reads what JSON allows, six times faster; what it refuses (NaN, 1e999, lone
    # surrogates, a BOM, bad UTF-8, deep nesting) is read again by the standard library,
    # whose answer (a value, or the error message) stands. Integers past 64 bits orjson
    # reads as floats, silently: a body with 19 digits in a row goes to the standard
    # library whole.
    if not has_long_digit_run(raw):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        encoding = request.environ.get("HTTP_CONTENT_ENCODING", "identity")
        if encoding.strip().lower() not in ("identity", ""):
            # Bytes in a content coding read as garbled JSON: say what they are instead.
            message = _COMPRESSED.format(encoding=encoding)
            raise MockError(ErrorReply(400, message)) from exc
        raise MockError(ErrorReply(400, _BAD_JSON.format(detail=exc))) from exc
    except RecursionError as exc:
        detail = "it is nested too deeply"
        raise MockError(ErrorReply(400, _BAD_JSON.format(detail=detail))) from exc


def has_long_digit_run(raw: bytes) -> bool:
    """Whether ``raw`` has 19 ASCII digits in a row (an integer orjson may not read exactly)."""
    return _LONG_DIGIT_RUN in raw.translate(_DIGITS_AS_ONES)


def read_body(request: Request) -> bytes:
    """The whole body, or a 413 naming the limit, whether its length is declared or chunked."""
    limit = request.max_content_length
    declared = request.content_length
    if declared is not None and (limit is None or declared <= limit):
        # The common case, read straight from the server's stream: werkzeug's get_data
        # wraps it in a LimitedStream and reads it in a loop, some 3 µs a request. The
        # bytes are left where get_data looks for them, so every later reader shares them.
        stream = request.environ["wsgi.input"]
        raw: bytes = stream.read(declared)
        while len(raw) < declared:  # a server may hand the body over in parts
            more = stream.read(declared - len(raw))
            if not more:  # the client went away mid-body, as werkzeug tells it
                raise ClientDisconnected()
            raw += more
        request._cached_data = raw  # werkzeug's own cache of get_data(cache=True)
        return raw
    try:
        raw = request.get_data(cache=True)
        # A chunked body declares no length: werkzeug's stream stops at the limit and
        # returns what it read as if the body ended there (LimitedStream.readall). One byte
        # more from the server's own stream tells whether it did.
        over = (
            limit is not None
            and len(raw) >= limit
            and request.content_length is None
            and request.environ["wsgi.input"].read(1)
        )
    except RequestEntityTooLarge as exc:  # a declared Content-Length over the limit
        raise MockError(_too_large(limit)) from exc
    except HTTPException:  # werkzeug's own answers (a client gone mid-body: 400)
        raise
    except Exception as exc:
        # The server's parse errors, raised from the body stream as the app reads it
        # (gunicorn's InvalidChunkSize, ChunkMissingTerminator, InvalidHeader in trailers):
        # the client's framing, not the mock's failure. Named by class, since each server
        # has its own.
        raise MockError(
            ErrorReply(
                400,
                "The request body could not be read: its chunked framing is invalid "
                f"({type(exc).__name__}: {exc}).",
            )
        ) from exc
    if over:
        raise MockError(_too_large(limit))
    return raw


def _too_large(limit: int | None) -> ErrorReply:
    return ErrorReply(
        413,
        f"The request body is too large: the mock reads at most {limit} bytes "
        "(harness serve --max-body-bytes).",
    )


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON (and the real API) do not.
    raise ValueError(f"{name} is not valid JSON")


def resolve_operation(
    specs: SpecSet, path: str, body: dict[str, Any], aliases: Collection[str] = ()
) -> Operation:
    """The operation serving the body's model at ``path``; 404 ``model_not_found`` if none.

    ``aliases`` (``harness serve --model``) are served by the route's first operation, the
    one serving the first loaded document's model.
    """
    model = body.get("model")
    if isinstance(model, str):
        operation = specs.find(path, "post", model)
        if operation is None and model in aliases:
            operation = specs.find(path, "post")
        if operation is None:
            served = [*specs.models_for(path), *aliases]
            raise MockError(
                ErrorReply(
                    404,
                    f"The model `{model}` does not exist or you do not have access to it. "
                    f"Models served here: {', '.join(dict.fromkeys(served)) or 'none'}.",
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


def as_validated(operation: Operation, body: dict[str, Any]) -> dict[str, Any]:
    """The body as the spec checks it: a model alias reads as the operation's own model.

    A document's ``model`` enum names its own model only; a request naming an alias it
    serves must pass that check, and meet every other one.
    """
    model = body.get("model")
    if not isinstance(model, str) or model in operation.models or not operation.models:
        return body
    return {**body, "model": min(operation.models)}


@dataclass(frozen=True)
class Accepted:
    """A request that passed intake: its body, operation, faults and any stubbed reply."""

    body: dict[str, Any]
    operation: Operation
    faults: FaultPlan
    reply_override: Mapping[str, Any] | None = None
    # What the stub changes in the planned reply (see stub_replies.adjusted_chat_plan).
    adjustments: Mapping[str, Any] | None = None


def accept_request(
    exchange: Exchange, user_text_of: Callable[[Mapping[str, Any]], str | RequestFacts]
) -> Accepted:
    """Read, route and validate an API request, then apply the stub that matches it.

    ``user_text_of`` finds the text a stub's ``last_user_message`` regex is searched in
    (the last user message for chat, the last user input text for responses), or all the
    facts a stub's ``match`` reads (``mockserver.stub_facts``).
    """
    request, state, entry = exchange.request, exchange.state, exchange.entry
    body = read_json_body(request)
    entry.body = body
    operation = resolve_operation(state.specs, request.path, body, state.config.model_aliases)
    checked = as_validated(operation, body)
    try:
        violations = (
            []
            if operation.request_validator.is_valid(checked)
            else validate_request(operation, checked)
        )
    except (ValueError, RecursionError) as exc:  # the validator's recursion limit
        entry.valid = False
        raise MockError(ErrorReply(400, _TOO_DEEP.format(detail=exc))) from exc
    entry.valid = not violations
    if violations:
        entry.violations = [
            {"param": v.param, "pointer": v.pointer, "message": v.message} for v in violations
        ]
        raise MockError(validation_error(violations))
    check_live_limits(
        request.path, body, len(request.get_data(cache=True)), state.config.context_window
    )
    faults = exchange.faults
    stub = state.stubs.take(request.path, body, user_text_of(body))
    if stub is None:
        return Accepted(body, operation, faults)
    entry.stub_id = stub.id
    stubbed = apply_stub_reply(
        stub.answer(),  # a sequence's reply for this use
        str(body.get("model", "gpt-4")),
        faults,
        entry,
        stub=stub,
        chaos_seed=state.config.chaos_seed,
    )
    return Accepted(body, operation, stubbed.faults, stubbed.override, stubbed.adjustments)
