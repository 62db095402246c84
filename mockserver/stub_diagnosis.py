"""Why a stub did not answer a request: the closest stubs and the fields that differed.

WireMock calls these near misses. For a request no stub answered, every stub is held
against it and the ones that differ the least are listed, each with what it expected and
what the request had: ``match.endpoint``, ``match.model``, ``match.last_user_message`` (the
text searched), each ``match.body`` field (by JSON pointer), ``match.turns`` and
``match.has_tool_result`` (what the request's conversation has), or ``times`` when the stub
was used up.

The verdict is always the matcher's own (:meth:`mockserver.stubs.Stub.matches`): the
fields only explain it, so the diagnosis cannot disagree with what the mock did.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.json_pointer import escape
from mockserver.engine.chat import last_user_text
from mockserver.engine.responses import last_user_input_text
from mockserver.storage import ResponseStorage
from mockserver.stub_facts import facts_for
from mockserver.stubs import (
    RequestFacts,
    Stub,
    _Candidate,
    _endpoint,
    _is_subset,
    _Text,
    turns_fit,
)

# Near misses shown for one request, closest first.
NEAR_MISSES_SHOWN = 3
# Body fields listed for one stub at most: a stub's body is small, a request's may not be.
MAX_BODY_DIFFERENCES = 10
# Texts quoted in a mismatch are cut to this many characters.
QUOTED_CHARS = 200
# A value shown (a field's expected and actual values, a stub's match fields) is cut once it
# holds about this many characters of keys and texts, or nests this deep: a request's value
# may be megabytes or hundreds of levels, and each report may show 30 of them.
PREVIEW_CHARS = 500
PREVIEW_DEPTH = 8
# Stubs one request is held against at most, in the order the matcher tries them (higher
# priority, then the newest): the answer's cost stays bounded with tens of thousands of
# stubs, and says how many were held.
MAX_NEAR_MISS_STUBS = 500

# The text a stub's last_user_message searches, by endpoint (as the API views pass it).
USER_TEXT_OF: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "/chat/completions": last_user_text,
    "/responses": last_user_input_text,
}


@dataclass(frozen=True)
class Mismatch:
    """One way a stub differs from a request: the stub's field, its value, the request's.

    For a ``match.body`` field, ``pointer`` is where in the body (a JSON pointer).
    """

    field: str
    expected: Any
    actual: Any
    reason: str
    pointer: str | None = None

    def as_json(self) -> dict[str, Any]:
        shown = {
            "field": self.field,
            "expected": preview(self.expected),
            "actual": preview(self.actual),
        }
        if self.pointer is not None:
            shown["pointer"] = quoted(self.pointer)
        shown["reason"] = self.reason
        return shown


def is_subset(wanted: Any, actual: Any) -> bool:
    """Whether ``actual`` holds ``wanted`` as a request body holds a stub's ``match.body``."""
    return _is_subset(wanted, actual)


def user_text(endpoint: str, body: Mapping[str, Any]) -> str:
    """The text a stub's ``last_user_message`` is searched in, for this endpoint."""
    text_of = USER_TEXT_OF.get(_endpoint(endpoint))
    return text_of(body) if text_of is not None else ""


def explain_mismatch(
    stub: Stub,
    endpoint: str,
    body: Mapping[str, Any],
    stored: ResponseStorage | None = None,
    facts: RequestFacts | None = None,
) -> list[Mismatch]:
    """Every way ``stub`` fails to answer a request to ``endpoint`` with ``body``; [] if it
    answers it (as the matcher says). ``stored`` finds the conversation a Responses
    ``previous_response_id`` continues (its turns count)."""
    facts = facts or facts_for(endpoint, body, stored)
    found = (
        []
        if stub.matches(endpoint, body, facts)
        else _fields_differing(stub, endpoint, body, facts)
    )
    if stub.times is not None and stub.used >= stub.times:
        found.append(
            Mismatch(
                "times",
                stub.times,
                stub.used,
                f"the stub was used up: {stub.used} of {stub.times} uses",
            )
        )
    return found


def near_misses(
    stubs: Iterable[Stub],
    endpoint: str,
    body: Mapping[str, Any],
    shown: int = NEAR_MISSES_SHOWN,
    stored: ResponseStorage | None = None,
) -> list[dict[str, Any]]:
    """The ``shown`` stubs closest to answering the request, closest first, with why not.

    ``distance`` is the share of the stub's conditions the request failed (0: it would be
    answered now; the stub may be newer than the request, or the request was answered
    before stubs were tried, e.g. refused or failed by a fault). Only the stubs
    :func:`held_stubs` picks are held against it; each is shown by :func:`stub_summary`.
    """
    ranked = []
    facts = facts_for(endpoint, body, stored)  # one stored-conversation read for all stubs
    for stub in held_stubs(stubs):
        mismatches = explain_mismatch(stub, endpoint, body, facts=facts)
        conditions = len(_conditions(stub)) + (stub.times is not None)
        distance = len(mismatches) / conditions if conditions else 0.0
        ranked.append((distance, len(mismatches), -stub.priority, -stub.seq, stub, mismatches))
    # The share of conditions failed first: a stub that fails its only condition (another
    # model) is further than one that fails two of five (its regex and a body field).
    ranked.sort(key=lambda row: row[:4])
    return [
        {
            "stub_id": stub.id,
            "distance": round(distance, 3),
            "mismatches": [mismatch.as_json() for mismatch in mismatches],
            "stub": stub_summary(stub),
        }
        for distance, _, _, _, stub, mismatches in ranked[:shown]
    ]


def held_stubs(stubs: Iterable[Stub]) -> list[Stub]:
    """The stubs a request is held against: at most :data:`MAX_NEAR_MISS_STUBS`, those the
    matcher tries first (higher priority, then the newest)."""
    return heapq.nsmallest(MAX_NEAR_MISS_STUBS, stubs, key=_precedence)


def _precedence(stub: Stub) -> tuple[int, int]:
    return (-stub.priority, -stub.seq)


def stub_summary(stub: Stub) -> dict[str, Any]:
    """A stub as a near miss shows it: its match fields cut by :func:`preview`, its use
    counts, and no reply (``GET /_mock/stubs`` shows the whole definition)."""
    return {
        "id": stub.id,
        "match": {name: preview(value) for name, value in stub.match.items()},
        "times": stub.times,
        "priority": stub.priority,
        "used": stub.used,
    }


def _conditions(stub: Stub) -> list[str]:
    match = stub.match
    names = [
        name
        for name in ("endpoint", "model", "last_user_message", "turns", "has_tool_result")
        if name in match
    ]
    body = match.get("body")
    if isinstance(body, Mapping):
        names += [f"body/{key}" for key in body] or ["body"]
    return names


def _fields_differing(
    stub: Stub, endpoint: str, body: Mapping[str, Any], facts: RequestFacts
) -> list[Mismatch]:
    wanted = stub.match
    text = facts.text
    found = []
    if "endpoint" in wanted and _endpoint(wanted["endpoint"]) != _endpoint(endpoint):
        found.append(Mismatch("match.endpoint", wanted["endpoint"], endpoint, "another endpoint"))
    if "model" in wanted and body.get("model") != wanted["model"]:
        found.append(Mismatch("match.model", wanted["model"], body.get("model"), "another model"))
    pattern = wanted.get("last_user_message")
    # The matcher's own regex check: a stub holding only the pattern, tried on the text.
    if pattern is not None and not _Candidate(_only(stub, "last_user_message")).fits(
        body, _Text(text)
    ):
        found.append(
            Mismatch(
                "match.last_user_message",
                pattern,
                quoted(text),
                "the pattern is not found in the last user message"
                if text
                else "the request has no user message text",
            )
        )
    wanted_body = wanted.get("body")
    if wanted_body is not None and not _is_subset(wanted_body, body):
        found += _body_differences(wanted_body, body, "")[:MAX_BODY_DIFFERENCES] or [
            Mismatch("match.body", wanted_body, "(the request body)", "the body differs")
        ]
    if "turns" in wanted and not turns_fit(wanted["turns"], facts.turns):
        found.append(
            Mismatch(
                "match.turns",
                wanted["turns"],
                facts.turns,
                f"the conversation has {facts.turns} user message(s)",
            )
        )
    if "has_tool_result" in wanted and facts.has_tool_result is not wanted["has_tool_result"]:
        found.append(
            Mismatch(
                "match.has_tool_result",
                wanted["has_tool_result"],
                facts.has_tool_result,
                "the conversation ends with a tool result"
                if facts.has_tool_result
                else "the conversation does not end with a tool result",
            )
        )
    if not found:  # the matcher said no, and no field says why: say so rather than nothing
        found.append(Mismatch("match", dict(wanted), None, "the stub does not match"))
    return found


def _only(stub: Stub, field: str) -> Stub:
    return Stub(stub.id, {field: stub.match[field]}, stub.reply)


def _body_differences(wanted: Any, actual: Any, pointer: str) -> list[Mismatch]:
    """The fields of a stub's ``match.body`` the request lacks or holds otherwise."""
    if isinstance(wanted, Mapping):
        if not isinstance(actual, Mapping):
            return [_body_mismatch(pointer, wanted, actual, "not an object in the request")]
        found = []
        for key, value in wanted.items():
            at = f"{pointer}/{escape(key)}"
            if key not in actual:
                found.append(_body_mismatch(at, value, None, "missing from the request"))
            elif not _is_subset(value, actual[key]):
                found += _body_differences(value, actual[key], at)
        return found
    if wanted == actual:  # equal but of another type: 1 and 1.0, 1 and true
        reason = f"{type(actual).__name__} in the request, {type(wanted).__name__} in the stub"
    else:
        reason = "another value in the request"
    return [_body_mismatch(pointer, wanted, actual, reason)]


def _body_mismatch(pointer: str, expected: Any, actual: Any, reason: str) -> Mismatch:
    return Mismatch("match.body", expected, quoted(actual), reason, pointer or "")


def preview(value: Any) -> Any:
    """``value`` as a report shows it: texts cut as :func:`quoted` does, and objects and
    arrays cut with a ``"…"`` marker past :data:`PREVIEW_CHARS` characters of keys and texts
    or :data:`PREVIEW_DEPTH` levels. Small values are shown as they are."""
    return _Preview().of(value, PREVIEW_DEPTH)


class _Preview:
    """One value's cut copy; ``left`` is the characters it may still show."""

    def __init__(self) -> None:
        self.left = PREVIEW_CHARS

    def of(self, value: Any, depth: int) -> Any:  # recursion bounded by PREVIEW_DEPTH
        if isinstance(value, str):
            shown = quoted(value)
            self.left -= len(shown)
            return shown
        if not isinstance(value, (Mapping, list)):
            self.left -= 8
            return value
        if depth == 0:
            return "…"
        if isinstance(value, list):
            items: list[Any] = []
            for item in value:
                if self.left <= 0:
                    items.append(f"… ({len(value) - len(items)} more items)")
                    break
                items.append(self.of(item, depth - 1))
            return items
        members: dict[str, Any] = {}
        for key, item in value.items():
            if self.left <= 0:
                members["…"] = f"{len(value) - len(members)} more members"
                break
            name = quoted(str(key))
            self.left -= len(name)
            members[name] = self.of(item, depth - 1)
        return members


def quoted(value: Any) -> Any:
    """A long text cut to :data:`QUOTED_CHARS` characters; any other value as it is."""
    if isinstance(value, str) and len(value) > QUOTED_CHARS:
        return value[:QUOTED_CHARS] + "…"
    return value
