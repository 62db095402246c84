"""Saved wire, read from files: JSON bodies, SSE transcripts and vcrpy cassettes.

:func:`read_input` reads a file (or ``-`` for stdin) and tells what it holds;
:func:`identify` works out the operation, status and media type of a body or transcript
from its content, as far as the content says (``object``, event ``type``); where it cannot,
the caller names the operation with :func:`resolve_operations`, which accepts an operationId
(``_v1_chat_completions``), ``METHOD /path`` (``POST /v1/responses``) or a short name
(``chat``, ``responses``).
"""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from harness.cassettes.yamlfile import AliasExpansionError, load_cassette_yaml
from harness.errors import HarnessError
from harness.spec import EVENT_STREAM, JSON, Operation, SpecSet
from harness.sse import ServerSentEvent, decode_stream

STDIN = "-"
# Short names for the two endpoints, matched against the end of an operation's path.
SHORT_NAMES = {"chat": "/chat/completions", "responses": "/responses"}
DEFAULT_ERROR_STATUS = "400"
_SSE_FIELDS = ("data:", "event:", "id:", "retry:", ":")


class InputError(HarnessError):
    """A file cannot be read, or what it holds cannot be told apart."""


@dataclass(frozen=True)
class RecordedExchange:
    """One request/response pair of a cassette (or a lone saved response)."""

    index: int | None
    method: str
    path: str | None
    request: Any  # the decoded JSON request body, or None
    status: int | None
    media_type: str | None
    body: str


@dataclass(frozen=True)
class Target:
    """What a body or transcript is validated against."""

    operation: Operation
    status: str
    media_type: str
    single_event: bool = False  # one chunk/event saved alone, not a whole stream


@dataclass(frozen=True)
class Loaded:
    """A file's content: ``kind`` is ``body``, ``stream`` or ``cassette``."""

    name: str
    kind: str
    value: Any = None  # the JSON body
    events: tuple[ServerSentEvent, ...] = ()
    exchanges: tuple[RecordedExchange, ...] = ()


def read_input(name: str) -> Loaded:
    """Read one file (``-``: stdin) and tell a JSON body, an SSE transcript and a cassette apart."""
    try:
        raw = sys.stdin.buffer.read() if name == STDIN else Path(name).read_bytes()
        text = raw.decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: {exc}") from exc
    label = "<stdin>" if name == STDIN else name
    stripped = text.lstrip()
    if not stripped:
        raise InputError("the file is empty")
    if stripped[0] in "{[":
        try:
            value = json.loads(text)
        except ValueError:
            pass
        else:
            if _is_cassette(value):
                return Loaded(label, "cassette", exchanges=_exchanges(value))
            return Loaded(label, "body", value=value)
    if stripped.startswith(_SSE_FIELDS):
        return Loaded(label, "stream", events=tuple(decode_stream(text)))
    try:
        # The cassette readers' loader: vcrpy's, with a bound on alias expansion.
        document = load_cassette_yaml(text)
    except AliasExpansionError as exc:
        raise InputError(str(exc)) from exc
    except yaml.YAMLError as exc:
        raise InputError(f"neither JSON, an SSE transcript nor a YAML cassette ({exc})") from exc
    if _is_cassette(document):
        return Loaded(label, "cassette", exchanges=_exchanges(document))
    raise InputError("neither a JSON body, an SSE transcript (data:/event: lines) nor a cassette")


def identify(specs: SpecSet, loaded: Loaded, operation: Operation | None) -> Target:
    """The operation, status and media type a body or transcript belongs to.

    ``operation`` (from ``--operation``) wins over what the content suggests.
    """
    if loaded.kind == "stream":
        guessed = _stream_operation(specs, loaded.events)
        chosen = operation or guessed
        if chosen is None:
            raise InputError("cannot tell whose stream this is; pass --operation")
        return Target(chosen, "200", EVENT_STREAM)
    value = loaded.value
    if isinstance(value, Mapping) and "error" in value and "object" not in value:
        chosen = operation or _documenting(specs, DEFAULT_ERROR_STATUS)
        if chosen is None:
            raise InputError(f"no operation documents a {DEFAULT_ERROR_STATUS} error body")
        return Target(chosen, DEFAULT_ERROR_STATUS, JSON)
    kind = _body_kind(value)
    chosen = operation or (_short(specs, kind[0]) if kind else None)
    if chosen is None:
        raise InputError("cannot tell which operation this body belongs to; pass --operation")
    single = kind is not None and kind[1]
    return Target(chosen, "200", EVENT_STREAM if single else JSON, single_event=single)


def exchange_operation(specs: SpecSet, exchange: RecordedExchange) -> Operation | None:
    """The operation serving a recorded request (by path, or the end of it, and model)."""
    if exchange.path is None:
        return None
    paths = [path for path in specs.paths if exchange.path.endswith(path)]
    if not paths:
        return None
    path = max(paths, key=len)
    model = exchange.request.get("model") if isinstance(exchange.request, Mapping) else None
    found = specs.find(path, exchange.method, model if isinstance(model, str) else None)
    return found or specs.find(path, exchange.method)


def resolve_operations(specs: SpecSet, name: str) -> list[Operation]:
    """Operations a user-given name means (``chat`` means both chat paths, ``/v1`` first)."""
    wanted = name.strip()
    suffix = SHORT_NAMES.get(wanted.lower())
    method, _, path = wanted.partition(" ")
    if not path and wanted.startswith("/"):
        method, path = "post", wanted
    found = [
        op
        for op in specs.operations
        if op.operation_id == wanted
        or (suffix is not None and op.method == "post" and op.path.endswith(suffix))
        or (op.method == method.lower() and op.path == path.strip())
    ]
    return sorted(found, key=_preference)


def _preference(op: Operation) -> tuple[bool, str]:
    # The /v1 paths first: they are what SDKs call, and what `chat` picks when one is needed.
    return (not op.path.startswith("/v1/"), op.path)


def operation_names(specs: SpecSet) -> list[str]:
    """Every name :func:`resolve_operations` accepts, for error messages."""
    names = list(SHORT_NAMES)
    for op in sorted(specs.operations, key=_preference):
        names.extend([op.operation_id, f"{op.method.upper()} {op.path}"])
    return list(dict.fromkeys(names))


def _short(specs: SpecSet, short_name: str) -> Operation | None:
    found = resolve_operations(specs, short_name)
    return found[0] if found else None


def _documenting(specs: SpecSet, status: str) -> Operation | None:
    for name in SHORT_NAMES:
        for op in resolve_operations(specs, name):
            if JSON in op.response_media_types(status):
                return op
    return specs.operations[0] if specs.operations else None


def _body_kind(value: Any) -> tuple[str, bool] | None:
    """``(short name, is one stream event)`` from a body's ``object``/``type`` tag."""
    if not isinstance(value, Mapping):
        return None
    tag, event_type = value.get("object"), value.get("type")
    if tag == "chat.completion":
        return "chat", False
    if tag == "chat.completion.chunk":
        return "chat", True
    if tag == "response":
        return "responses", False
    if not isinstance(event_type, str) or "sequence_number" not in value:
        return None
    return (
        ("responses", True) if event_type.startswith("response.") or event_type == "error" else None
    )


def _stream_operation(specs: SpecSet, events: tuple[ServerSentEvent, ...]) -> Operation | None:
    for event in events:
        if event.event is not None and event.event.startswith("response."):
            return _short(specs, "responses")
        try:
            payload = event.json()
        except ValueError:
            continue
        kind = _body_kind(payload)
        if kind is not None:
            return _short(specs, kind[0])
    return None


def _is_cassette(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("interactions"), list)


def _exchanges(cassette: Mapping[str, Any]) -> tuple[RecordedExchange, ...]:
    return tuple(_exchange(index, item) for index, item in enumerate(cassette["interactions"]))


def _exchange(index: int, item: Any) -> RecordedExchange:
    where = f"interaction {index}"
    request = item.get("request") if isinstance(item, Mapping) else None
    response = item.get("response") if isinstance(item, Mapping) else None
    if not isinstance(request, Mapping) or not isinstance(response, Mapping):
        raise InputError(f"{where}: expected `request` and `response` mappings")
    status = response.get("status")
    code = status.get("code") if isinstance(status, Mapping) else status
    if not isinstance(code, int):
        raise InputError(f"{where}: response.status.code is not a number")
    headers = response.get("headers") or {}
    body = response.get("body")
    text = _text(body.get("string") if isinstance(body, Mapping) else body, headers, where)
    content_type = _header(headers, "content-type")
    return RecordedExchange(
        index=index,
        method=str(request.get("method") or "POST"),
        path=urlsplit(str(request.get("uri") or "")).path or None,
        request=_json_or_none(_text(request.get("body"), request.get("headers") or {}, where)),
        status=code,
        media_type=content_type.split(";")[0].strip().lower() if content_type else None,
        body=text,
    )


def _text(body: Any, headers: Any, where: str) -> str:
    if body is None:
        return ""
    if isinstance(body, str):
        return body
    if not isinstance(body, bytes):
        raise InputError(f"{where}: a body is neither text nor bytes")
    # vcrpy keeps bodies as recorded, so a gzip-encoded answer is stored compressed.
    raw: bytes = body
    if "gzip" in (_header(headers, "content-encoding") or ""):
        try:
            raw = gzip.decompress(raw)
        except OSError as exc:
            raise InputError(f"{where}: gzip body cannot be decompressed: {exc}") from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{where}: body is not UTF-8: {exc}") from exc


def _header(headers: Any, name: str) -> str | None:
    """A header's first value from vcrpy's ``{name: [values]}`` (any case)."""
    if not isinstance(headers, Mapping):
        return None
    for key, value in headers.items():
        if str(key).lower() == name:
            values = value if isinstance(value, list) else [value]
            return str(values[0]) if values else None
    return None


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None
