"""What a matched stub's reply does to a request: a scripted reply, an error, or a fault.

The stubs store (``stubs``) finds the stub; this is where its ``reply`` takes effect, after
the request passed validation: ``{"error": {...}}`` answers with that error,
``{"fault": name}`` and ``{"stream_error": {...}}`` set the request's fault, and
``{"text": ...}`` or ``{"tool_call": ...}`` become the reply the engine plans.

``{"chaos": {"rate_limit": 0.5}}``, alone or beside one of those, draws a fault for each use
of the stub (seeded, see :mod:`mockserver.chaos`); when none is drawn the rest of the reply
applies (alone: the engine's own reply). A request that already has a fault (an
``X-Mock-Fault`` header, server-wide chaos) keeps it: the stub's chaos draws nothing then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.chaos import stub_fault
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
from mockserver.stubs import Stub

# The replies the engine plans from (the others set a fault or an error).
SCRIPTED = ("text", "tool_call")


@dataclass(frozen=True)
class StubbedReply:
    """The request's faults once the stub's reply is applied, and the reply it scripts."""

    faults: FaultPlan
    override: Mapping[str, Any] | None = None


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
    if "chaos" in reply:
        reply = {key: value for key, value in reply.items() if key != "chaos"}
        drawn = _drawn_fault(stub, chaos_seed) if faults.fault is None else None
        if drawn is not None:
            entry.fault = drawn.name
            end_before_reply(drawn, model)
            scripted = {key: reply[key] for key in SCRIPTED if key in reply}
            return StubbedReply(faults.with_fault(drawn), scripted or None)
        if not reply:
            return StubbedReply(faults)
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
    return StubbedReply(faults, reply)


def _drawn_fault(stub: Stub | None, seed: int) -> Fault | None:
    if stub is None:
        return None
    definition = {"match": dict(stub.match), "reply": dict(stub.reply)}
    return stub_fault(stub.reply["chaos"], seed, definition, stub.used)


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
