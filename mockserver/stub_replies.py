"""What a matched stub's reply does to a request: a scripted reply, an error, or a fault.

The stubs store (``stubs``) finds the stub; this is where its ``reply`` takes effect, after
the request passed validation: ``{"error": {...}}`` answers with that error,
``{"fault": name}`` and ``{"stream_error": {...}}`` set the request's fault, and
``{"text": ...}`` or ``{"tool_call": ...}`` become the reply the engine plans.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.errors import INVALID_REQUEST, SERVER_ERROR, ErrorReply, MockError
from mockserver.faults import (
    RATE_LIMIT_HEADERS,
    FaultPlan,
    end_before_reply,
    fault_named,
    stub_stream_error,
)
from mockserver.journal import JournalEntry


@dataclass(frozen=True)
class StubbedReply:
    """The request's faults once the stub's reply is applied, and the reply it scripts."""

    faults: FaultPlan
    override: Mapping[str, Any] | None = None


def apply_stub_reply(
    reply: Mapping[str, Any], model: str, faults: FaultPlan, entry: JournalEntry
) -> StubbedReply:
    """Apply a stub's ``reply``; an error or a held fault ends the request here (raised)."""
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
