"""Render a :class:`ResponsesPlan` as the real wire: a Response object, or its stream events.

Shapes and order follow the recorded gpt-4-0613 wire and what the SDK's stream accumulator
relies on (SPEC-NOTES 3.3, 3.5): ``response.created`` and ``response.in_progress`` carry an
in-progress snapshot (``output: []``, ``usage: null``); each output item is opened
(``output_item.added``), filled by deltas, closed (``output_item.done``); the stream ends with
``response.completed`` (or ``response.incomplete``) carrying the same object the JSON body is;
``sequence_number`` counts from 0. ``logprobs: []`` is sent where the SDK's event types
require the field (text deltas and done events), and in output_text parts as the current wire
does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from mockserver.engine.responses import (
    FunctionCallOutput,
    MessageOutput,
    OutputItem,
    ResponsesPlan,
)

STATUS_IN_PROGRESS = "in_progress"
SERVICE_TIER = "default"


def response_body(plan: ResponsesPlan) -> dict[str, Any]:
    """The finished Response object (the JSON body, the terminal event's, the stored one)."""
    incomplete = {"reason": plan.incomplete_reason} if plan.incomplete_reason else None
    return _response(
        plan,
        status=plan.status,
        incomplete_details=incomplete,
        output=[_item(item) for item in plan.output],
        output_text=plan.output_text,
        usage=_usage(plan),
    )


def response_snapshot(plan: ResponsesPlan) -> dict[str, Any]:
    """The Response as ``response.created`` and ``response.in_progress`` show it."""
    return _response(
        plan,
        status=STATUS_IN_PROGRESS,
        incomplete_details=None,
        output=[],
        output_text="",
        usage=None,
    )


def response_events(plan: ResponsesPlan) -> Iterator[dict[str, Any]]:
    """Every stream event, in order, numbered from 0."""
    for number, (event_type, fields) in enumerate(_events(plan)):
        yield {"type": event_type, "sequence_number": number, **fields}


def _events(plan: ResponsesPlan) -> Iterator[tuple[str, dict[str, Any]]]:
    yield "response.created", {"response": response_snapshot(plan)}
    yield "response.in_progress", {"response": response_snapshot(plan)}
    for index, item in enumerate(plan.output):
        if isinstance(item, MessageOutput):
            yield from _message_events(index, item)
        else:
            yield from _function_call_events(index, item)
    terminal = "response.incomplete" if plan.incomplete_reason else "response.completed"
    yield terminal, {"response": response_body(plan)}


def _message_events(index: int, item: MessageOutput) -> Iterable[tuple[str, dict[str, Any]]]:
    where = {"item_id": item.id, "output_index": index, "content_index": 0}
    yield "response.output_item.added", {"output_index": index, "item": _message(item, opened=True)}
    yield "response.content_part.added", {**where, "part": _text_part("")}
    for piece in item.pieces:
        yield "response.output_text.delta", {**where, "delta": piece.text, "logprobs": []}
    yield "response.output_text.done", {**where, "text": item.text, "logprobs": []}
    yield "response.content_part.done", {**where, "part": _text_part(item.text)}
    yield "response.output_item.done", {"output_index": index, "item": _message(item)}


def _function_call_events(
    index: int, item: FunctionCallOutput
) -> Iterable[tuple[str, dict[str, Any]]]:
    where = {"item_id": item.id, "output_index": index}
    opened = _function_call(item, opened=True)
    yield "response.output_item.added", {"output_index": index, "item": opened}
    for piece in item.call.argument_pieces:
        yield "response.function_call_arguments.delta", {**where, "delta": piece.text}
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
        "content": [] if opened else [_text_part(item.text)],
        "role": "assistant",
    }


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


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
    output_text: str,
    usage: dict[str, Any] | None,
) -> dict[str, Any]:
    settings = plan.settings
    # Key order as on the recorded wire; `output_text` is declared by the AIML spec (the
    # SDK computes the same value client-side).
    return {
        "id": plan.id,
        "object": "response",
        "created_at": plan.created_at,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": incomplete_details,
        "instructions": settings.instructions,
        "max_output_tokens": settings.max_output_tokens,
        "model": plan.model,
        "output": output,
        "output_text": output_text,
        "parallel_tool_calls": settings.parallel_tool_calls,
        "previous_response_id": settings.previous_response_id,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": SERVICE_TIER,
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
