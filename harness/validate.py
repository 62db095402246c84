"""Validate requests, response bodies and streams against an operation of the effective spec.

Every function returns all violations as data; an empty list means the input conforms.
Stream violations carry the event's position as the first element of their path, so
``/3/choices/0/delta`` is the fourth event's delta.

Beyond the schemas, :func:`validate_usage` and :func:`validate_finish_reasons` check what a
schema cannot say: token counts that add up, and finish reasons (or their Responses
counterparts) that the request made possible. The ``keyword`` of a violation says which rule
it broke: a JSON Schema keyword, or ``sse``, ``sequence``, ``index``, ``consistency`` (see
:mod:`harness.stream_consistency`), ``usage``, ``finish_reason``.

A stream may end in an error after it started (chat: ``data: {"error": {...}}`` and no
``[DONE]``; Responses: ``event: error`` then ``response.failed``), as the live API does:
that is a valid stream, and :func:`stream_error` says whether one did.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeGuard

from harness.schema import TaggedUnion, Violation
from harness.spec.index import EVENT_STREAM, JSON, Operation
from harness.sse import DONE, ServerSentEvent, decode_stream
from harness.stream_consistency import chat_consistency, responses_consistency

# Responses events that end a stream; exactly one must arrive, and last.
RESPONSES_TERMINAL_EVENTS = frozenset(
    {"response.completed", "response.incomplete", "response.failed"}
)
# Keywords of the rules a stream's framing and order break (the rest are schema keywords).
STREAM_RULES = frozenset({"sse", "sequence", "index", "consistency"})


def validate_request(operation: Operation, body: Any) -> list[Violation]:
    """Violations of a JSON request body."""
    return operation.request_validator.violations(body)


def validate_response(
    operation: Operation, body: Any, status: str | int = "200", media_type: str = JSON
) -> list[Violation]:
    """Violations of a JSON response body (``status`` picks the documented response)."""
    return operation.response_validator(str(status), media_type).violations(body)


def validate_exchange(
    operation: Operation, request: Any, status: str | int, media_type: str, body: Any
) -> list[Violation]:
    """An answer to a request, whole: what ``harness validate`` checks of a recorded
    interaction and ``assert_conforms`` of a response.

    The media type must be one the status documents, and a 2xx must be a stream exactly
    when the request asked for one; then the body (JSON text or value, or a stream) against
    its schema, and for a 2xx :func:`validate_usage` and :func:`validate_finish_reasons`.
    ``request``: the request body, or ``None`` when unknown (a saved body): then what only
    the request can tell is not checked.
    """
    status = str(status)
    if media_type not in operation.response_media_types(status):
        documented = ", ".join(
            each
            for each in (operation.raw.get("responses") or {})
            if media_type in operation.response_media_types(each)
        )
        message = f"status {status} ({media_type or 'untyped'}) is not documented; "
        return [Violation((), message + f"documented: {documented}", "status")]
    streamed = media_type == EVENT_STREAM
    success = status.startswith("2")
    found: list[Violation] = []
    if success and isinstance(request, Mapping):
        found += stream_mismatch(request, media_type)
    if streamed:
        found += validate_stream(operation, body)
        if success:
            found += validate_usage(operation, request, body)
            if request is not None:
                found += validate_finish_reasons(operation, request, body)
        return found
    try:
        payload = json.loads(body) if isinstance(body, str | bytes) else body
    except (ValueError, RecursionError) as exc:  # not JSON, or nested too deeply
        return [*found, Violation((), f"the body is not JSON: {exc}", "json")]
    schema = validate_response(operation, payload, status, media_type)
    found += schema
    if success:
        found += validate_usage(operation, None, payload)
        if not schema and request is not None:
            found += validate_finish_reasons(operation, request, payload)
    return found


def stream_mismatch(request: Any, media_type: str) -> list[Violation]:
    """An answer that is a stream where the request did not ask for one (``stream: true``),
    or not one where it did."""
    asked = isinstance(request, Mapping) and request.get("stream") is True
    if asked == (media_type == EVENT_STREAM):
        return []
    sent = request.get("stream") if isinstance(request, Mapping) else None
    wanted = EVENT_STREAM if asked else JSON
    message = f"stream is {sent!r} but the response is {media_type or 'untyped'}, not {wanted}"
    return [Violation((), message, "sse")]


def validate_event(operation: Operation, payload: Any) -> list[Violation]:
    """Violations of one stream chunk (chat) or event (Responses), without its position."""
    return operation.response_validator("200", EVENT_STREAM).violations(payload)


def is_responses_stream(operation: Operation) -> bool:
    """Whether the operation streams typed events (``event:`` lines) rather than chunks."""
    return isinstance(operation.response_validator("200", EVENT_STREAM), TaggedUnion)


def validate_stream(
    operation: Operation, stream: str | bytes | Sequence[ServerSentEvent]
) -> list[Violation]:
    """Violations of a whole stream: each event against its schema, plus the framing rules.

    Chat streams end with ``data: [DONE]`` (or an in-stream error); Responses streams name
    each event's type in an ``event:`` line equal to the payload's ``type``, number events
    from 0 without gaps, start with ``response.created`` and end with exactly one terminal
    event. What a client assembles must agree with itself (:mod:`harness.stream_consistency`).
    """
    events = (
        list(stream)
        if isinstance(stream, Sequence) and not isinstance(stream, str | bytes)
        else decode_stream(stream)
    )
    if is_responses_stream(operation):
        return _validate_typed_events(operation, events)
    return _validate_chunks(operation, events)


def _decode(index: int, event: ServerSentEvent) -> tuple[Any, list[Violation]]:
    try:
        return event.json(), []
    except ValueError as exc:
        return None, [Violation((index,), f"data is not JSON ({exc}): {event.data[:80]!r}", "sse")]


def _validate_chunks(operation: Operation, events: Sequence[ServerSentEvent]) -> list[Violation]:
    found: list[Violation] = []
    if not events:
        return [Violation((), "the stream has no events", "sse")]
    error_at: int | None = None
    chunks: list[tuple[int, dict[str, Any]]] = []
    for index, event in enumerate(events):
        if event.data == DONE:
            continue
        if error_at is not None:
            message = f"an event follows the in-stream error of event {error_at}"
            found.append(Violation((index,), message, "sse"))
            break
        payload, problems = _decode(index, event)
        found.extend(problems)
        if problems:
            continue
        if _is_chat_error(payload):
            error_at = index
            found.extend(_chat_error_violations(index, payload))
            continue
        found.extend(v.prefixed((index,)) for v in validate_event(operation, payload))
        if isinstance(payload, dict):
            chunks.append((index, payload))
    done = _done_violations(events, ended_in_error=error_at is not None)
    found.extend(done)
    ended = error_at is None and not done  # the stream ended as a finished one does
    found.extend(chat_consistency(chunks, ended=ended))
    return found


def _is_chat_error(payload: Any) -> bool:
    return isinstance(payload, dict) and "error" in payload


def _chat_error_violations(index: int, payload: dict[str, Any]) -> list[Violation]:
    # The SDK raises APIError with the error's message (specs/README.md §4).
    if isinstance(_get(payload["error"], "message"), str):
        return []
    message = "an in-stream error must be an object with a string message"
    return [Violation((index, "error"), message, "sse")]


def _done_violations(events: Sequence[ServerSentEvent], *, ended_in_error: bool) -> list[Violation]:
    done_at = [index for index, event in enumerate(events) if event.data == DONE]
    if not done_at:
        if ended_in_error:
            return []  # the live API ends a failed stream without [DONE]
        return [Violation((), "the stream does not end with data: [DONE]", "sse")]
    if done_at[0] != len(events) - 1:
        return [Violation((done_at[0],), "data: [DONE] is not the last event", "sse")]
    return []


def stream_error(events: Sequence[ServerSentEvent]) -> tuple[int, str] | None:
    """Where a stream reports a failure after it started, and its ``code: message``.

    Chat: a ``data: {"error": {...}}`` event; Responses: an ``error`` event, or failing that
    a ``response.failed`` one. ``None`` when the stream reports no error.
    """
    for index, payload in _payloads(events):
        kind = payload.get("type")
        if kind == "error" or (kind is None and "error" in payload):
            # Live Responses nest the error's fields under "error"; the spec puts them flat.
            error = payload.get("error") if isinstance(payload.get("error"), Mapping) else payload
            return index, _describe_error(error)
        if kind == "response.failed":
            return index, _describe_error(_get(payload.get("response"), "error"))
    return None


def _describe_error(error: Any) -> str:
    code = _get(error, "code") or _get(error, "type") or "error"
    return f"{code}: {_get(error, 'message')}"


def _validate_typed_events(
    operation: Operation, events: Sequence[ServerSentEvent]
) -> list[Violation]:
    found: list[Violation] = []
    if not events:
        return [Violation((), "the stream has no events", "sse")]
    payloads: list[tuple[int, Any]] = []
    for index, event in enumerate(events):
        if event.data == DONE:
            found.append(Violation((index,), "Responses streams have no data: [DONE]", "sse"))
            continue
        payload, problems = _decode(index, event)
        found.extend(problems)
        if problems:
            continue
        found.extend(v.prefixed((index,)) for v in validate_event(operation, payload))
        event_type = payload.get("type") if isinstance(payload, dict) else None
        if event.event is not None and event.event != event_type:
            found.append(
                Violation((index,), f"event: {event.event} but data.type is {event_type!r}", "sse")
            )
        payloads.append((index, payload))
    found.extend(_sequence_violations(payloads))
    found.extend(responses_consistency((i, p) for i, p in payloads if isinstance(p, dict)))
    return found


def _sequence_violations(payloads: Iterable[tuple[int, Any]]) -> list[Violation]:
    found: list[Violation] = []
    ordered = [(index, p) for index, p in payloads if isinstance(p, dict)]
    if not ordered:
        return found
    first_index, first = ordered[0]
    if first.get("type") != "response.created":
        message = f"the first event is {first.get('type')!r}, not 'response.created'"
        found.append(Violation((first_index,), message, "sequence"))
    expected = 0
    for index, payload in ordered:
        number = payload.get("sequence_number")
        if number != expected:
            message = f"sequence_number is {number!r}, expected {expected}"
            found.append(Violation((index, "sequence_number"), message, "sequence"))
        expected = (number if isinstance(number, int) else expected) + 1
    found.extend(_index_violations(ordered))
    terminals = [index for index, p in ordered if p.get("type") in RESPONSES_TERMINAL_EVENTS]
    if not terminals:
        found.append(Violation((), "the stream ends without a terminal response event", "sequence"))
    elif len(terminals) > 1 or terminals[0] != ordered[-1][0]:
        message = "the terminal response event must come once, last"
        found.append(Violation((terminals[0],), message, "sequence"))
    return found


def _index_violations(ordered: Sequence[tuple[int, dict[str, Any]]]) -> list[Violation]:
    """``output_index``/``content_index``/``item_id`` must point at what was opened, in order.

    The SDK's accumulator appends an item on ``output_item.added`` and a part on
    ``content_part.added`` and then indexes them (specs/README.md §4), so an index that skips
    ahead, points at nothing, or names another item's id breaks every client.
    """
    items = _OpenedItems()
    found: list[Violation] = []
    for index, payload in ordered:
        found.extend(v.prefixed((index,)) for v in items.follow(payload))
    return found


class _OpenedItems:
    """The output items and content parts a Responses stream has opened so far."""

    def __init__(self) -> None:
        self.ids: list[Any] = []  # by output_index, in the order the items were added
        self.parts: list[int] = []  # number of content parts added, by output_index
        self.done: set[int] = set()

    def follow(self, payload: dict[str, Any]) -> list[Violation]:
        event_type = payload.get("type")
        output_index = payload.get("output_index")
        if not _is_index(output_index):
            return []
        if event_type == "response.output_item.added":
            return self._add_item(output_index, payload.get("item"))
        if output_index >= len(self.ids):
            added = len(self.ids)
            return [_index_error("output_index", f"{output_index} names no item ({added} added)")]
        found = []
        if output_index in self.done:
            found.append(
                _index_error("output_index", f"{event_type} after item {output_index} was done")
            )
        known_id, item_id = self.ids[output_index], payload.get("item_id")
        if item_id is not None and known_id not in (None, item_id):
            found.append(
                _index_error(
                    "item_id", f"{item_id!r} is not output item {output_index}'s id {known_id!r}"
                )
            )
        if event_type == "response.output_item.done":
            self.done.add(output_index)
        content_index = payload.get("content_index")
        if _is_index(content_index):
            found.extend(self._follow_part(event_type, output_index, content_index))
        return found

    def _add_item(self, output_index: int, item: Any) -> list[Violation]:
        if output_index != len(self.ids):
            return [_index_error("output_index", f"is {output_index}, expected {len(self.ids)}")]
        self.ids.append(_get(item, "id"))
        self.parts.append(0)
        return []

    def _follow_part(
        self, event_type: Any, output_index: int, content_index: int
    ) -> list[Violation]:
        added = self.parts[output_index]
        if event_type == "response.content_part.added":
            if content_index != added:
                return [_index_error("content_index", f"is {content_index}, expected {added}")]
            self.parts[output_index] += 1
        elif content_index >= added:
            text = f"{content_index} names no part of output item {output_index} ({added} added)"
            return [_index_error("content_index", text)]
        return []


def _index_error(field: str, detail: str) -> Violation:
    return Violation((field,), f"{field} {detail}", "index")


def _is_index(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_usage(operation: Operation, request: Any, response: Any) -> list[Violation]:
    """Token counts must add up, and a chat stream must carry usage exactly when asked.

    ``response`` is a decoded JSON body, or a stream (its events, or the raw SSE text);
    ``request`` is the request body, or ``None`` when unknown (a saved body).
    Chat: ``total_tokens = prompt_tokens + completion_tokens``; a stream sent with
    ``stream_options.include_usage`` ends with one usage chunk whose ``choices`` is empty
    (unless it failed midway), and without it no chunk carries usage. Responses:
    ``total_tokens = input_tokens + output_tokens`` in the body or the terminal event's
    response.
    """
    responses = is_responses_stream(operation)
    parts = (
        ("input_tokens", "output_tokens") if responses else ("prompt_tokens", "completion_tokens")
    )
    events = _as_events(response)
    if events is None:
        return _usage_sum((), _get(response, "usage"), parts)
    found: list[Violation] = []
    payloads = list(_payloads(events))
    if responses:
        for index, payload in payloads:
            if payload.get("type") in RESPONSES_TERMINAL_EVENTS:
                usage = _get(payload.get("response"), "usage")
                found.extend(_usage_sum((index, "response"), usage, parts))
        return found
    with_usage = [(index, p) for index, p in payloads if isinstance(p.get("usage"), Mapping)]
    for index, payload in with_usage:
        found.extend(_usage_sum((index,), payload["usage"], parts))
    if request is None:
        return found  # without the request, whether usage was asked for is unknown
    if stream_error(events) is not None:
        return found  # a stream that failed midway never reaches its usage chunk
    if _get(_get(request, "stream_options"), "include_usage") is True:
        if not with_usage:
            message = "stream_options.include_usage was sent but no chunk carries usage"
            found.append(Violation((), message, "usage"))
        elif len(with_usage) > 1 or with_usage[0][1].get("choices") != []:
            message = "the usage must come once, in a last chunk whose choices is empty"
            found.append(Violation((with_usage[0][0], "usage"), message, "usage"))
    elif with_usage:
        message = "a chunk carries usage although stream_options.include_usage was not sent"
        found.append(Violation((with_usage[0][0], "usage"), message, "usage"))
    return found


def validate_finish_reasons(operation: Operation, request: Any, response: Any) -> list[Violation]:
    """Finish reasons the request made possible, and tool calls only to the tools it sent.

    Chat: ``length`` only with ``max_tokens``/``max_completion_tokens``; ``tool_calls`` only
    when tools were sent (and ``tool_choice`` is not ``none``), with calls to those tools.
    Responses: ``incomplete`` for ``max_output_tokens`` only when it was set; ``function_call``
    output items only for the function tools sent.
    """
    events = _as_events(response)
    if is_responses_stream(operation):
        if events is None:
            return _responses_reasons((), request, response)
        found: list[Violation] = []
        for index, payload in _payloads(events):
            if payload.get("type") in RESPONSES_TERMINAL_EVENTS:
                found.extend(
                    _responses_reasons((index, "response"), request, payload.get("response"))
                )
        return found
    if events is None:
        choices = _get(response, "choices")
        return [
            violation
            for position, choice in _enumerate(choices)
            for violation in _chat_reason(
                ("choices", position), request, choice, _get(choice, "message")
            )
        ]
    return _chat_stream_reasons(request, events)


def _chat_stream_reasons(request: Any, events: Sequence[ServerSentEvent]) -> list[Violation]:
    found: list[Violation] = []
    for index, payload in _payloads(events):
        for position, choice in _enumerate(payload.get("choices")):
            path = (index, "choices", position)
            found.extend(_chat_reason(path, request, choice, _get(choice, "delta")))
    return found


def _chat_reason(
    path: tuple[str | int, ...], request: Any, choice: Any, message: Any
) -> list[Violation]:
    found: list[Violation] = []
    reason = _get(choice, "finish_reason")
    limits = [
        name for name in ("max_tokens", "max_completion_tokens") if _get(request, name) is not None
    ]
    if reason == "length" and not limits:
        message_text = (
            "finish_reason is 'length' but the request set no max_tokens/max_completion_tokens"
        )
        found.append(Violation((*path, "finish_reason"), message_text, "finish_reason"))
    tools = _tool_names(request, chat=True)
    calls = _get(message, "tool_calls")
    if reason == "tool_calls" and tools is None:
        text = "finish_reason is 'tool_calls' but the request sent no tools (or tool_choice 'none')"
        found.append(Violation((*path, "finish_reason"), text, "finish_reason"))
    for position, call in _enumerate(calls):
        name = _get(_get(call, "function"), "name")
        if name is not None and (tools is None or name not in tools):
            text = f"a call to {name!r}, which is not among the tools sent ({sorted(tools or [])})"
            where = (*path, "message" if "message" in choice else "delta", "tool_calls", position)
            found.append(Violation(where, text, "finish_reason"))
    return found


def _responses_reasons(path: tuple[str | int, ...], request: Any, body: Any) -> list[Violation]:
    found: list[Violation] = []
    reason = _get(_get(body, "incomplete_details"), "reason")
    if reason == "max_output_tokens" and _get(request, "max_output_tokens") is None:
        text = "incomplete for max_output_tokens but the request set no max_output_tokens"
        found.append(Violation((*path, "incomplete_details", "reason"), text, "finish_reason"))
    tools = _tool_names(request, chat=False)
    for position, item in _enumerate(_get(body, "output")):
        if _get(item, "type") != "function_call":
            continue
        name = _get(item, "name")
        if tools is None or name not in tools:
            text = f"a function_call to {name!r}, which is not among the function tools sent"
            found.append(Violation((*path, "output", position), text, "finish_reason"))
    return found


def _tool_names(request: Any, *, chat: bool) -> set[str] | None:
    """Names of the function tools a request offers; ``None`` if it offers none."""
    tools = _get(request, "tools")
    if not isinstance(tools, list) or not tools or _get(request, "tool_choice") == "none":
        return None
    names = set()
    for tool in tools:
        if _get(tool, "type") != "function":
            continue
        name = _get(_get(tool, "function"), "name") if chat else _get(tool, "name")
        if isinstance(name, str):
            names.add(name)
    return names or None


def _usage_sum(path: tuple[str | int, ...], usage: Any, parts: tuple[str, str]) -> list[Violation]:
    if not isinstance(usage, Mapping):
        return []
    first, second, total = (usage.get(name) for name in (*parts, "total_tokens"))
    if not (_is_number(first) and _is_number(second) and _is_number(total)):
        return []
    if first + second == total:
        return []
    message = f"total_tokens is {total}, but {parts[0]} + {parts[1]} = {first + second}"
    return [Violation((*path, "usage", "total_tokens"), message, "usage")]


def _as_events(response: Any) -> list[ServerSentEvent] | None:
    """The events of a stream, or ``None`` when ``response`` is a JSON body."""
    if isinstance(response, str | bytes):
        return decode_stream(response)
    if isinstance(response, Sequence) and all(isinstance(e, ServerSentEvent) for e in response):
        return list(response)
    return None


def _payloads(events: Sequence[ServerSentEvent]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each event that holds a JSON object, with its position (framing is not judged here)."""
    for index, event in enumerate(events):
        if event.data == DONE:
            continue
        try:
            payload = event.json()
        except (ValueError, RecursionError):  # not JSON, or nested too deeply
            continue
        if isinstance(payload, dict):
            yield index, payload


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def _enumerate(values: Any) -> Iterator[tuple[int, Any]]:
    return enumerate(values) if isinstance(values, list) else iter(())


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
