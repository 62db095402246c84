"""Scripted answers: a stub matches requests and says what to answer instead of the engine.

A stub is JSON (or YAML in a ``--stubs`` file)::

    {"match": {"endpoint": "/v1/chat/completions", "model": "gpt-4",
               "last_user_message": "<regex>", "body": {"<field>": <value that must be equal>}},
               "turns": 2 | {"min": 1, "max": 3}, "has_tool_result": true},
     "reply": {"text": "..."} | {"tool_call": {"name": "...", "arguments": {...}}}
            | {"tool_calls": [{"name": "...", "arguments": {...}}, ...]}
            | {"error": {"status": 429, "type": "...", "code": "...", "message": "..."}}
            | {"fault": "disconnect"}
            | {"stream_error": {"after_frames": 3, "type": "...", "code": "...", "message": "..."}},
     "times": 1, "priority": 0}

A reply may also carry ``usage`` (token counts), ``finish_reason`` and ``latency_ms`` (see
``stub_replies``). Instead of ``reply``, a sequence: ``"replies": [reply, reply, ...]`` with
``"after_last": "repeat_last" | "cycle" | "stop_matching"``; the n-th use of the stub answers
with the n-th reply. The step is the stub's use count, which the store claims atomically, so
each step is given exactly once across workers and instances; ``stop_matching`` is
``times`` set to the number of replies.

``turns`` counts the conversation's user messages (chat ``messages`` with role ``user``;
Responses ``input`` user messages, with those of the stored conversation a
``previous_response_id`` continues); ``has_tool_result`` is whether the conversation ends
with a tool result (the last chat message has role ``tool``; the last Responses input item is a
``function_call_output``).

Every ``match`` field is optional. Higher ``priority`` wins, then the newest stub; a stub with
``times`` stops matching after that many uses. Stubs live in the shared state (the SQLite
file, or Redis), so every worker and instance sees them and ``times`` is counted once across
them all.

``last_user_message`` is an RE2 regular expression (https://github.com/google/re2/wiki/Syntax):
RE2 matches in time linear in the text, so no stub can freeze a worker the way a backtracking
engine does on ``^(a|a)+$``; it has no backreferences nor lookarounds, and its ``\\w``, ``\\d``,
``\\s`` and ``\\b`` are ASCII (``\\pL`` is any letter).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import heapq
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import re2
import yaml

from harness.schema import CompiledSchema, Violation
from harness.yaml_aliases import load_bounded_yaml
from mockserver.chaos import ChaosError, check_rates
from mockserver.engine.ids import new_id
from mockserver.faults import FAULT_NAMES, MAX_AFTER_FRAMES
from mockserver.storage import StateUnavailable, StubStorage

# A process that found the store unreachable asks it again after this long; meanwhile
# requests match against its last copy of the stubs without waiting on the store.
RECHECK_DOWN_S = 1.0

_MATCH_KEYS = ("endpoint", "model", "last_user_message", "body", "turns", "has_tool_result")
# Stores keep 64-bit signed integers: a larger priority or times cannot be stored.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# What a reply answers with: at most one of these per reply (none: the engine's own reply).
REPLY_KINDS = ("text", "tool_call", "tool_calls", "error", "fault", "stream_error")
# The kinds whose reply the engine plans, so that usage and finish_reason can be set.
PLANNED_KINDS = frozenset({"text", "tool_call", "tool_calls"})
# What the n-th use of a sequence answers once every reply was given.
AFTER_LAST = ("repeat_last", "cycle", "stop_matching")
# Bounds a stub definition keeps (its JSON is read on every process).
MAX_REPLIES = 1000
MAX_TOOL_CALLS = 128
# How deep a stub definition nests (objects and arrays, the stub itself the first level).
# Matching and diagnosis recurse only as deep as the stub's own match.body (a request nested
# deeper cannot match it), and its JSON is encoded into answers: a bound far below Python's
# recursion limit and orjson's 255 levels keeps both safe on every server's thread stack.
MAX_STUB_DEPTH = 64
# A stub id is named in a URL (DELETE /_mock/stubs/{id}) and copied into every journal entry
# it answers: characters a path segment carries as they are, and a bounded length.
MAX_ID_CHARS = 128
_ID = re.compile(rf"[A-Za-z0-9_.:-]{{1,{MAX_ID_CHARS}}}")
# As X-Mock-Latency-Ms (mockserver.faults.headers).
MAX_STUB_LATENCY_MS = 60_000
# The finish reasons both the chat body's and the chunks' schemas allow.
FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter")
_TOKENS = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
_COUNT = {"type": "integer", "minimum": 0, "maximum": INT64_MAX}
_TOOL_CALL = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "arguments": {"type": ["object", "string"]},
    },
}
REPLY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": False,
    "properties": {
        # Fault name -> rate; names and the rates' sum are checked in parse_stub,
        # whose message lists the faults (Draft 4 has no propertyNames).
        "chaos": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "text": {"type": "string"},
        "tool_call": _TOOL_CALL,
        "tool_calls": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_TOOL_CALLS,
            "items": _TOOL_CALL,
        },
        "error": {
            "type": "object",
            "required": ["status"],
            "additionalProperties": False,
            "properties": {
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "type": {"type": "string"},
                "code": {"type": ["string", "null"]},
                "message": {"type": "string"},
                "param": {"type": ["string", "null"]},
            },
        },
        "fault": {"type": "string", "enum": sorted(FAULT_NAMES)},
        # `stream_error` with its details chosen (each optional; see faults).
        "stream_error": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "after_frames": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": MAX_AFTER_FRAMES,
                },
                "type": {"type": "string", "minLength": 1},
                "code": {"type": "string", "minLength": 1},
                "message": {"type": "string", "minLength": 1},
                "param": {"type": ["string", "null"]},
            },
        },
        # Token counts the answer reports instead of the counted ones; chat's names and
        # Responses' are synonyms (prompt = input, completion = output).
        "usage": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": False,
            "properties": {
                "prompt_tokens": _TOKENS,
                "completion_tokens": _TOKENS,
                "input_tokens": _TOKENS,
                "output_tokens": _TOKENS,
            },
        },
        "finish_reason": {"type": "string", "enum": list(FINISH_REASONS)},
        "latency_ms": {"type": "integer", "minimum": 0, "maximum": MAX_STUB_LATENCY_MS},
    },
}
# The stub shape as a JSON Schema, so a bad definition is refused with the field it breaks.
STUB_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "match": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "endpoint": {"type": "string", "pattern": "^/"},
                "model": {"type": "string"},
                "last_user_message": {"type": "string"},
                "body": {"type": "object"},
                "turns": {
                    "type": ["integer", "object"],
                    "minimum": 0,
                    "maximum": INT64_MAX,
                    "minProperties": 1,
                    "additionalProperties": False,
                    "properties": {"min": _COUNT, "max": _COUNT},
                },
                "has_tool_result": {"type": "boolean"},
            },
        },
        "reply": REPLY_SCHEMA,
        "replies": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_REPLIES,
            "items": REPLY_SCHEMA,
        },
        "after_last": {"type": "string", "enum": list(AFTER_LAST)},
        "times": {"type": ["integer", "null"], "minimum": 1, "maximum": INT64_MAX},
        "priority": {"type": "integer", "minimum": INT64_MIN, "maximum": INT64_MAX},
    },
}
_STUB_VALIDATOR = CompiledSchema(STUB_SCHEMA)


class StubError(ValueError):
    """A stub definition the mock cannot use; ``param`` names the offending field."""

    def __init__(self, message: str, param: str | None) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class Stub:
    id: str
    match: Mapping[str, Any]
    reply: Mapping[str, Any]  # {} for a sequence (``replies``)
    times: int | None = None
    priority: int = 0
    used: int = 0
    seq: int = field(default=0, compare=False)  # the row's number: newer stubs have larger
    replies: tuple[Mapping[str, Any], ...] = ()
    after_last: str = "repeat_last"

    def definition(self) -> dict[str, Any]:
        """The stub as the admin API shows it."""
        shown: dict[str, Any] = {"id": self.id, "match": dict(self.match)}
        if self.replies:
            shown["replies"] = [dict(reply) for reply in self.replies]
            shown["after_last"] = self.after_last
        else:
            shown["reply"] = dict(self.reply)
        shown.update(times=self.times, priority=self.priority, used=self.used)
        return shown

    def answer(self) -> Mapping[str, Any]:
        """The reply this use gives: ``used`` is the use count claimed for it (1 the first)."""
        if not self.replies:
            return self.reply
        step = max(self.used, 1) - 1
        if self.after_last == "cycle":
            return self.replies[step % len(self.replies)]
        return self.replies[min(step, len(self.replies) - 1)]

    def matches(
        self, endpoint: str, body: Mapping[str, Any], user_text: str | RequestFacts
    ) -> bool:
        wanted = self.match
        if "endpoint" in wanted and _endpoint(wanted["endpoint"]) != _endpoint(endpoint):
            return False
        if "model" in wanted and body.get("model") != wanted["model"]:
            return False
        return _Candidate(self).fits(body, _Text(user_text))


class RequestFacts:
    """What a stub's ``match`` reads of a request besides its body: the last user
    message's text, the number of turns, whether a tool result ends the conversation.

    The last two are worked out when a stub first asks (a Responses request's turns may
    need the stored conversation it continues), so requests no such stub is tried on never
    pay for them. ``mockserver.stub_facts`` builds them for each endpoint.
    """

    def __init__(
        self,
        text: str,
        turns: Callable[[], int] = lambda: 0,
        has_tool_result: Callable[[], bool] = lambda: False,
    ) -> None:
        self.text = text
        self._turns = turns
        self._has_tool_result = has_tool_result

    @functools.cached_property
    def turns(self) -> int:
        return self._turns()

    @functools.cached_property
    def has_tool_result(self) -> bool:
        return self._has_tool_result()


def turns_fit(wanted: Any, turns: int) -> bool:
    """Whether a conversation of ``turns`` turns meets a stub's ``match.turns``."""
    if isinstance(wanted, Mapping):
        return bool(wanted.get("min", 0) <= turns <= wanted.get("max", turns))
    return bool(turns == wanted)


class _Candidate:
    """A stub ready to be tried: its regex compiled, its checks beyond endpoint and model."""

    __slots__ = ("body", "has_tool_result", "literal", "order", "program", "stub", "turns")

    def __init__(self, stub: Stub) -> None:
        self.stub = stub
        self.order = (-stub.priority, -stub.seq)  # higher priority first, then the newest
        pattern = stub.match.get("last_user_message")
        compiled = compile_pattern(pattern) if pattern is not None else None
        self.literal = compiled.literal if compiled is not None else None
        self.program = compiled.program if compiled is not None and self.literal is None else None
        self.body = stub.match.get("body")
        self.turns = stub.match.get("turns")
        self.has_tool_result = stub.match.get("has_tool_result")

    def fits(self, body: Mapping[str, Any], text: _Text) -> bool:
        # A call into RE2 costs microseconds, Python's `in` tens of nanoseconds; most stubs
        # match a plain word, and thousands of them may be tried on every request.
        if self.literal is not None:
            if self.literal not in text.text:
                return False
        elif self.program is not None and self.program.search(text.utf8) is None:
            return False
        if self.body is not None and not _is_subset(self.body, body):
            return False
        if self.has_tool_result is not None and (
            text.facts.has_tool_result is not self.has_tool_result
        ):
            return False
        return self.turns is None or turns_fit(self.turns, text.facts.turns)


class _Text:
    """The text regexes are searched in, encoded to UTF-8 once, when a stub first needs it,
    and the request's other :class:`RequestFacts`."""

    def __init__(self, text: str | RequestFacts) -> None:
        self.facts = text if isinstance(text, RequestFacts) else RequestFacts(text)
        self.text = self.facts.text

    @functools.cached_property
    def utf8(self) -> bytes:
        # Lone surrogates (valid in JSON strings) have no UTF-8 form: searched as U+FFFD.
        return self.text.encode("utf-8", errors="replace")


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is reported to the client, not to stderr


# Regex syntax: a pattern without any of these characters is a plain substring.
_SYNTAX = re.compile(r"[\\.^$|?*+()\[\]{}]")


@dataclass(frozen=True)
class _Pattern:
    """A stub's ``last_user_message``: its RE2 program, and the plain text it is, if it is."""

    program: Any
    literal: str | None


@functools.lru_cache(maxsize=8192)
def compile_pattern(pattern: str) -> _Pattern:
    """Raises ``re2.error`` for what RE2 cannot match (backreferences, lookarounds, ...)."""
    program = re2.compile(pattern.encode("utf-8", errors="surrogatepass"), _RE2_OPTIONS)
    return _Pattern(program, None if _SYNTAX.search(pattern) else pattern)


def parse_stub(raw: Any, where: str = "", served_paths: Collection[str] | None = None) -> Stub:
    """Check a stub definition; :class:`StubError` names the first field that is wrong.

    ``served_paths``: the paths the mock serves; a ``match.endpoint`` none of them is
    refused (``None``: not checked).
    """
    if isinstance(raw, (Mapping, list)):
        _check_depth(raw, where)  # first: the schema's validator recurses too
    if isinstance(raw, Mapping) and "id" in raw:
        _check_id(raw["id"], where)
    violations = _STUB_VALIDATOR.violations(raw)
    if violations:
        first: Violation = violations[0]
        param = _join(where, _violation_param(raw, first))
        raise StubError(f"Invalid stub: '{param or 'stub'}': {first.message}.", param or None)
    if ("reply" in raw) == ("replies" in raw):
        param = _join(where, "reply")
        given = "both 'reply' and 'replies'" if "reply" in raw else "neither"
        raise StubError(
            f"Invalid stub: '{param}': a stub has a 'reply', or a sequence of 'replies' "
            f"(one per use); it has {given}.",
            param,
        )
    if "after_last" in raw and "replies" not in raw:
        param = _join(where, "after_last")
        raise StubError(
            f"Invalid stub: '{param}': after_last applies to a sequence of 'replies'.", param
        )
    replies = [raw["reply"]] if "reply" in raw else raw["replies"]
    for index, reply in enumerate(replies):
        _check_reply(reply, _join(where, "reply" if "reply" in raw else f"replies[{index}]"))
    match = raw.get("match") or {}
    _check_turns(match.get("turns"), where)
    if served_paths is not None and "endpoint" in match:
        _check_endpoint(match["endpoint"], served_paths, where)
    pattern = match.get("last_user_message")
    if pattern is not None:
        try:
            compile_pattern(pattern)
        except re2.error as exc:
            param = _join(where, "match.last_user_message")
            reason = exc.args[0].decode("utf-8", "replace") if exc.args else str(exc)
            message = (
                f"Invalid stub: '{param}' is not a regular expression the mock can match "
                f"(RE2 syntax, which has no backreferences nor lookarounds): {reason}."
            )
            raise StubError(message, param) from exc
    times = raw.get("times")
    after_last = str(raw.get("after_last", "repeat_last"))
    if "replies" in raw and after_last == "stop_matching":
        # The stub stops matching once each reply was given: its times, counted as any.
        times = len(replies) if times is None else min(times, len(replies))
    return Stub(
        id=str(raw.get("id") or new_id("stub_", 16)),
        match={key: match[key] for key in _MATCH_KEYS if key in match},
        reply=dict(raw["reply"]) if "reply" in raw else {},
        times=times,
        priority=int(raw.get("priority", 0)),
        replies=tuple(dict(reply) for reply in raw.get("replies", ())),
        after_last=after_last,
    )


def _check_reply(reply: Mapping[str, Any], param: str) -> None:
    """What the schema cannot say of one reply: one kind, overrides that apply, chaos."""
    kinds = [kind for kind in REPLY_KINDS if kind in reply]
    if len(kinds) > 1:
        raise StubError(
            f"Invalid stub: '{param}': a reply is one of {', '.join(REPLY_KINDS)}; "
            f"it has {' and '.join(kinds)}.",
            param,
        )
    for override in ("usage", "finish_reason"):
        if override in reply and kinds and kinds[0] not in PLANNED_KINDS:
            raise StubError(
                f"Invalid stub: '{param}.{override}': {override} applies to a text or tool "
                f"call reply (or the engine's own), not to {kinds[0]}.",
                f"{param}.{override}",
            )
    usage = reply.get("usage") or {}
    for chat_name, responses_name in (
        ("prompt_tokens", "input_tokens"),
        ("completion_tokens", "output_tokens"),
    ):
        if chat_name in usage and responses_name in usage:
            raise StubError(
                f"Invalid stub: '{param}.usage': {chat_name} and {responses_name} are the same "
                "count (chat's name and Responses'); give one.",
                f"{param}.usage",
            )
    chaos = reply.get("chaos")
    if chaos is not None:
        try:
            check_rates(chaos)  # their sum, which a JSON Schema cannot bound
        except ChaosError as exc:
            raise StubError(f"Invalid stub: '{param}.chaos': {exc}.", f"{param}.chaos") from exc


def _check_depth(raw: Any, where: str) -> None:
    """Refuse a definition nested deeper than :data:`MAX_STUB_DEPTH`, naming the field.

    Walked with a stack of its own, so any depth is measured without recursing.
    """
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(raw, 1, ())]
    while stack:
        value, depth, path = stack.pop()
        items = value.items() if isinstance(value, Mapping) else enumerate(value)
        for key, item in items:
            if not isinstance(item, (Mapping, list)):
                continue
            if depth == MAX_STUB_DEPTH:
                param = _join(where, _field_of((*path, key)))
                raise StubError(
                    f"Invalid stub: '{param}' nests deeper than the {MAX_STUB_DEPTH} levels "
                    "of objects and arrays a stub may have (counted from the stub itself).",
                    param,
                )
            stack.append((item, depth + 1, (*path, key)))


def _field_of(path: tuple[str | int, ...]) -> str:
    """The stub's own field a deep value is under (``match.body``,
    ``reply.tool_call.arguments``), or the first key that is none of the stub's fields."""
    shown = ""
    for part in path:
        if isinstance(part, int):
            shown = _join(shown, f"[{part}]")
            continue
        shown = _join(shown, part)
        if part not in _NESTING_KEYS:
            break
    return shown


# The stub's own keys that hold more of its fields (what lies under others is free-form).
_NESTING_KEYS = frozenset({"match", "reply", "replies", "tool_call", "tool_calls"})


def _check_id(stub_id: Any, where: str) -> None:
    if not isinstance(stub_id, str):
        return  # the schema names the type
    if _ID.fullmatch(stub_id) is None or stub_id in (".", ".."):
        param = _join(where, "id")
        shown = stub_id[:40].encode("unicode_escape").decode("ascii")
        more = f"… ({len(stub_id)} characters)" if len(stub_id) > 40 else ""
        raise StubError(
            f"Invalid stub: '{param}': an id is 1 to {MAX_ID_CHARS} letters, digits and "
            f"'_', '.', ':', '-' (not '.' or '..'), so that DELETE /_mock/stubs/{{id}} can "
            f"name it; got '{shown}{more}'.",
            param,
        )


def _violation_param(raw: Any, violation: Violation) -> str:
    """The violation's field; for a key the stub itself does not have, that key (the
    violation names the stub, which ``param`` cannot: it would be null)."""
    if (
        violation.keyword != "additionalProperties"
        or violation.path
        or not isinstance(raw, Mapping)
    ):
        return violation.param
    unknown = [key for key in raw if key not in STUB_SCHEMA["properties"]]
    return str(unknown[0]) if unknown else violation.param


def _check_endpoint(endpoint: str, served_paths: Collection[str], where: str) -> None:
    served = {_endpoint(path) for path in served_paths}
    if _endpoint(endpoint) not in served:
        param = _join(where, "match.endpoint")
        shown = endpoint[:80] + ("…" if len(endpoint) > 80 else "")
        raise StubError(
            f"Invalid stub: '{param}': the mock serves no {shown!r}, so the stub could never "
            f"match; the paths served are {', '.join(sorted(served_paths))} (with or "
            "without /v1).",
            param,
        )


def _check_turns(turns: Any, where: str) -> None:
    if isinstance(turns, Mapping) and turns.get("min", 0) > turns.get("max", INT64_MAX):
        param = _join(where, "match.turns")
        raise StubError(
            f"Invalid stub: '{param}': min ({turns['min']}) is more than max ({turns['max']}).",
            param,
        )


def parse_stubs(raw: Any, served_paths: Collection[str] | None = None) -> list[Stub]:
    """One stub, a list of stubs, or ``{"stubs": [...]}`` (see :func:`parse_stub`)."""
    raw, prefix = _unwrapped(raw)
    if isinstance(raw, list):
        return [
            parse_stub(item, f"{prefix}[{index}]", served_paths) for index, item in enumerate(raw)
        ]
    return [parse_stub(raw, prefix, served_paths)]


class StubStore:
    """Stubs on a :class:`~mockserver.storage.StubStorage`, matched against an in-memory copy
    in each process.

    Reading and parsing every stub from the store on every request cost far more than
    answering it (3,000 stubs that never match: plain chat went from 2,600 to 31 requests a
    second). So each process keeps the usable stubs parsed and indexed by endpoint and model
    (:class:`_StubIndex`), and rebuilds that copy when the store's generation moves: every
    add, delete and clear moves it, and so does a stub used up, on any worker or instance.

    A request is matched against the copy outside any transaction, so a slow match never
    holds the store's write lock; the use is then claimed atomically (one conditional
    update), which counts ``times`` exactly once across workers and instances (a stub used
    up meanwhile is passed over).

    When the store cannot be reached, matching goes on against the last copy (so plain
    requests, which no stub answers, are still answered), the store is asked again after
    :data:`RECHECK_DOWN_S`, and a request that a stub would answer gets the store's 503
    (its use cannot be counted).
    """

    def __init__(self, rows: StubStorage) -> None:
        self._rows = rows
        self._index: _StubIndex | None = None
        self._index_lock = threading.Lock()
        self._down_until = 0.0

    def add(self, stubs: Sequence[Stub], keep_same: bool = False) -> None:
        """Store ``stubs`` (see :meth:`StubStorage.add` for ``keep_same``)."""
        self._rows.add(stubs, keep_same)

    def list(self) -> list[Stub]:
        return self._rows.listing()

    def clear(self) -> int:
        return self._rows.clear()

    def delete(self, stub_id: str) -> bool:
        return self._rows.delete(stub_id)

    def take(
        self, endpoint: str, body: Mapping[str, Any], user_text: str | RequestFacts
    ) -> Stub | None:
        """The stub that answers this request, its use counted (``used``: this use's
        number, so :meth:`Stub.answer` is its reply); ``None`` if none matches."""
        index = self._current_index()
        if not index.buckets:
            return None
        text = _Text(user_text)
        for candidate in index.candidates(_endpoint(endpoint), body.get("model")):
            if candidate.fits(body, text):
                claimed = self._claim(candidate.stub)
                if claimed is not None:
                    return claimed
        return None

    def _claim(self, stub: Stub) -> Stub | None:
        """Count one use of ``stub``; ``None`` if it was used up or removed meanwhile."""
        used = self._rows.claim(stub)
        if used is None:
            return None
        if stub.times is not None and used >= stub.times:
            self._rows.bump()  # it is used up: every process drops it from its copy
        return dataclasses.replace(stub, used=used)

    def _current_index(self) -> _StubIndex:
        if time.monotonic() < self._down_until:
            return self._index or _EMPTY_INDEX
        try:
            return self._fresh_index()
        except StateUnavailable:
            self._down_until = time.monotonic() + RECHECK_DOWN_S
            return self._index or _EMPTY_INDEX

    def _fresh_index(self) -> _StubIndex:
        generation = self._rows.generation()  # read first: a change during the load shows
        index = self._index
        if index is not None and index.generation == generation:
            return index
        with self._index_lock:
            index = self._index
            if index is None or index.generation != generation:
                index = _StubIndex(generation, self._rows.usable())
                self._index = index
        return index


class _StubIndex:
    """Usable stubs by (endpoint, model) they require (``None``: any), best first in each."""

    def __init__(self, generation: int, stubs: Sequence[Stub]) -> None:
        self.generation = generation
        self.buckets: dict[tuple[str | None, str | None], list[_Candidate]] = {}
        for candidate in sorted(map(_Candidate, stubs), key=_order):
            endpoint = candidate.stub.match.get("endpoint")
            model = candidate.stub.match.get("model")
            key = (_endpoint(endpoint) if endpoint is not None else None, model)
            self.buckets.setdefault(key, []).append(candidate)

    def candidates(self, endpoint: str, model: Any) -> Iterator[_Candidate]:
        """The stubs whose endpoint and model fit, in precedence order."""
        keys: list[tuple[str | None, str | None]] = [(endpoint, None), (None, None)]
        if isinstance(model, str):
            keys += [(endpoint, model), (None, model)]
        found = [self.buckets[key] for key in keys if key in self.buckets]
        if len(found) == 1:
            return iter(found[0])
        return heapq.merge(*found, key=_order)


def _order(candidate: _Candidate) -> tuple[int, int]:
    return candidate.order


_EMPTY_INDEX = _StubIndex(-1, [])


def load_stub_file(path: Path, served_paths: Collection[str] | None = None) -> list[Stub]:
    """Stubs from a ``--stubs`` file (YAML, of which JSON is a subset).

    A stub without an ``id`` gets one made from its definition, the same at every load:
    a restart on the same state, or another instance sharing it, loads the file again,
    and finds the stub stored already (``StubStore.add(..., keep_same=True)``) instead of
    adding a second copy with a use count of its own.
    """
    source = str(path)
    try:
        # Bounded as cassettes are: a "billion laughs" or an alias that contains itself
        # would otherwise be walked by every match, or crash the start.
        raw = load_bounded_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise StubError(f"{source}: cannot read stubs: {exc}", None) from exc
    except UnicodeDecodeError as exc:
        raise StubError(f"{source}: cannot read stubs: not UTF-8 text ({exc})", None) from exc
    try:
        stubs = parse_stubs(raw, served_paths)
    except StubError as exc:
        raise StubError(f"{source}: {exc}", exc.param) from exc
    return _with_stable_ids(stubs, _listed(raw))


def _unwrapped(raw: Any) -> tuple[Any, str]:
    """What ``{"stubs": [...]}`` holds, and where its errors point; anything else as it is."""
    if isinstance(raw, Mapping) and "stubs" in raw and "reply" not in raw:
        return raw["stubs"], "stubs"
    return raw, ""


def _listed(raw: Any) -> list[Any]:
    """The stub definitions of a file, as :func:`parse_stubs` reads them, in order."""
    listed, _ = _unwrapped(raw)
    return listed if isinstance(listed, list) else [listed]


def _with_stable_ids(stubs: list[Stub], definitions: list[Any]) -> list[Stub]:
    seen: Counter[str] = Counter()
    stable = []
    for stub, definition in zip(stubs, definitions, strict=True):
        if isinstance(definition, Mapping) and definition.get("id"):
            stable.append(stub)
            continue
        text = json.dumps(definition, sort_keys=True, default=str)
        seen[text] += 1  # identical stubs in one file stay two stubs
        digest = hashlib.sha256(f"{text}#{seen[text]}".encode()).hexdigest()
        stable.append(dataclasses.replace(stub, id=f"stub_{digest[:16]}"))
    return stable


def dump_definition(stub: Stub) -> str:
    """A stub as the stores keep it (its use count apart)."""
    kept: dict[str, Any] = {
        "id": stub.id,
        "match": stub.match,
        "reply": stub.reply,
        "times": stub.times,
        "priority": stub.priority,
    }
    if stub.replies:
        kept.update(replies=stub.replies, after_last=stub.after_last)
    return json.dumps(kept)


def load_stub(seq: int, definition: str, used: int) -> Stub:
    """A stub from what a store kept: :func:`dump_definition`'s text, its row and count."""
    raw = json.loads(definition)
    return Stub(
        id=raw["id"],
        match=raw["match"],
        reply=raw["reply"],
        times=raw["times"],
        priority=raw["priority"],
        used=used,
        seq=seq,
        # Stubs stored before sequences existed have neither.
        replies=tuple(raw.get("replies", ())),
        after_last=raw.get("after_last", "repeat_last"),
    )


def _endpoint(path: str) -> str:
    # /chat/completions and /v1/chat/completions are the same operation.
    return path.removeprefix("/v1") or "/"


def _is_subset(wanted: Any, actual: Any) -> bool:
    if isinstance(wanted, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and _is_subset(value, actual[key]) for key, value in wanted.items()
        )
    return bool(wanted == actual and type(wanted) is type(actual))


def _join(prefix: str, param: str) -> str:
    if not prefix:
        return param
    if not param:
        return prefix
    return f"{prefix}{param}" if param.startswith("[") else f"{prefix}.{param}"
