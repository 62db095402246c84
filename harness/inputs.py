"""Saved wire, read from files: JSON bodies, SSE transcripts and vcrpy cassettes.

:func:`read_input` reads a file (or ``-`` for stdin) and tells what it holds (a cassette is
read by :mod:`harness.cassettes.cassette`, the one cassette reader, as every command reads it);
:func:`identify` works out the operation, status and media type of a body or transcript
from its content, as far as the content says (``object``, event ``type``); where it cannot,
the caller names the operation with :meth:`SpecSet.resolve`, which accepts an operationId
(``_v1_chat_completions``), ``METHOD /path`` (``POST /v1/responses``) or a short name
(``chat``, ``responses``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from harness.cassettes.cassette import Interaction, parse_cassette
from harness.cassettes.yamlfile import AliasExpansionError, load_cassette_yaml
from harness.errors import HarnessError
from harness.spec import EVENT_STREAM, JSON, Operation, SpecSet
from harness.spec.index import SHORT_NAMES
from harness.sse import ServerSentEvent, decode_stream

STDIN = "-"
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
    request: bool = False  # a request body (saved from a client or a log), not an answer


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
        except (ValueError, RecursionError):  # not JSON, or nested too deeply
            pass
        else:
            if _is_cassette(value):
                return Loaded(label, "cassette", exchanges=_exchanges(value, label))
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
        return Loaded(label, "cassette", exchanges=_exchanges(document, label))
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
    asked = _request_kind(value)
    if asked is not None:
        chosen = operation or _short(specs, asked)
        if chosen is None:
            raise InputError(f"no operation of the specs takes a {asked} request")
        return Target(chosen, "", JSON, request=True)
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


def _short(specs: SpecSet, short_name: str) -> Operation | None:
    found = specs.resolve(short_name)
    return found[0] if found else None


def _documenting(specs: SpecSet, status: str) -> Operation | None:
    for name in SHORT_NAMES:
        for op in specs.resolve(name):
            if JSON in op.response_media_types(status):
                return op
    return specs.operations[0] if specs.operations else None


def _request_kind(value: Any) -> str | None:
    """``chat`` or ``responses`` for a request body: what only a request carries.

    Answers always say what they are (``object``); requests never do, and carry what they ask
    about: chat ``messages``, Responses ``input``.
    """
    if not isinstance(value, Mapping) or "object" in value:
        return None
    if "messages" in value:
        return "chat"
    return "responses" if "input" in value else None


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
        except (ValueError, RecursionError):  # not JSON, or nested too deeply
            continue
        kind = _body_kind(payload)
        if kind is not None:
            return _short(specs, kind[0])
    return None


def _is_cassette(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("interactions"), list)


def _exchanges(document: Any, label: str) -> tuple[RecordedExchange, ...]:
    # The one cassette reader (as `serve --replay` and `cassettes check` read it), so every
    # command judges a cassette alike, compressed bodies included.
    cassette, problems = parse_cassette(document, Path(label))
    if problems:
        raise InputError("; ".join(problems))
    return tuple(_exchange(interaction) for interaction in cassette.interactions)


def _exchange(interaction: Interaction) -> RecordedExchange:
    request, response = interaction.request, interaction.response
    return RecordedExchange(
        index=interaction.index,
        method=request.method,
        path=urlsplit(request.uri).path or None,
        request=_json_or_none(request.body.decode("utf-8")),
        status=response.status,
        media_type=response.media_type,
        body=response.text,
    )


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None
    except RecursionError as exc:
        raise InputError("a request body is nested too deeply to be read") from exc
