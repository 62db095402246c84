"""Render a :class:`ResponsesPlan` as the real wire: a Response object, or its stream events.

Shapes and order follow the recorded gpt-4-0613 wire and what the SDK's stream accumulator
relies on (specs/README.md §4): ``response.created`` and ``response.in_progress`` carry an
in-progress snapshot (``output: []``, ``usage: null``); each output item is opened
(``output_item.added``), filled by deltas, closed (``output_item.done``); the stream ends with
``response.completed`` (or ``response.incomplete``) carrying the same object the JSON body is;
``sequence_number`` counts from 0. ``logprobs: []`` is sent where the SDK's event types
require the field (text deltas and done events), and in output_text parts as the current wire
does; a request that includes ``message.output_text.logprobs`` gets an entry per token there
instead (parts: ``ResponseOutputText.Logprob``, with ``bytes``; events:
``ResponseTextDeltaEvent.Logprob``, without), each delta the entries of its own tokens.
Deltas carry ``obfuscation`` padding unless the request turned it off (see
``render.obfuscation``); ``service_tier`` is ``"auto"`` until the response is done, then
``"default"``; no ``output_text`` (an SDK convenience the live API never sends). A stream
that fails part-way ends with ``error`` and ``response.failed``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from mockserver.engine.plan import TokenLogprob
from mockserver.engine.responses import (
    FunctionCallOutput,
    MessageOutput,
    OutputItem,
    ResponsesPlan,
)
from mockserver.engine.tokens import Piece
from mockserver.render.logprobs import logprob_json
from mockserver.render.obfuscation import Padding

STATUS_IN_PROGRESS = "in_progress"
STATUS_FAILED = "failed"
# The live API says the tier asked for ("auto", the default) while the response is in
# progress, and the tier that served it once it is done (recorded Responses streams).
SERVICE_TIER_REQUESTED = "auto"
SERVICE_TIER_DONE = "default"


def response_body(plan: ResponsesPlan) -> dict[str, Any]:
    """The finished Response object (the JSON body, the terminal event's, the stored one)."""
    incomplete = {"reason": plan.incomplete_reason} if plan.incomplete_reason else None
    return _response(
        plan,
        status=plan.status,
        incomplete_details=incomplete,
        output=[_item(item) for item in plan.output],
        usage=_usage(plan),
        service_tier=SERVICE_TIER_DONE,
    )


def response_snapshot(plan: ResponsesPlan) -> dict[str, Any]:
    """The Response as ``response.created`` and ``response.in_progress`` show it."""
    return _response(
        plan,
        status=STATUS_IN_PROGRESS,
        incomplete_details=None,
        output=[],
        usage=None,
        service_tier=SERVICE_TIER_REQUESTED,
    )


def failed_response(plan: ResponsesPlan, error: Mapping[str, Any]) -> dict[str, Any]:
    """The Response of a stream that failed part-way (``response.failed``, the stored one).

    As on the live wire: ``status: "failed"``, ``error: {code, message}``, no usage.
    """
    failure = {"code": error["code"], "message": error["message"]}
    return _response(
        plan,
        status=STATUS_FAILED,
        incomplete_details=None,
        output=[],
        usage=None,
        service_tier=SERVICE_TIER_REQUESTED,
        error=failure,
    )


def response_events(plan: ResponsesPlan, *, obfuscate: bool = False) -> Iterator[dict[str, Any]]:
    """Every stream event, in order, numbered from 0; deltas padded if ``obfuscate``."""
    for number, (event_type, fields) in enumerate(_events(plan, obfuscate)):
        yield {"type": event_type, "sequence_number": number, **fields}


def failed_response_events(
    plan: ResponsesPlan, error: Mapping[str, Any], after: int, *, obfuscate: bool = False
) -> Iterator[dict[str, Any]]:
    """The stream of a response that fails after ``after`` events, as the live API ends it.

    The events before the failure, then ``error`` (the details nested under ``error``, which
    is what makes the SDKs raise) and ``response.failed``. A count past the last event
    before the terminal one fails in its place; a stream opens with ``response.created``
    whatever the count (0 counts as 1), as every live stream does.
    """
    events = list(_events(plan, obfuscate))[:-1]
    sent = events[: max(after, 1)]
    for number, (event_type, fields) in enumerate(sent):
        yield {"type": event_type, "sequence_number": number, **fields}
    yield {"type": "error", "sequence_number": len(sent), "error": dict(error)}
    failed = {"response": failed_response(plan, error)}
    yield {"type": "response.failed", "sequence_number": len(sent) + 1, **failed}


def _events(plan: ResponsesPlan, obfuscate: bool) -> Iterator[tuple[str, dict[str, Any]]]:
    yield "response.created", {"response": response_snapshot(plan)}
    yield "response.in_progress", {"response": response_snapshot(plan)}
    padding = Padding() if obfuscate else None
    for index, item in enumerate(plan.output):
        if isinstance(item, MessageOutput):
            yield from _message_events(index, item, padding)
        else:
            yield from _function_call_events(index, item, padding)
    terminal = "response.incomplete" if plan.incomplete_reason else "response.completed"
    yield terminal, {"response": response_body(plan)}


def _message_events(
    index: int, item: MessageOutput, padding: Padding | None
) -> Iterable[tuple[str, dict[str, Any]]]:
    where = {"item_id": item.id, "output_index": index, "content_index": 0}
    yield "response.output_item.added", {"output_index": index, "item": _message(item, opened=True)}
    yield "response.content_part.added", {**where, "part": _text_part("")}
    for piece, entries in _pieces_with_logprobs(item):
        delta = {**where, "delta": piece.text, "logprobs": _event_logprobs(entries)}
        if padding is not None:
            delta["obfuscation"] = padding.for_delta(piece.text)
        yield "response.output_text.delta", delta
    done = {**where, "text": item.text, "logprobs": _event_logprobs(item.logprobs or ())}
    yield "response.output_text.done", done
    yield "response.content_part.done", {**where, "part": _text_part(item.text, item.logprobs)}
    yield "response.output_item.done", {"output_index": index, "item": _message(item)}


def _function_call_events(
    index: int, item: FunctionCallOutput, padding: Padding | None
) -> Iterable[tuple[str, dict[str, Any]]]:
    where = {"item_id": item.id, "output_index": index}
    opened = _function_call(item, opened=True)
    yield "response.output_item.added", {"output_index": index, "item": opened}
    for piece in item.call.argument_pieces:
        delta = {**where, "delta": piece.text}
        if padding is not None:
            delta["obfuscation"] = padding.for_delta(piece.text)
        yield "response.function_call_arguments.delta", delta
    # `name` is not in the published event schema, but the live wire and OpenAI's spec carry
    # it, and SDK releases that declare it (v3.3.1) require it.
    done = {**where, "name": item.call.name, "arguments": item.call.arguments}
    yield "response.function_call_arguments.done", done
    yield "response.output_item.done", {"output_index": index, "item": _function_call(item)}


def _item(item: OutputItem) -> dict[str, Any]:
    return _message(item) if isinstance(item, MessageOutput) else _function_call(item)


def _message(item: MessageOutput, *, opened: bool = False) -> dict[str, Any]:
    return {
        "id": item.id,
        "type": "message",
        "status": STATUS_IN_PROGRESS if opened else item.status,
        "content": [] if opened else [_text_part(item.text, item.logprobs)],
        "role": "assistant",
    }


def _text_part(text: str, logprobs: Iterable[TokenLogprob] | None = None) -> dict[str, Any]:
    entries = [logprob_json(entry) for entry in logprobs or ()]
    return {"type": "output_text", "annotations": [], "logprobs": entries, "text": text}


def _event_logprobs(entries: Iterable[TokenLogprob]) -> list[dict[str, Any]]:
    # ResponseTextDeltaEvent.Logprob: no bytes (OpenAI's ResponseLogProb; overlay R5).
    return [
        {
            "token": entry.token,
            "logprob": entry.logprob,
            "top_logprobs": [{"token": top.token, "logprob": top.logprob} for top in entry.top],
        }
        for entry in entries
    ]


def _pieces_with_logprobs(
    item: MessageOutput,
) -> Iterator[tuple[Piece, tuple[TokenLogprob, ...]]]:
    """Each stream delta with the logprobs of its tokens (none without logprobs).

    A piece of several tokens (a character the tokenizer splits) has an entry per token, so
    the entries are taken by each piece's token count, as the chat stream takes them.
    """
    logprobs = item.logprobs or ()
    position = 0
    for piece in item.pieces:
        count = len(piece.parts) or 1
        yield piece, logprobs[position : position + count]
        position += count


def _function_call(item: FunctionCallOutput, *, opened: bool = False) -> dict[str, Any]:
    return {
        "id": item.id,
        "type": "function_call",
        "status": STATUS_IN_PROGRESS if opened else item.status,
        "arguments": "" if opened else item.call.arguments,
        "call_id": item.call.call_id,
        "name": item.call.name,
    }


def _usage(plan: ResponsesPlan) -> dict[str, Any]:
    return {
        "input_tokens": plan.input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": plan.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": plan.total_tokens,
    }


def _response(
    plan: ResponsesPlan,
    *,
    status: str,
    incomplete_details: dict[str, Any] | None,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    service_tier: str,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    settings = plan.settings
    # Key order as on the recorded wire. No `output_text`: the AIML spec declares it, but
    # the live API never sends it (the SDKs compute it from `output`), and a raw-JSON client
    # that read it here would break against the live API.
    return {
        "id": plan.id,
        "object": "response",
        "created_at": plan.created_at,
        "status": status,
        "background": False,
        "error": error,
        "incomplete_details": incomplete_details,
        "instructions": settings.instructions,
        "max_output_tokens": settings.max_output_tokens,
        "model": plan.model,
        "output": output,
        "parallel_tool_calls": settings.parallel_tool_calls,
        "previous_response_id": settings.previous_response_id,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": service_tier,
        "store": settings.store,
        "temperature": settings.temperature,
        "text": dict(settings.text),
        "tool_choice": settings.tool_choice,
        "tools": [dict(tool) for tool in settings.tools],
        "top_p": settings.top_p,
        "truncation": settings.truncation,
        "usage": usage,
        "user": settings.user,
        "metadata": dict(settings.metadata),
    }
