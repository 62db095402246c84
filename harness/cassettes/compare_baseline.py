"""Accepted differences for ``harness cassettes compare``: deliberate, each with its reason.

A baseline is a YAML (or JSON) list, as ``harness contract --baseline`` reads; each entry
accepts the differences it matches, and must say why::

    - operation: POST /v1/chat/completions   # optional: every operation when left out
      cassette: documented/*                 # optional: a glob on the cassette's path in DIR
      location: /system_fingerprint          # required: the pointer or event, as reported
      aspect: value                          # optional: presence, JSON type, value, event, ...
      recorded: "null"                       # optional: the recorded side, as reported
      target: string                         # optional: the target's side, as reported
      reason: the mock sends a fixed fingerprint, as gpt-4-0613 does since 2025-06

Every field but ``cassette`` is compared as written (no patterns: a pointer's ``[]`` would
read as one), so an entry accepts exactly what the report printed; ``cassette`` scopes an
entry to the recordings it is true of (say, the 2025 wire of the documented cassettes).
Unknown keys, a missing ``location`` or ``reason`` are errors, so a typo cannot silence
nothing (or everything) unnoticed; entries that matched nothing in a run are listed as stale.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from harness.cassettes.structure import Difference
from harness.errors import UsageError

_KEYS = ("operation", "cassette", "location", "aspect", "recorded", "target", "reason")
_REQUIRED = ("location", "reason")


@dataclass(frozen=True, eq=False)  # identity: two equal entries are still two lines of a file
class BaselineEntry:
    location: str
    reason: str
    operation: str | None = None
    aspect: str | None = None
    recorded: str | None = None
    target: str | None = None
    cassette: str | None = None
    line: int = 0  # the entry's number in the file, for messages

    def matches(self, operation: str, cassette: str, found: Difference) -> bool:
        return (
            found.location == self.location
            and self.operation in (None, operation)
            and (self.cassette is None or fnmatchcase(cassette, self.cassette))
            and self.aspect in (None, found.aspect)
            and self.recorded in (None, found.recorded)
            and self.target in (None, found.target)
        )

    def describe(self) -> str:
        parts = [self.operation or "any operation", self.location]
        if self.cassette is not None:
            parts.append(f"in {self.cassette}")
        parts.extend(
            f"{name}={value!r}"
            for name, value in (
                ("aspect", self.aspect),
                ("recorded", self.recorded),
                ("target", self.target),
            )
            if value is not None
        )
        return " ".join(parts)


@dataclass(frozen=True)
class Baseline:
    entries: tuple[BaselineEntry, ...] = ()

    def match(self, operation: str, cassette: str, found: Difference) -> BaselineEntry | None:
        return next(
            (entry for entry in self.entries if entry.matches(operation, cassette, found)), None
        )


def load_baseline(path: Path) -> Baseline:
    """Read and check a baseline file; a :class:`UsageError` names the entry and the problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the baseline: {exc}") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise UsageError(f"{path}: not valid JSON/YAML: {' '.join(str(exc).split())}") from exc
    if data is None:
        return Baseline()
    if not isinstance(data, list):
        raise UsageError(f"{path}: a baseline is a list of entries, not {type(data).__name__}")
    return Baseline(tuple(_entry(path, number, item) for number, item in enumerate(data, 1)))


def _entry(path: Path, number: int, item: Any) -> BaselineEntry:
    where = f"{path}: entry {number}"
    if not isinstance(item, dict):
        raise UsageError(f"{where}: expected a mapping with keys {', '.join(_KEYS)}")
    unknown = sorted(str(key) for key in set(item) - set(_KEYS))
    if unknown:
        raise UsageError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_KEYS)}"
        )
    fields: dict[str, str | None] = {}
    for key in _KEYS:
        value = item.get(key)
        # YAML reads `recorded: null` as None and `count: 1` as a number; the report prints
        # text, so scalars are taken as the text they spell.
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, int | float):
            value = str(value)
        elif value is None and key in item and key in ("recorded", "target"):
            value = "null"
        if value is not None and not isinstance(value, str):
            raise UsageError(f"{where}: `{key}` must be text")
        fields[key] = value
    for key in _REQUIRED:
        if not fields[key] or not str(fields[key]).strip():
            raise UsageError(f"{where}: `{key}` is required")
    location, reason = fields["location"], fields["reason"]
    assert location is not None and reason is not None
    return BaselineEntry(
        location,
        reason,
        fields["operation"],
        fields["aspect"],
        fields["recorded"],
        fields["target"],
        fields["cassette"],
        number,
    )
