"""Accepted, known failures of a target, so CI stays green until something new breaks.

A baseline file is a YAML (or JSON) list; each entry silences the failures it matches::

    - operation: POST /v1/chat/completions  # optional: operationId, METHOD /path, chat, responses
      check: not_a_server_error             # required: the check name the report shows
      message: "HTTP 503"                   # optional: regex searched in the failure's text
      reason: upstream bug, reported 2026-11  # optional: shown next to the known failure

An entry without ``operation`` matches every operation, one without ``message`` every
message. The failure's text is its title, message and ``HTTP <status>`` of the answer, as
the report prints them. Unknown keys,
unknown operations and unknown checks are errors, so a typo cannot silence nothing (or
everything) unnoticed; entries that matched nothing in a run are listed as stale.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import UsageError
from harness.spec import SpecSet

_KEYS = frozenset({"operation", "check", "message", "reason"})


@dataclass(frozen=True)
class KnownFailure:
    """One baseline entry."""

    check: str
    operation: str | None = None
    message: str | None = None
    reason: str | None = None
    labels: frozenset[str] | None = None  # the operations ``operation`` names; None = any

    def matches(self, label: str, check: str, text: str) -> bool:
        if check != self.check or (self.labels is not None and label not in self.labels):
            return False
        return self.message is None or re.search(self.message, text) is not None

    def describe(self) -> str:
        parts = [self.operation or "any operation", self.check]
        if self.message is not None:
            parts.append(f"/{self.message}/")
        return " ".join(parts)


@dataclass(frozen=True)
class Baseline:
    """The known failures of a target, in file order."""

    entries: tuple[KnownFailure, ...] = ()

    def match(self, label: str, check: str, text: str) -> KnownFailure | None:
        return next((entry for entry in self.entries if entry.matches(label, check, text)), None)


def load_baseline(path: Path, specs: SpecSet, check_names: Iterable[str]) -> Baseline:
    """Read and check a baseline file; a :class:`UsageError` says what is wrong where."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the baseline: {exc}") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise UsageError(f"{path}: not valid JSON/YAML: {exc}") from exc
    if data is None:
        return Baseline()
    if not isinstance(data, list):
        raise UsageError(f"{path}: a baseline is a list of entries, not {type(data).__name__}")
    known = sorted(set(check_names))
    return Baseline(
        tuple(_entry(path, number, item, specs, known) for number, item in enumerate(data, 1))
    )


def _entry(
    path: Path, number: int, item: Any, specs: SpecSet, check_names: Sequence[str]
) -> KnownFailure:
    where = f"{path}: entry {number}"
    if not isinstance(item, dict):
        raise UsageError(f"{where}: expected a mapping with keys {sorted(_KEYS)}")
    unknown = sorted(set(item) - _KEYS)
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(_KEYS)}")
    fields = {key: item.get(key) for key in _KEYS}
    for key, value in fields.items():
        if value is not None and not isinstance(value, str):
            raise UsageError(f"{where}: {key} must be a string")
    check = fields["check"]
    if not check:
        raise UsageError(f"{where}: `check` is required (one of: {', '.join(check_names)})")
    if check not in check_names:
        raise UsageError(f"{where}: unknown check {check!r}; known: {', '.join(check_names)}")
    message = fields["message"]
    if message is not None:
        try:
            re.compile(message)
        except re.error as exc:
            raise UsageError(f"{where}: `message` is not a valid regex: {exc}") from exc
    operation = fields["operation"]
    labels = None
    if operation is not None:
        operations = specs.resolve(operation)
        if not operations:
            known = ", ".join(specs.operation_names())
            raise UsageError(f"{where}: unknown operation {operation!r}; known: {known}")
        labels = frozenset(f"{op.method.upper()} {op.path}" for op in operations)
    return KnownFailure(check, operation, message, fields["reason"], labels)
