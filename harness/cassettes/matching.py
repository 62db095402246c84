"""Replay matching: method, path, and the JSON body compared as data.

Key order and whitespace never matter; numbers compare by value (``1`` and ``1.0`` are the
same JSON number) but a boolean is never a number (Python's ``True == 1`` would otherwise make
``"stream": true`` match ``"stream": 1``). A body that is not JSON is compared byte for byte.
The same rules serve the vcrpy matcher (:func:`match_json_body`) and ``harness serve
--replay``; :func:`body_differences` explains a mismatch as JSON pointers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# vcrpy ships no type hints.
from vcr.util import read_body  # type: ignore[import-untyped]

from harness.cassettes.cassette import Interaction
from harness.json_pointer import escape

# The name the matcher is registered under on a vcrpy ``VCR``.
JSON_BODY_MATCHER = "json_body"
MAX_DIFFERENCES = 5
_MISSING: Any = object()


@dataclass(frozen=True)
class Difference:
    """Where two JSON documents differ: a pointer and the value on each side."""

    pointer: str
    recorded: Any
    received: Any

    def __str__(self) -> str:
        return (
            f"{self.pointer or '/'} (recorded {_show(self.recorded)}, got {_show(self.received)})"
        )


def parse_body(body: bytes | str | None) -> tuple[bool, Any]:
    """``(True, data)`` for a JSON body, ``(False, bytes)`` otherwise; empty is ``(True, None)``."""
    raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    if not raw.strip():
        return True, None
    try:
        return True, json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, or nested past what Python parses
        return False, raw


def body_key(body: bytes | str | None) -> str:
    """A text that is equal for two bodies exactly when they match (a dict key for lookups)."""
    is_json, value = parse_body(body)
    if is_json:
        try:
            return "json:" + json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"))
        except RecursionError:  # parsed, but too deep to walk: matched as the bytes it is
            value = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    raw: bytes = value
    return "raw:" + raw.hex()


def bodies_match(first: bytes | str | None, second: bytes | str | None) -> bool:
    return body_key(first) == body_key(second)


def body_differences(
    recorded: bytes | str | None, received: bytes | str | None
) -> list[Difference]:
    """Every place two bodies differ (JSON pointers), or one entry for non-JSON bodies."""
    recorded_json, recorded_value = parse_body(recorded)
    received_json, received_value = parse_body(received)
    if not (recorded_json and received_json):
        if body_key(recorded) == body_key(received):
            return []
        return [Difference("", _raw(recorded_value), _raw(received_value))]
    found: list[Difference] = []
    try:
        _diff(_canonical(recorded_value), _canonical(received_value), "", found)
    except RecursionError:  # too deep to walk: one difference, the whole body
        return (
            []
            if body_key(recorded) == body_key(received)
            else [Difference("", _raw(recorded), _raw(received))]
        )
    return found


def _diff(recorded: Any, received: Any, pointer: str, found: list[Difference]) -> None:
    if isinstance(recorded, dict) and isinstance(received, dict):
        for key in sorted(set(recorded) | set(received)):
            child = f"{pointer}/{escape(key)}"
            _diff(recorded.get(key, _MISSING), received.get(key, _MISSING), child, found)
    elif isinstance(recorded, list) and isinstance(received, list):
        for index in range(max(len(recorded), len(received))):
            left = recorded[index] if index < len(recorded) else _MISSING
            right = received[index] if index < len(received) else _MISSING
            _diff(left, right, f"{pointer}/{index}", found)
    elif _tagged(recorded) != _tagged(received):
        found.append(Difference(pointer, recorded, received))


def _canonical(value: Any) -> Any:
    """Integral floats as ints, so ``1.0`` and ``1`` compare (and serialize) alike."""
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _tagged(value: Any) -> tuple[str, Any]:
    # Tag booleans so they never equal the numbers 0 and 1.
    if value is _MISSING:
        return ("missing", None)
    return ("bool" if isinstance(value, bool) else "value", value)


def _raw(value: Any) -> Any:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _show(value: Any) -> str:
    if value is _MISSING:
        return "nothing"
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, bytes) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- matching recorded requests ---------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A recorded interaction that did not match, and how it differs from the request."""

    interaction: Interaction
    method_differs: bool
    path_differs: bool
    differences: tuple[Difference, ...]

    def describe(self) -> str:
        recorded = self.interaction.request
        parts = []
        if self.method_differs:
            parts.append(f"the method differs (recorded {recorded.method})")
        if self.path_differs:
            parts.append(f"the path differs (recorded {recorded.path})")
        # Body differences explain a near miss only on the same route.
        if self.differences and not (self.method_differs or self.path_differs):
            shown = "; ".join(str(item) for item in self.differences[:MAX_DIFFERENCES])
            more = len(self.differences) - MAX_DIFFERENCES
            parts.append(f"the body differs at {shown}" + (f" and {more} more" if more > 0 else ""))
        return f"{self.interaction.label} ({recorded.method} {recorded.path}): " + (
            ", ".join(parts) or "identical"
        )


class RequestIndex:
    """Recorded requests by method, path and body, for lookups in constant time.

    A request recorded several times is answered with its first recording: the index holds no
    play counts, so every server worker (and every test run) answers alike.
    """

    def __init__(self, interactions: Iterable[Interaction]) -> None:
        self.interactions = list(interactions)
        self._by_key: dict[tuple[str, str, str], Interaction] = {}
        for interaction in self.interactions:
            key = _request_key(
                interaction.request.method, interaction.request.path, interaction.request.body
            )
            self._by_key.setdefault(key, interaction)

    def find(self, method: str, path: str, body: bytes) -> Interaction | None:
        return self._by_key.get(_request_key(method, path, body))

    def closest(self, method: str, path: str, body: bytes) -> Candidate | None:
        """The recorded request most like this one: same path first, then method, then body."""
        best: tuple[tuple[int, int, int], Candidate] | None = None
        for interaction in self.interactions:
            recorded = interaction.request
            candidate = Candidate(
                interaction,
                method_differs=recorded.method != method.upper(),
                path_differs=recorded.path != (path or "/"),
                differences=tuple(body_differences(recorded.body, body)),
            )
            score = (
                int(candidate.path_differs),
                int(candidate.method_differs),
                len(candidate.differences),
            )
            if best is None or score < best[0]:
                best = (score, candidate)
        return best[1] if best else None


def _request_key(method: str, path: str, body: bytes) -> tuple[str, str, str]:
    return (method.upper(), path or "/", body_key(body))


def match_json_body(first: Any, second: Any) -> None:
    """vcrpy matcher: the request bodies are equal as JSON data (raises ``AssertionError``).

    vcrpy passes the request being made first and the recorded one second, and shows the
    assertion message when no recorded request matches.
    """
    received, recorded = _vcr_body(first), _vcr_body(second)
    if bodies_match(received, recorded):
        return
    differences = body_differences(recorded, received)
    shown = "; ".join(str(item) for item in differences[:MAX_DIFFERENCES])
    raise AssertionError(f"the JSON bodies differ at {shown}")


def _vcr_body(request: Any) -> bytes | str | None:
    # vcrpy's own reader handles the file-like and iterator bodies some clients send.
    body = read_body(request)
    return body if isinstance(body, bytes | str) else None
