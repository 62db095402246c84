"""Validate requests, response bodies and streams against an operation of the effective spec.

Every function returns all violations as data; an empty list means the input conforms.
Stream violations carry the event's position as the first element of their path, so
``/3/choices/0/delta`` is the fourth event's delta.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from harness.schema import TaggedUnion, Violation
from harness.spec.index import EVENT_STREAM, JSON, Operation
from harness.sse import DONE, ServerSentEvent, decode_stream

# Responses events that end a stream; exactly one must arrive, and last.
RESPONSES_TERMINAL_EVENTS = frozenset(
    {"response.completed", "response.incomplete", "response.failed"}
)


def validate_request(operation: Operation, body: Any) -> list[Violation]:
    """Violations of a JSON request body."""
    return operation.request_validator.violations(body)


def validate_response(
    operation: Operation, body: Any, status: str | int = "200", media_type: str = JSON
) -> list[Violation]:
    """Violations of a JSON response body (``status`` picks the documented response)."""
    return operation.response_validator(str(status), media_type).violations(body)


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

    Chat streams end with ``data: [DONE]``; Responses streams name each event's type in an
    ``event:`` line equal to the payload's ``type``, number events from 0 without gaps, start
    with ``response.created`` and end with exactly one terminal event.
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
    done_at = [index for index, event in enumerate(events) if event.data == DONE]
    if not done_at:
        found.append(Violation((), "the stream does not end with data: [DONE]", "sse"))
    elif done_at[0] != len(events) - 1:
        found.append(Violation((done_at[0],), "data: [DONE] is not the last event", "sse"))
    for index, event in enumerate(events):
        if event.data == DONE:
            continue
        payload, problems = _decode(index, event)
        found.extend(problems)
        if problems:
            continue
        if isinstance(payload, dict) and "error" in payload:
            found.append(Violation((index,), "the stream carries an error event", "sse"))
            continue
        found.extend(v.prefixed((index,)) for v in validate_event(operation, payload))
    return found


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
    terminals = [index for index, p in ordered if p.get("type") in RESPONSES_TERMINAL_EVENTS]
    if not terminals:
        found.append(Violation((), "the stream ends without a terminal response event", "sequence"))
    elif len(terminals) > 1 or terminals[0] != ordered[-1][0]:
        message = "the terminal response event must come once, last"
        found.append(Violation((terminals[0],), message, "sequence"))
    return found
