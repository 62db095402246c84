"""Scripted answers: a stub matches requests and says what to answer instead of the engine.

A stub is JSON (or YAML in a ``--stubs`` file)::

    {"match": {"endpoint": "/v1/chat/completions", "model": "gpt-4",
               "last_user_message": "<regex>", "body": {"<field>": <value that must be equal>}},
     "reply": {"text": "..."} | {"tool_call": {"name": "...", "arguments": {...}}}
            | {"error": {"status": 429, "type": "...", "code": "...", "message": "..."}}
            | {"fault": "disconnect"},
     "times": 1, "priority": 0}

Every ``match`` field is optional. Higher ``priority`` wins, then the newest stub; a stub with
``times`` stops matching after that many uses. Stubs live in the shared SQLite file, so every
worker sees them and ``times`` is counted once across workers.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.schema import CompiledSchema, Violation
from mockserver.db import Database, SharedCounter
from mockserver.engine.ids import new_id
from mockserver.faults import FAULT_NAMES

TABLES = (
    """CREATE TABLE IF NOT EXISTS stubs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT UNIQUE NOT NULL,
        priority INTEGER NOT NULL,
        times INTEGER,
        used INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL,
        definition TEXT NOT NULL
    )""",
)

_MATCH_KEYS = ("endpoint", "model", "last_user_message", "body")
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
            "maxProperties": 1,
            "additionalProperties": False,
            "properties": {
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
            },
        },
        "times": {"type": ["integer", "null"], "minimum": 1},
        "priority": {"type": "integer"},
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
        if "last_user_message" in wanted and not re.search(wanted["last_user_message"], user_text):
            return False
        return "body" not in wanted or _is_subset(wanted["body"], body)


def parse_stub(raw: Any, where: str = "") -> Stub:
    """Check a stub definition; :class:`StubError` names the first field that is wrong."""
    violations = _STUB_VALIDATOR.violations(raw)
    if violations:
        first: Violation = violations[0]
        param = _join(where, first.param)
        raise StubError(f"Invalid stub: '{param or 'stub'}': {first.message}.", param or None)
    match = raw.get("match") or {}
    pattern = match.get("last_user_message")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            param = _join(where, "match.last_user_message")
            message = f"Invalid stub: '{param}' is not a regular expression: {exc}."
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
    """Stubs in the shared database.

    Most requests meet no stub at all, and asking SQLite on every request would cost more
    than answering it; so every change to the stubs bumps a generation counter shared by
    all workers, and a process that saw no usable stub at the current generation skips the
    database until the generation moves.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._generation = SharedCounter(db.path.with_name(db.path.name + ".stubs"))
        self._none_at: int | None = None  # generation at which no usable stub existed

    def add(self, stubs: Sequence[Stub]) -> None:
        with self._db.transaction() as connection:
            for stub in stubs:
                connection.execute(
                    "INSERT OR REPLACE INTO stubs (id, priority, times, used, created, definition)"
                    " VALUES (?, ?, ?, 0, ?, ?)",
                    (stub.id, stub.priority, stub.times, time.time(), _dump(stub)),
                )
        self._generation.add(1)

    def list(self) -> list[Stub]:
        with self._db.connection() as connection:
            rows = connection.execute(
                "SELECT definition, used FROM stubs ORDER BY priority DESC, seq DESC"
            ).fetchall()
        return [_load(definition, used) for definition, used in rows]

    def clear(self) -> int:
        with self._db.transaction() as connection:
            removed = connection.execute("DELETE FROM stubs").rowcount
        self._generation.add(1)
        return removed

    def delete(self, stub_id: str) -> bool:
        with self._db.transaction() as connection:
            removed = connection.execute("DELETE FROM stubs WHERE id = ?", (stub_id,)).rowcount
        self._generation.add(1)
        return removed > 0

    def take(self, endpoint: str, body: Mapping[str, Any], user_text: str) -> Stub | None:
        """The stub that answers this request, its use counted; ``None`` if none matches."""
        generation = self._generation.value
        if self._none_at == generation:
            return None
        with self._db.transaction() as tx:
            rows = tx.execute(
                "SELECT definition, used FROM stubs "
                "WHERE times IS NULL OR used < times ORDER BY priority DESC, seq DESC"
            ).fetchall()
            if not rows:
                self._none_at = generation
                return None
            for definition, used in rows:
                stub = _load(definition, used)
                if stub.matches(endpoint, body, user_text):
                    tx.execute("UPDATE stubs SET used = used + 1 WHERE id = ?", (stub.id,))
                    break
            else:
                return None
        if stub.times is not None and stub.used + 1 >= stub.times:
            self._generation.add(1)  # it is used up: others may stop looking
        return stub


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


def _dump(stub: Stub) -> str:
    return json.dumps(
        {
            "id": stub.id,
            "match": stub.match,
            "reply": stub.reply,
            "times": stub.times,
            "priority": stub.priority,
        }
    )


def _load(definition: str, used: int) -> Stub:
    raw = json.loads(definition)
    return Stub(
        id=raw["id"],
        match=raw["match"],
        reply=raw["reply"],
        times=raw["times"],
        priority=raw["priority"],
        used=used,
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
