"""What a matched stub's reply does to a request: a scripted reply, an error, or a fault.

The stubs store (``stubs``) finds the stub; this is where its ``reply`` takes effect, after
the request passed validation: ``{"error": {...}}`` answers with that error,
``{"fault": name}`` and ``{"stream_error": {...}}`` set the request's fault, and
``{"text": ...}``, ``{"tool_call": ...}`` or ``{"tool_calls": [...]}`` become the reply the
engine plans. A sequence stub's reply is the one for this use (:meth:`Stub.answer`).

Beside any of those, ``latency_ms`` delays the first byte (as ``X-Mock-Latency-Ms``, which
wins when the request has it); ``usage`` and ``finish_reason`` change what the planned
reply reports (:func:`adjusted_chat_plan`, :func:`adjusted_response_plan`): ``usage`` sets
the prompt (input) and completion (output) token counts, the total being their sum;
``finish_reason`` sets each chat choice's, and for Responses ``length`` and
``content_filter`` make the response ``incomplete`` (``max_output_tokens``,
``content_filter``) while ``stop`` and ``tool_calls`` make it ``completed``.

``{"chaos": {"rate_limit": 0.5}}``, alone or beside one of those, draws a fault for each use
of the stub (seeded, see :mod:`mockserver.chaos`); when none is drawn the rest of the reply
applies (alone: the engine's own reply). A request that already has a fault (an
``X-Mock-Fault`` header, server-wide chaos) keeps it: the stub's chaos draws nothing then.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.chaos import stub_fault
from mockserver.engine.plan import FINISH_LENGTH, ChatPlan
from mockserver.engine.responses import (
    INCOMPLETE_MAX_OUTPUT_TOKENS,
    STATUS_COMPLETED,
    STATUS_INCOMPLETE,
    FunctionCallOutput,
    MessageOutput,
    ResponsesPlan,
)
from mockserver.errors import INVALID_REQUEST, SERVER_ERROR, ErrorReply, MockError
from mockserver.faults import (
    RATE_LIMIT_HEADERS,
    Fault,
    FaultPlan,
    end_before_reply,
    fault_named,
    stub_stream_error,
)
from mockserver.journal import JournalEntry
from mockserver.pausing import pause
from mockserver.stubs import Stub

# The replies the engine plans from (the others set a fault or an error).
SCRIPTED = ("text", "tool_call", "tool_calls")
# What a planned reply reports that a stub may set.
ADJUSTMENTS = ("usage", "finish_reason")
# Responses' incomplete_details.reason for a stub's finish_reason (others: completed).
INCOMPLETE_REASONS = {
    FINISH_LENGTH: INCOMPLETE_MAX_OUTPUT_TOKENS,
    "content_filter": "content_filter",
}


@dataclass(frozen=True)
class StubbedReply:
    """The request's faults once the stub's reply is applied, the reply it scripts, and
    what it changes in the planned reply (``usage``, ``finish_reason``)."""

    faults: FaultPlan
    override: Mapping[str, Any] | None = None
    adjustments: Mapping[str, Any] | None = None


def apply_stub_reply(
    reply: Mapping[str, Any],
    model: str,
    faults: FaultPlan,
    entry: JournalEntry,
    *,
    stub: Stub | None = None,
    chaos_seed: int = 0,
) -> StubbedReply:
    """Apply a stub's ``reply``; an error or a held fault ends the request here (raised).

    ``stub`` (the stub claimed, its ``used`` count this use's number) and ``chaos_seed``
    are what a ``chaos`` reply draws from.
    """
    latency_ms = reply.get("latency_ms")
    if latency_ms and not faults.latency_ms:  # a request's own header was served already
        pause(int(latency_ms) / 1000)
    adjustments = {key: reply[key] for key in ADJUSTMENTS if key in reply} or None
    reply = {key: value for key, value in reply.items() if key not in (*ADJUSTMENTS, "latency_ms")}
    if "chaos" in reply:
        reply = {key: value for key, value in reply.items() if key != "chaos"}
        drawn = _drawn_fault(stub, chaos_seed) if faults.fault is None else None
        if drawn is not None:
            entry.fault = drawn.name
            end_before_reply(drawn, model)
            scripted = {key: reply[key] for key in SCRIPTED if key in reply}
            return StubbedReply(faults.with_fault(drawn), scripted or None, adjustments)
    if not reply:  # the engine's own reply, maybe adjusted
        return StubbedReply(faults, None, adjustments)
    if "error" in reply:
        raise MockError(stubbed_error(reply["error"]))
    if "stream_error" in reply:
        planned = stub_stream_error(faults, reply["stream_error"])
        entry.fault = planned.name
        return StubbedReply(planned)
    if "fault" in reply:
        fault = fault_named(str(reply["fault"]))
        entry.fault = fault.name
        end_before_reply(fault, model)
        return StubbedReply(faults.with_fault(fault))
    return StubbedReply(faults, reply, adjustments)


def _drawn_fault(stub: Stub | None, seed: int) -> Fault | None:
    if stub is None:
        return None
    reply = stub.answer()
    # A single reply's draws keyed as they always were; a sequence's by its whole list.
    definition: dict[str, Any] = {"match": dict(stub.match)}
    if stub.replies:
        definition["replies"] = [dict(each) for each in stub.replies]
    else:
        definition["reply"] = dict(reply)
    return stub_fault(reply["chaos"], seed, definition, stub.used)


def adjusted_chat_plan(plan: ChatPlan, adjustments: Mapping[str, Any] | None) -> ChatPlan:
    """A chat plan with a stub's ``usage`` and ``finish_reason`` (``None``: as planned)."""
    if not adjustments:
        return plan
    choices = plan.choices
    finish = adjustments.get("finish_reason")
    if finish is not None:
        choices = tuple(dataclasses.replace(choice, finish_reason=finish) for choice in choices)
    usage = adjustments.get("usage") or {}
    completion = _first(usage, "completion_tokens", "output_tokens")
    if completion is not None and choices:
        # The plan's count is the choices' sum: the first choice carries what the others
        # do not, so the sum is the stub's whatever n is.
        share, rest = divmod(completion, len(choices))
        choices = tuple(
            dataclasses.replace(choice, completion_tokens=share + (rest if index == 0 else 0))
            for index, choice in enumerate(choices)
        )
    prompt = _first(usage, "prompt_tokens", "input_tokens")
    return dataclasses.replace(
        plan,
        choices=choices,
        prompt_tokens=plan.prompt_tokens if prompt is None else prompt,
    )


def adjusted_response_plan(
    plan: ResponsesPlan, adjustments: Mapping[str, Any] | None
) -> ResponsesPlan:
    """A Responses plan with a stub's ``usage`` and ``finish_reason`` (``None``: as planned)."""
    if not adjustments:
        return plan
    usage = adjustments.get("usage") or {}
    prompt = _first(usage, "prompt_tokens", "input_tokens")
    completion = _first(usage, "completion_tokens", "output_tokens")
    plan = dataclasses.replace(
        plan,
        input_tokens=plan.input_tokens if prompt is None else prompt,
        output_tokens=plan.output_tokens if completion is None else completion,
    )
    finish = adjustments.get("finish_reason")
    if finish is None:
        return plan
    reason = INCOMPLETE_REASONS.get(finish)
    # As the engine marks a reply the token limit cut: the last output item is incomplete.
    last = len(plan.output) - 1
    output = tuple(
        _with_status(item, STATUS_INCOMPLETE if reason and index == last else STATUS_COMPLETED)
        for index, item in enumerate(plan.output)
    )
    return dataclasses.replace(plan, output=output, incomplete_reason=reason)


def _with_status(
    item: MessageOutput | FunctionCallOutput, status: str
) -> MessageOutput | FunctionCallOutput:
    return dataclasses.replace(item, status=status)


def _first(usage: Mapping[str, Any], *names: str) -> int | None:
    for name in names:
        if name in usage:
            return int(usage[name])
    return None


def stubbed_error(error: Mapping[str, Any]) -> ErrorReply:
    """A stub's ``{"error": {...}}``, its missing fields filled as the API fills them."""
    status = int(error["status"])
    return ErrorReply(
        status,
        str(error.get("message") or f"Stubbed error {status}."),
        str(error.get("type") or (SERVER_ERROR if status >= 500 else INVALID_REQUEST)),
        error.get("param"),
        error.get("code"),
        headers=RATE_LIMIT_HEADERS if status == 429 else {},
    )
