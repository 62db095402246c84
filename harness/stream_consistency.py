"""What a client assembles from a stream must agree with itself.

A client shows the deltas as they arrive and keeps what the stream ends with (the SDKs'
accumulators: openai-python ``lib/streaming/_deltas.py`` for chat, ``accumulate_event`` for
Responses, specs/README.md §4). A stream that is valid event by event can still tell two stories:
a ``done`` text other than its joined deltas, a final Response holding text that was never
streamed, a chunk whose ``id`` changes, a tool-call delta for an index no delta opened (the
SDK inserts it as a call without id or name), or a choice that goes on after its
``finish_reason``. These checks follow the stream as a client does and report where the
stories part, with the keyword ``consistency``.

They take the decoded payloads with their positions (framing and schemas are judged
elsewhere) and skip what they cannot follow, such as an index that points at nothing, which
:mod:`harness.validate` reports as an ``index`` violation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.schema import Violation

KEYWORD = "consistency"
# Every chat chunk of one completion carries the same identity (recorded wire, specs/README.md §4).
CHAT_IDENTITY = ("id", "model", "created")
# Up to this many characters a text is quoted whole in a message; longer ones around the change.
QUOTE_LIMIT = 60
EXCERPT_RADIUS = 24

Payloads = Iterable[tuple[int, Mapping[str, Any]]]
Path = tuple[str | int, ...]


def chat_consistency(payloads: Payloads, *, ended: bool = False) -> list[Violation]:
    """Chunk identity, tool-call openings and finished choices, across a chat stream.

    ``ended``: the stream ended as a finished one does (``data: [DONE]``, no error); then
    every choice it streamed must have carried its ``finish_reason``.
    """
    identity: dict[str, Any] = {}
    seen: list[int] = []  # choice indexes, in the order they first came
    changed: set[str] = set()  # each identity field is reported once, where it first changes
    finished: dict[int, tuple[int, Any]] = {}  # choice index -> (chunk position, finish_reason)
    opened: dict[int, int] = {}  # choice index -> tool calls opened so far
    found: list[Violation] = []
    for position, chunk in payloads:
        for name in CHAT_IDENTITY:
            if name not in identity:
                identity[name] = chunk.get(name)
            elif chunk.get(name) != identity[name] and name not in changed:
                changed.add(name)
                message = f"{name} is {chunk.get(name)!r}, but the stream's first chunk has "
                found.append(_violation((position, name), message + repr(identity[name])))
        for slot, choice in _items(chunk.get("choices")):
            index = _get(choice, "index")
            if not _is_index(index):
                continue
            path: Path = (position, "choices", slot)
            if index not in seen:
                seen.append(index)
            if index in finished:
                where, reason = finished[index]
                message = f"choice {index} continues after chunk {where} carried its "
                found.append(_violation(path, message + f"finish_reason {reason!r}"))
                continue
            calls = _get(_get(choice, "delta"), "tool_calls")
            for call_slot, call in _items(calls):
                call_path = (*path, "delta", "tool_calls", call_slot)
                found.extend(_follow_tool_call(call_path, index, call, opened))
            if _get(choice, "finish_reason") is not None:
                finished[index] = (position, choice["finish_reason"])
    if ended:
        for index in seen:
            if index not in finished:
                message = f"choice {index} never carried a finish_reason, yet the stream "
                found.append(_violation((), message + "ended with data: [DONE]"))
    return found


def _follow_tool_call(
    path: Path, choice: int, call: Any, opened: dict[int, int]
) -> list[Violation]:
    """The first delta of each tool-call index opens it: with id, type and function.name."""
    index = _get(call, "index")
    count = opened.get(choice, 0)
    if not _is_index(index) or index < count:
        return []  # a later delta of an opened call (or a bad index, which the schema reports)
    function = _get(call, "function")
    if not any(key in call for key in ("id", "type")) and "name" not in (function or {}):
        message = f"tool call index {index} of choice {choice} was never opened: its first "
        message += "delta must carry id, type 'function' and function.name"
        return [_violation((*path, "index"), message)]
    found = []
    if index > count:
        message = f"tool call index {index} of choice {choice} is opened before index {count}"
        found.append(_violation((*path, "index"), message))
    opened[choice] = index + 1
    opening = f"the delta that opens tool call {index} of choice {choice}"
    if not _is_text(_get(call, "id")):
        found.append(_violation((*path, "id"), f"{opening} lacks id"))
    if _get(call, "type") != "function":
        message = f"{opening}: type is {_get(call, 'type')!r}, not 'function'"
        found.append(_violation((*path, "type"), message))
    # Present as a string, even empty: a request may name a function "" (the spec sets no
    # minimum), and the reply then calls it by that name.
    if not isinstance(_get(function, "name"), str):
        found.append(_violation((*path, "function", "name"), f"{opening} lacks function.name"))
    return found


# --- Responses ---------------------------------------------------------------------------------

# Content part type -> the field that holds its text, and the events that stream and end it.
PART_TEXT = {"output_text": "text", "refusal": "refusal"}
DELTA_EVENTS = {"response.output_text.delta": "text", "response.refusal.delta": "refusal"}
DONE_EVENTS = {"response.output_text.done": "text", "response.refusal.done": "refusal"}
# Terminal events whose Response must hold what was streamed (a failed one may drop output).
FINAL_EVENTS = ("response.completed", "response.incomplete")
# Fields output_item.added fixes for good.
ITEM_IDENTITY = ("id", "name", "call_id")


@dataclass
class _Part:
    field: str  # "text" or "refusal"
    text: str


@dataclass
class _Item:
    added: Mapping[str, Any]
    arguments: str | None  # function calls only
    parts: list[_Part | None] = field(default_factory=list)
    # A delta went to a part that was never added (an ``index`` violation): what the item
    # holds can no longer be told, and every later comparison would only repeat that.
    lost: bool = False


def responses_consistency(payloads: Payloads) -> list[Violation]:
    """``done`` events and the final Response against the deltas that streamed them; the
    Response each event carries is the one ``response.created`` created, and a terminal
    event's says how it ended."""
    items: list[_Item] = []
    found: list[Violation] = []
    created: Any = None  # the id response.created gave
    for position, event in payloads:
        kind = event.get("type")
        response = event.get("response")
        if isinstance(response, Mapping):
            if kind == "response.created":
                created = response.get("id")
            found.extend(_check_response(position, kind, response, created))
        if kind == "response.output_item.added":
            _add_item(items, event)
            continue
        if kind in FINAL_EVENTS:
            found.extend(
                _compare_output(position, kind, _get(event.get("response"), "output"), items)
            )
            continue
        item = _at(items, event.get("output_index"))
        if item is None:
            continue
        if kind == "response.output_item.done":
            output = f"output {event['output_index']}"
            found.extend(_compare_item((position, "item"), event.get("item"), item, output))
        elif kind == "response.content_part.added":
            _add_part(item, event)
        elif kind == "response.function_call_arguments.delta" and item.arguments is not None:
            item.arguments += _text(event.get("delta"))
        elif kind == "response.function_call_arguments.done" and item.arguments is not None:
            where = f"output {event['output_index']}"
            found.extend(
                _compare((position, "arguments"), event, "arguments", item.arguments, where)
            )
        else:
            found.extend(_follow_part(position, kind, item, event))
    return found


# Terminal event -> the status its Response has (the SDK's accumulated Response keeps it).
TERMINAL_STATUS = {
    "response.completed": "completed",
    "response.incomplete": "incomplete",
    "response.failed": "failed",
}


def _check_response(
    position: int, kind: Any, response: Mapping[str, Any], created: Any
) -> list[Violation]:
    found = []
    if created is not None and kind != "response.created" and response.get("id") != created:
        message = f"{kind} carries response {response.get('id')!r}, but response.created "
        found.append(_violation((position, "response", "id"), message + f"created {created!r}"))
    expected = TERMINAL_STATUS.get(kind) if isinstance(kind, str) else None
    status = response.get("status")
    if expected is not None and status != expected:
        message = f"{kind} carries a response whose status is {status!r}, not {expected!r}"
        found.append(_violation((position, "response", "status"), message))
    return found


def _add_item(items: list[_Item], event: Mapping[str, Any]) -> None:
    added = event.get("item")
    if event.get("output_index") != len(items) or not isinstance(added, Mapping):
        return
    arguments = _text(added.get("arguments")) if added.get("type") == "function_call" else None
    items.append(_Item(added, arguments))


def _add_part(item: _Item, event: Mapping[str, Any]) -> None:
    if event.get("content_index") != len(item.parts):
        return
    part = event.get("part")
    text_field = PART_TEXT.get(_get(part, "type"))
    item.parts.append(_Part(text_field, _text(_get(part, text_field))) if text_field else None)


def _follow_part(
    position: int, kind: Any, item: _Item, event: Mapping[str, Any]
) -> list[Violation]:
    content_index = event.get("content_index")
    part = _at(item.parts, content_index)
    if part is None or item.lost:
        item.lost = item.lost or kind in DELTA_EVENTS
        return []
    where = f"output {event.get('output_index')} content {content_index}"
    if DELTA_EVENTS.get(kind) == part.field:
        part.text += _text(event.get("delta"))
    elif DONE_EVENTS.get(kind) == part.field:
        return _compare((position, part.field), event, part.field, part.text, where)
    elif kind == "response.content_part.done":
        path = (position, "part", part.field)
        return _compare(path, _get(event, "part"), part.field, part.text, where)
    return []


def _compare_output(position: int, kind: Any, output: Any, items: list[_Item]) -> list[Violation]:
    if not isinstance(output, list):
        return []
    found = []
    if len(output) < len(items):
        message = f"{kind} holds {len(output)} output item(s), but the stream added {len(items)}"
        found.append(_violation((position, "response", "output"), message))
    for slot, (body, item) in enumerate(zip(output, items, strict=False)):
        path = (position, "response", "output", slot)
        found.extend(_compare_item(path, body, item, f"output {slot}"))
    return found


def _compare_item(path: Path, body: Any, item: _Item, output: str) -> list[Violation]:
    """An item as a ``done`` event or the final Response holds it, against what was streamed."""
    if not isinstance(body, Mapping) or body.get("type") != item.added.get("type") or item.lost:
        return []
    found = []
    for name in ITEM_IDENTITY:
        fixed, now = item.added.get(name), body.get(name)
        if _is_text(fixed) and _is_text(now) and fixed != now:
            message = f"{name} {now!r} is not the {name} output_item.added gave {output}, {fixed!r}"
            found.append(_violation((*path, name), message))
    if item.arguments is not None:
        found.extend(_compare((*path, "arguments"), body, "arguments", item.arguments, output))
    content = body.get("content")
    if not isinstance(content, list) or body.get("type") != "message":
        return found
    if len(content) < len(item.parts):
        message = f"the item holds {len(content)} content part(s), but the stream added "
        found.append(_violation((*path, "content"), message + str(len(item.parts))))
    for slot, (part, streamed) in enumerate(zip(content, item.parts, strict=False)):
        if streamed is not None:
            where = f"{output} content {slot}"
            part_path = (*path, "content", slot, streamed.field)
            found.extend(_compare(part_path, part, streamed.field, streamed.text, where))
    return found


def _compare(path: Path, holder: Any, name: str, streamed: str, where: str) -> list[Violation]:
    said = _get(holder, name)
    if not isinstance(said, str) or said == streamed:
        return []  # a missing or non-string field is the schema's to report
    offset = _first_difference(said, streamed)
    message = f"{name} {_quote(said, offset)} is not the {name} streamed for {where}, "
    message += f"{_quote(streamed, offset)} (first difference at offset {offset})"
    return [_violation(path, message)]


def _first_difference(one: str, other: str) -> int:
    for offset, (a, b) in enumerate(zip(one, other, strict=False)):
        if a != b:
            return offset
    return min(len(one), len(other))


def _quote(text: str, offset: int) -> str:
    """The text, or for a long one the stretch around ``offset`` (a message stays readable)."""
    if len(text) <= QUOTE_LIMIT:
        return repr(text)
    start, end = max(0, offset - EXCERPT_RADIUS), offset + EXCERPT_RADIUS
    return f"{'…' if start else ''}{text[start:end]!r}{'…' if end < len(text) else ''}"


# --- helpers -----------------------------------------------------------------------------------


def _violation(path: Path, message: str) -> Violation:
    return Violation(path, message, KEYWORD)


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def _items(values: Any) -> Iterable[tuple[int, Any]]:
    return enumerate(values) if isinstance(values, list) else ()


def _at(values: list[Any], index: Any) -> Any:
    return values[index] if _is_index(index) and index < len(values) else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
