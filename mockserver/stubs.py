"""Scripted answers: a stub matches requests and says what to answer instead of the engine.

A stub is JSON (or YAML in a ``--stubs`` file)::

    {"match": {"endpoint": "/v1/chat/completions", "model": "gpt-4",
               "last_user_message": "<regex>", "body": {"<field>": <value that must be equal>}},
     "reply": {"text": "..."} | {"tool_call": {"name": "...", "arguments": {...}}}
            | {"error": {"status": 429, "type": "...", "code": "...", "message": "..."}}
            | {"fault": "disconnect"}
            | {"stream_error": {"after_frames": 3, "type": "...", "code": "...", "message": "..."}},
     "times": 1, "priority": 0}

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

import functools
import heapq
import json
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import re2
import yaml

from harness.schema import CompiledSchema, Violation
from mockserver.chaos import ChaosError, check_rates
from mockserver.engine.ids import new_id
from mockserver.faults import FAULT_NAMES, MAX_AFTER_FRAMES
from mockserver.storage import StateUnavailable, StubStorage

# A process that found the store unreachable asks it again after this long; meanwhile
# requests match against its last copy of the stubs without waiting on the store.
RECHECK_DOWN_S = 1.0

_MATCH_KEYS = ("endpoint", "model", "last_user_message", "body")
# Stores keep 64-bit signed integers: a larger priority or times cannot be stored.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# The stub shape as a JSON Schema, so a bad definition is refused with the field it breaks.
STUB_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["reply"],
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
            },
        },
        "reply": {
            "type": "object",
            "minProperties": 1,
            # One reply; `chaos` (a fault drawn per use, see mockserver.chaos) may join it.
            "anyOf": [{"maxProperties": 1}, {"required": ["chaos"], "maxProperties": 2}],
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
                "tool_call": {
                    "type": "object",
                    "required": ["name"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string", "minLength": 1},
                        "arguments": {"type": ["object", "string"]},
                    },
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
            },
        },
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
    reply: Mapping[str, Any]
    times: int | None = None
    priority: int = 0
    used: int = 0
    seq: int = field(default=0, compare=False)  # the row's number: newer stubs have larger

    def definition(self) -> dict[str, Any]:
        """The stub as the admin API shows it."""
        return {
            "id": self.id,
            "match": dict(self.match),
            "reply": dict(self.reply),
            "times": self.times,
            "priority": self.priority,
            "used": self.used,
        }

    def matches(self, endpoint: str, body: Mapping[str, Any], user_text: str) -> bool:
        wanted = self.match
        if "endpoint" in wanted and _endpoint(wanted["endpoint"]) != _endpoint(endpoint):
            return False
        if "model" in wanted and body.get("model") != wanted["model"]:
            return False
        return _Candidate(self).fits(body, _Text(user_text))


class _Candidate:
    """A stub ready to be tried: its regex compiled, its checks beyond endpoint and model."""

    __slots__ = ("body", "literal", "order", "program", "stub")

    def __init__(self, stub: Stub) -> None:
        self.stub = stub
        self.order = (-stub.priority, -stub.seq)  # higher priority first, then the newest
        pattern = stub.match.get("last_user_message")
        compiled = compile_pattern(pattern) if pattern is not None else None
        self.literal = compiled.literal if compiled is not None else None
        self.program = compiled.program if compiled is not None and self.literal is None else None
        self.body = stub.match.get("body")

    def fits(self, body: Mapping[str, Any], text: _Text) -> bool:
        # A call into RE2 costs microseconds, Python's `in` tens of nanoseconds; most stubs
        # match a plain word, and thousands of them may be tried on every request.
        if self.literal is not None:
            if self.literal not in text.text:
                return False
        elif self.program is not None and self.program.search(text.utf8) is None:
            return False
        return self.body is None or _is_subset(self.body, body)


class _Text:
    """The text regexes are searched in, encoded to UTF-8 once, when a stub first needs it."""

    def __init__(self, text: str) -> None:
        self.text = text

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


def parse_stub(raw: Any, where: str = "") -> Stub:
    """Check a stub definition; :class:`StubError` names the first field that is wrong."""
    violations = _STUB_VALIDATOR.violations(raw)
    if violations:
        first: Violation = violations[0]
        param = _join(where, first.param)
        raise StubError(f"Invalid stub: '{param or 'stub'}': {first.message}.", param or None)
    chaos = raw["reply"].get("chaos")
    if chaos is not None:
        try:
            check_rates(chaos)  # their sum, which a JSON Schema cannot bound
        except ChaosError as exc:
            param = _join(where, "reply.chaos")
            raise StubError(f"Invalid stub: '{param}': {exc}.", param) from exc
    match = raw.get("match") or {}
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
    return Stub(
        id=str(raw.get("id") or new_id("stub_", 16)),
        match={key: match[key] for key in _MATCH_KEYS if key in match},
        reply=dict(raw["reply"]),
        times=raw.get("times"),
        priority=int(raw.get("priority", 0)),
    )


def parse_stubs(raw: Any) -> list[Stub]:
    """One stub, a list of stubs, or ``{"stubs": [...]}``."""
    if isinstance(raw, Mapping) and "stubs" in raw and "reply" not in raw:
        raw = raw["stubs"]
        prefix = "stubs"
    else:
        prefix = ""
    if isinstance(raw, list):
        return [parse_stub(item, f"{prefix}[{index}]") for index, item in enumerate(raw)]
    return [parse_stub(raw, prefix)]


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

    def add(self, stubs: Sequence[Stub]) -> None:
        self._rows.add(stubs)

    def list(self) -> list[Stub]:
        return self._rows.listing()

    def clear(self) -> int:
        return self._rows.clear()

    def delete(self, stub_id: str) -> bool:
        return self._rows.delete(stub_id)

    def take(self, endpoint: str, body: Mapping[str, Any], user_text: str) -> Stub | None:
        """The stub that answers this request, its use counted; ``None`` if none matches."""
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
        return Stub(stub.id, stub.match, stub.reply, stub.times, stub.priority, used, stub.seq)

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


def load_stub_file(path: Path) -> list[Stub]:
    """Stubs from a ``--stubs`` file (YAML, of which JSON is a subset)."""
    source = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise StubError(f"{source}: cannot read stubs: {exc}", None) from exc
    try:
        return parse_stubs(raw)
    except StubError as exc:
        raise StubError(f"{source}: {exc}", exc.param) from exc


def dump_definition(stub: Stub) -> str:
    """A stub as the stores keep it (its use count apart)."""
    return json.dumps(
        {
            "id": stub.id,
            "match": stub.match,
            "reply": stub.reply,
            "times": stub.times,
            "priority": stub.priority,
        }
    )


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
