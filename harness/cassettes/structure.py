"""The structure of an answer, and the differences between two structures.

What ``harness cassettes compare`` holds a target's answer to: never the generated content
(text, token counts, the random part of ids, timestamps), only what a client's parser and
its branches depend on:

- the HTTP status and the headers clients read (``content-type``, ``x-request-id``, the
  rate-limit and retry headers);
- for a JSON body, at every JSON pointer (array items share one pointer, ``[]`` for the
  index): the set of keys, the JSON type of the value (so ``null`` is not absence), the values
  of enum-like fields, the prefix and length of ids, and the number of ``choices``;
- for a stream, the sequence of event kinds with runs of one kind collapsed (so a longer text
  is not a difference), and the same JSON structure per event kind.

Written by hand: JSON-diff libraries (deepdiff, jsondiff) compare values and array positions,
which is exactly what must not count here.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.json_pointer import escape
from harness.sse import DONE, decode_stream

# Fields whose values are a closed set a client branches on; every other string is content.
ENUM_KEYS = frozenset(
    {"finish_reason", "status", "service_tier", "role", "type", "object", "code", "reason"}
)
# Fields holding generated ids: their prefix and length are structure, the rest is random.
ID_KEYS = frozenset({"id", "item_id", "call_id", "response_id"})
# Arrays whose length is structure rather than content (``choices`` has ``n`` items).
COUNTED_ARRAYS = frozenset({"/choices"})
# Headers that clients read; the rate-limit family is matched by prefix.
CLIENT_HEADERS = ("x-request-id", "retry-after", "retry-after-ms")
CLIENT_HEADER_PREFIXES = ("x-ratelimit-",)

_ID_PREFIX = re.compile(r"^[A-Za-z]+[_-]")
ABSENT = "absent"


@dataclass(frozen=True, order=True)
class Difference:
    """One structural difference: where, in what respect, and the two sides as shown."""

    location: str  # a JSON pointer, "<event kind> <pointer>", "header <name>", "status", ...
    aspect: str  # "presence", "JSON type", "value", "id prefix", "id length", "count", ...
    recorded: str
    target: str
    # Shown to help (e.g. the target's error message), never part of what is compared.
    detail: str = field(default="", compare=False)


@dataclass
class PointerFacts:
    """What was seen at one JSON pointer (over every array item it stands for)."""

    types: set[str] = field(default_factory=set)
    keys: dict[str, set[str]] = field(default_factory=dict)  # key -> JSON types of its value
    values: set[str] = field(default_factory=set)
    id_prefixes: set[str] = field(default_factory=set)
    id_lengths: set[int] = field(default_factory=set)
    counts: set[int] = field(default_factory=set)


Facts = dict[str, PointerFacts]


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def collect_facts(value: Any, facts: Facts | None = None, pointer: str = "") -> Facts:
    """Every pointer of ``value`` with what was seen there; array items share ``…/[]``."""
    found: Facts = {} if facts is None else facts
    # An explicit stack rather than recursion: a hostile body may nest deeply.
    stack: list[tuple[str, str | None, Any]] = [(pointer, None, value)]
    while stack:
        where, key, item = stack.pop()
        here = found.setdefault(where, PointerFacts())
        kind = json_type(item)
        here.types.add(kind)
        if isinstance(item, dict):
            for name, child in item.items():
                here.keys.setdefault(name, set()).add(json_type(child))
                stack.append((f"{where}/{escape(name)}", name, child))
        elif isinstance(item, list):
            if where in COUNTED_ARRAYS:
                here.counts.add(len(item))
            stack.extend((f"{where}/[]", None, child) for child in item)
        elif isinstance(item, str) and key is not None:
            if key in ENUM_KEYS:
                here.values.add(item)
            if key in ID_KEYS:
                match = _ID_PREFIX.match(item)
                here.id_prefixes.add(match.group(0) if match else "(none)")
                here.id_lengths.add(len(item))
    return found


def compare_facts(recorded: Facts, target: Facts, prefix: str = "") -> list[Difference]:
    """The differences between two bodies' facts; ``prefix`` names the event kind, if any.

    Pointers seen on one side only are not compared on their own: the key that is missing
    above them is the difference (and an array empty on one side says nothing of its items).
    """
    found: list[Difference] = []
    for pointer in sorted(recorded.keys() & target.keys()):
        mine, theirs = recorded[pointer], target[pointer]
        where = f"{prefix}{pointer or '/'}"
        if mine.types != theirs.types:
            found.append(Difference(where, "JSON type", _set(mine.types), _set(theirs.types)))
        # Keys are compared where both sides had an object here; a null against an object
        # is one difference (the type), not one per key.
        both_objects = "object" in mine.types and "object" in theirs.types
        for name in sorted(mine.keys.keys() | theirs.keys.keys()) if both_objects else ():
            if name in mine.keys and name in theirs.keys:
                continue
            child = f"{prefix}{pointer}/{escape(name)}"
            found.append(
                Difference(
                    child,
                    "presence",
                    _set(mine.keys[name]) if name in mine.keys else ABSENT,
                    _set(theirs.keys[name]) if name in theirs.keys else ABSENT,
                )
            )
        for aspect, left, right in (
            ("value", mine.values, theirs.values),
            ("id prefix", mine.id_prefixes, theirs.id_prefixes),
            ("id length", {str(n) for n in mine.id_lengths}, {str(n) for n in theirs.id_lengths}),
            ("count", {str(n) for n in mine.counts}, {str(n) for n in theirs.counts}),
        ):
            if left and right and left != right:
                found.append(Difference(where, aspect, _set(left), _set(right)))
    return found


# --- whole answers -------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One HTTP answer as compared: status, headers (names lower-cased), body bytes."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def media_type(self) -> str:
        value = self.headers.get("content-type", "")
        return value.split(";")[0].strip().lower()


def compare_answers(recorded: Answer, target: Answer) -> list[Difference]:
    """Every structural difference between the recorded answer and the target's."""
    if recorded.status != target.status:
        # The bodies answer different things (an error against a reply): comparing them
        # would bury the one difference that matters.
        return [
            Difference(
                "status",
                "HTTP status",
                str(recorded.status),
                str(target.status),
                detail=_error_message(target.body),
            )
        ]
    found = compare_headers(recorded.headers, target.headers)
    if recorded.media_type != target.media_type:
        return found
    if recorded.media_type == "text/event-stream":
        found.extend(compare_streams(recorded.body, target.body))
    else:
        found.extend(compare_json_bodies(recorded.body, target.body))
    return found


def compare_headers(recorded: Mapping[str, str], target: Mapping[str, str]) -> list[Difference]:
    """``content-type``'s media type, and presence of the other headers the recording has.

    Only headers the recording carries are held against the target: cassettes built from
    documentation keep no more than the content type, and their silence says nothing.
    """
    found: list[Difference] = []
    mine = _media(recorded.get("content-type"))
    theirs = _media(target.get("content-type"))
    if mine != theirs:
        found.append(Difference("header content-type", "value", mine, theirs))
    for name in sorted(recorded):
        read_by_clients = name in CLIENT_HEADERS or name.startswith(CLIENT_HEADER_PREFIXES)
        if read_by_clients and name not in target:
            found.append(Difference(f"header {name}", "presence", "present", ABSENT))
    return found


def compare_json_bodies(recorded: bytes, target: bytes) -> list[Difference]:
    mine, theirs = _parse(recorded), _parse(target)
    if isinstance(mine, _NotJson) or isinstance(theirs, _NotJson):
        left = "not JSON" if isinstance(mine, _NotJson) else "JSON"
        right = "not JSON" if isinstance(theirs, _NotJson) else "JSON"
        return [] if left == right else [Difference("/", "body", left, right)]
    return compare_facts(collect_facts(mine), collect_facts(theirs))


# --- streams -------------------------------------------------------------------------------


@dataclass
class StreamStructure:
    """A stream's event kinds in order (runs collapsed), and the facts of each kind."""

    sequence: list[str] = field(default_factory=list)
    facts: dict[str, Facts] = field(default_factory=dict)
    framing: dict[str, set[str]] = field(default_factory=dict)  # kind -> SSE `event:` usage
    sequence_numbers: list[int] = field(default_factory=list)  # Responses' sequence_number

    @property
    def numbered_in_order(self) -> bool | None:
        """Whether ``sequence_number`` counts up by one from the first event; None if absent."""
        numbers = self.sequence_numbers
        if not numbers:
            return None
        return numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def stream_structure(body: bytes) -> StreamStructure:
    structure = StreamStructure()
    try:
        events = decode_stream(body)
    except (UnicodeDecodeError, ValueError):
        structure.sequence.append("undecodable stream")
        return structure
    for event in events:
        payload: Any = None
        if event.data.strip() == DONE:
            kind = DONE
        else:
            parsed = _parse(event.data.encode("utf-8"))
            if isinstance(parsed, _NotJson):
                kind = "non-JSON data"
            else:
                payload = parsed
                kind = event_kind(parsed)
        if not structure.sequence or structure.sequence[-1] != kind:
            structure.sequence.append(kind)
        if payload is not None:
            collect_facts(payload, structure.facts.setdefault(kind, {}))
            declared = payload.get("type") if isinstance(payload, dict) else None
            number = payload.get("sequence_number") if isinstance(payload, dict) else None
            if isinstance(number, int) and not isinstance(number, bool):
                structure.sequence_numbers.append(number)
            if event.event is None:
                framing = "no event: line"
            elif event.event == declared:
                framing = "event: <type>"
            else:
                framing = "event: other"
            structure.framing.setdefault(kind, set()).add(framing)
    return structure


def event_kind(payload: Any) -> str:
    """The kind of one stream event, as a client's parser branches on it.

    Responses events by ``type`` with their ``output_index``/``content_index`` place; chat
    chunks by what their delta carries: the first delta (``role``), content, a tool call's
    start (with its ``id``) or its argument pieces, the finish chunk, the usage chunk.
    """
    if not isinstance(payload, dict):
        return f"JSON {json_type(payload)}"
    kind = payload.get("type")
    if isinstance(kind, str):
        place = [
            str(payload[name])
            for name in ("output_index", "content_index", "summary_index")
            if isinstance(payload.get(name), int)
        ]
        return f"{kind}[{'/'.join(place)}]" if place else kind
    choices = payload.get("choices")
    if isinstance(choices, list):
        return _chunk_kind(payload, choices)
    if "error" in payload:
        return "error"
    return "untyped event"


def _chunk_kind(payload: Mapping[str, Any], choices: Sequence[Any]) -> str:
    if not choices:
        return "usage chunk" if payload.get("usage") is not None else "chunk without choices"
    parts: list[str] = []
    for choice in choices:
        if not isinstance(choice, dict):
            continue
        delta = choice.get("delta")
        delta = delta if isinstance(delta, dict) else {}
        if "role" in delta:
            parts.append("first delta")
        if isinstance(delta.get("content"), str) and delta["content"]:
            parts.append("content delta")
        if isinstance(delta.get("refusal"), str) and delta["refusal"]:
            parts.append("refusal delta")
        calls = delta.get("tool_calls")
        if isinstance(calls, list) and calls:
            starts = any(isinstance(call, dict) and call.get("id") for call in calls)
            parts.append("tool-call start" if starts else "tool-call arguments delta")
        if choice.get("finish_reason") is not None:
            parts.append("finish chunk")
    if payload.get("usage") is not None:
        parts.append("usage")
    unique = list(dict.fromkeys(parts))
    return " + ".join(unique) if unique else "empty delta"


def compare_streams(recorded: bytes, target: bytes) -> list[Difference]:
    mine, theirs = stream_structure(recorded), stream_structure(target)
    found = compare_sequences(mine.sequence, theirs.sequence)
    if mine.numbered_in_order and theirs.numbered_in_order is False:
        found.append(
            Difference("sequence_number", "numbering", "counts up by one", "gaps or disorder")
        )
    for kind in mine.sequence:
        if kind not in theirs.facts or kind not in mine.facts:
            continue
        if mine.framing.get(kind) != theirs.framing.get(kind):
            found.append(
                Difference(
                    kind,
                    "SSE framing",
                    _set(mine.framing.get(kind, ())),
                    _set(theirs.framing.get(kind, ())),
                )
            )
        found.extend(compare_facts(mine.facts[kind], theirs.facts[kind], prefix=f"{kind} "))
    return _unique(found)


def compare_sequences(recorded: Sequence[str], target: Sequence[str]) -> list[Difference]:
    """Events missing, extra, or moved, each named with the event before it."""
    matcher = difflib.SequenceMatcher(None, list(recorded), list(target), autojunk=False)
    missing: dict[str, str] = {}
    extra: dict[str, str] = {}
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("delete", "replace"):
            for index in range(i1, i2):
                missing.setdefault(recorded[index], _after(recorded, index))
        if tag in ("insert", "replace"):
            for index in range(j1, j2):
                extra.setdefault(target[index], _after(target, index))
    found: list[Difference] = []
    for kind, place in missing.items():
        if kind in extra:
            found.append(Difference(kind, "event order", place, extra[kind]))
        else:
            found.append(Difference(kind, "event", f"present, {place}", ABSENT))
    for kind, place in extra.items():
        if kind not in missing:
            found.append(Difference(kind, "event", ABSENT, f"present, {place}"))
    return found


def _after(sequence: Sequence[str], index: int) -> str:
    return f"after {sequence[index - 1]}" if index else "first"


# --- helpers -------------------------------------------------------------------------------


class _NotJson:
    pass


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return _NotJson()


def _error_message(body: bytes) -> str:
    parsed = _parse(body)
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
        message = parsed["error"].get("message")
        if isinstance(message, str):
            return message[:300]
    return ""


def _media(value: str | None) -> str:
    return value.split(";")[0].strip().lower() if value else ABSENT


def _set(values: Iterable[str]) -> str:
    return " | ".join(sorted(values))


def _unique(found: list[Difference]) -> list[Difference]:
    return list(dict.fromkeys(found))
