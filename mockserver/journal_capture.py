"""What a journal entry keeps of an exchange besides the request body: the headers both ways
(secrets masked), the response body (bounded as the request body is), and a summary.

On the request's path only references are taken (a shallow copy of the environ, the
response's header object, the body's chunks already in memory); the journal's writer thread
turns them into the entry's fields (:meth:`mockserver.journal.JournalEntry.settle`), so a
request pays for none of the work here.
"""

from __future__ import annotations

import functools
import json
import operator
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from werkzeug.wrappers import Response

from harness.secret_names import (
    REDACTED,
    is_secret_name,
    looks_like_credential,
    split_scheme,
    url_credentials,
)

# The fields of an entry the dashboard lists (an entry's summary, stored beside it).
SUMMARY_FIELDS = (
    "method",
    "path",
    "model",
    "status",
    "stream",
    "stub_id",
    "fault",
    "valid",
    "latency_ms",
    "request_id",
    "time",
)


@functools.lru_cache(maxsize=512)
def _secret(name: str) -> bool:
    # Header names repeat from request to request; the word split behind the answer need
    # not (the cache is bounded, so made-up names cost no memory).
    return is_secret_name(name)


def _masked(value: str) -> str:
    # The scheme's word is kept ("Bearer ***"): it tells what was sent.
    scheme, _ = split_scheme(value)
    return f"{scheme} {REDACTED}" if scheme else REDACTED


def masked_headers(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers by name, the values of secret-named ones (the cassette scrub's rules:
    ``Authorization``, ``api-key``, cookies, anything named for a key, token, secret or
    password) replaced by ``***`` (``Bearer ***``); a repeated header's values joined."""
    shown: dict[str, str] = {}
    for name, value in items:
        if _secret(name):
            value = _masked(value)
        shown[name] = f"{shown[name]}, {value}" if name in shown else value
    return shown


@functools.lru_cache(maxsize=512)
def _request_header(key: str) -> tuple[str, bool] | None:
    """The header an environ key holds (named as werkzeug names it) and whether it is secret;
    ``None`` for a key that holds no header. Cached as :func:`_secret` is."""
    if key.startswith("HTTP_"):
        name = key[5:].replace("_", "-").title()
    elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        name = key.replace("_", "-").title()
    else:
        return None
    return name, is_secret_name(name)


# The environ keys that hold request headers start so (HTTP_*, CONTENT_TYPE, CONTENT_LENGTH).
_HEADER_KEYS = frozenset({"HTTP_", "CONTE"})


def request_header_items(environ: dict[str, Any]) -> list[tuple[str, Any]]:
    """The environ items that hold the headers the client sent, in the order it sent them.

    granian builds every environ on a copy of the process environment, as CGI did, and
    puts the request's own keys after it (a header that shares a variable's name takes
    its value where the variable was). So a variable named like a header (``HTTP_PROXY``,
    often a proxy URL with its credentials) reads as a header no client sent, and every
    request would scan all the variables (a CI runner has 150: 12 µs a request). Written
    by hand: werkzeug's ``EnvironHeaders`` reads the environ as it is. Here, an item equal
    to the process environment's, name and value, is not a header; and in granian's
    environ the scan stops at the copy, read from the end. (``harness serve``'s granian
    workers also drop such variables before granian copies them, so that the key check and
    the fault headers never see them either: ``serving.drop_request_variables``. This rule
    keeps the journal right wherever else the app is served.)
    """
    variables = _process_variables()
    items = []
    if environ.get("SERVER_SOFTWARE") == "Granian":
        for key in reversed(environ.keys()):  # the request's own keys, then the copy's
            if key in variables.others:
                break
            if key[:5] in _HEADER_KEYS and variables.headerlike.get(key) != environ[key]:
                items.append((key, environ[key]))
        items.reverse()
        # A header named as a variable holds the variable's place, before the scan's end.
        for key, value in variables.headerlike.items():
            sent = environ.get(key, value)
            if sent != value and (key, sent) not in items:
                items.append((key, sent))
        return items
    return [
        item
        for item in environ.items()
        if item[0][:5] in _HEADER_KEYS and variables.headerlike.get(item[0]) != item[1]
    ]


class _ProcessVariables:
    """The process environment's names: those named like a header (with their values),
    and the others."""

    def __init__(self) -> None:
        variables = dict(os.environ)
        self.headerlike = {k: v for k, v in variables.items() if k[:5] in _HEADER_KEYS}
        self.others = frozenset(variables) - frozenset(self.headerlike)


# Read once per process, and again in a forked worker (its environment may differ), without
# a getpid() per request to notice the fork.
_process_variables = functools.lru_cache(maxsize=1)(_ProcessVariables)
os.register_at_fork(after_in_child=_process_variables.cache_clear)


def masked_request_headers(environ_items: Iterable[tuple[str, Any]]) -> dict[str, str]:
    """:func:`masked_headers` of the request headers among a WSGI environ's items."""
    shown: dict[str, str] = {}
    for key, value in environ_items:
        header = _request_header(key)
        if header is not None and value != "":
            name, secret = header
            shown[name] = _masked(str(value)) if secret else str(value)
    return shown


# The most credentials an entry's text is searched for (two a tool at the live API's cap of
# 128 tools); a body that carries more is not kept, nor its answer (see journal_response):
# each credential is a pass over the entry's text.
MAX_BODY_CREDENTIALS = 256


def body_credentials(body: Any) -> frozenset[str]:
    """The credentials a request body carries where the API takes them: a tool's
    ``authorization`` (a Responses ``mcp`` tool's OAuth token), its ``headers`` under
    secret names (``Authorization: Bearer ...``: the token after its scheme, else the value)
    and the keys in its ``server_url`` (user info, path, query: ``url_credentials``), those
    that look like credentials (the cassettes' rule: a word or a short flag is left).
    At most ``MAX_BODY_CREDENTIALS + 1``: one more says there are too many to search for.

    Only the tools are read: nothing else in a request's schema holds a credential, and a
    walk of the whole body (as the cassette scrub walks what it records) would cost every
    request in proportion to its size, tools and messages alike.
    """
    tools = body.get("tools") if isinstance(body, Mapping) else None
    if not isinstance(tools, list):
        return frozenset()
    found: set[str] = set()
    for tool in tools:
        # A parsed body's objects are dicts; a function tool has neither field (checked
        # first: an agent's 16 tools cost 6 µs a request through isinstance and get).
        if type(tool) is not dict or (
            "authorization" not in tool and "headers" not in tool and "server_url" not in tool
        ):
            continue
        values = [tool.get("authorization")]
        server_url = tool.get("server_url")
        if isinstance(server_url, str):
            values.extend(url_credentials(server_url))
        headers = tool.get("headers")
        if isinstance(headers, Mapping):
            for name, value in headers.items():
                if isinstance(value, str) and is_secret_name(str(name)):
                    # "Bearer <token>" keeps its scheme, as the masked headers do.
                    values.append(split_scheme(value)[1])
        for value in values:
            if isinstance(value, str) and looks_like_credential(value):
                found.add(value.strip())
        if len(found) > MAX_BODY_CREDENTIALS:
            break
    return frozenset(found)


def without_credentials(text: str, credentials: Iterable[str], truncated_marker: str) -> str:
    """``text`` (an entry's JSON) with each credential replaced by the mask.

    Found as orjson writes it and as the standard library does (non-ASCII escaped), as a
    string of its own and within a string within a string (a stream's events), but never
    just after an escaping backslash (``\\n`` then the rest of a value is no credential, and
    masking it would break the JSON). Where a kept body was cut inside a credential (just
    before ``truncated_marker``), the start of it is masked too.
    """
    forms: set[str] = set()
    for credential in credentials:
        for once in (_json_string(credential, ascii=False), _json_string(credential, ascii=True)):
            forms.update((once, _json_string(once, ascii=False)))
    ordered = sorted(forms, key=len, reverse=True)
    for form in ordered:
        if form in text:
            text = re.sub(_UNESCAPED + re.escape(form), _KEEP_BACKSLASHES, text)
    for marker in {_json_string(truncated_marker, ascii=a) for a in (False, True)}:
        if marker in text:
            text = marker.join(_cut_credential(part, ordered) for part in text.split(marker))
    return text


# Preceded by an even number of backslashes (none, or escaped ones): not itself escaped.
_UNESCAPED = r"(?<!\\)((?:\\\\)*)"
_KEEP_BACKSLASHES = r"\g<1>" + REDACTED.replace("\\", "\\\\")
# A credential's start, cut by a body's truncation, counts from this many characters.
_MIN_CUT_START = 4


def _cut_credential(part: str, forms: Iterable[str]) -> str:
    """``part`` (text before a truncation mark) without the start of a credential it ends in."""
    for form in forms:
        for length in range(len(form) - 1, _MIN_CUT_START - 1, -1):
            if part.endswith(form[:length]):
                return part[:-length] + REDACTED
    return part


def _json_string(text: str, *, ascii: bool) -> str:
    """``text`` as it is written inside a JSON string (without the quotes)."""
    written = json.dumps(text, ensure_ascii=ascii)
    return written[1:-1]


class RenderedJson(Response):
    """A response whose body is JSON the mock rendered itself, whole and in memory.

    The journal keeps such a body as the bytes it is (an ``orjson.Fragment``) instead of
    parsing it to write it out again: that was a tenth of the writer's work on an entry.
    Any other body (a fault's broken bytes, a stream) is parsed to tell JSON from text.
    Made only by ``delivery.json_reply``; an answer with a ``Location`` is a plain Response
    (see :meth:`get_wsgi_response`).
    """

    # Whether the body was given as bytes (set_data), which set its Content-Length.
    _data_set = False

    def set_data(self, value: bytes | str) -> None:
        super().set_data(value)
        self._data_set = True

    def get_wsgi_response(self, environ: dict[str, Any]) -> tuple[Any, str, list[tuple[str, str]]]:
        # werkzeug's own copies the headers to resolve a Location and to fill in a missing
        # length, and wraps the body to encode it: a body the mock rendered carries no
        # Location, its length was set with its data, and a list passed through is bytes
        # already. That was 3 µs of every JSON answer; HEAD and empty-bodied statuses keep
        # werkzeug's way (tests/unit/test_journal_fields.py holds the two to each other).
        status = self.status_code
        if (
            self._data_set
            and self.direct_passthrough
            and type(self.response) is list
            and status >= 200
            and status not in (204, 304)
            and environ["REQUEST_METHOD"] != "HEAD"
        ):
            return self.response, self.status, self.headers.to_wsgi_list()
        return super().get_wsgi_response(environ)


class BoundedChunks:
    """A streamed body's chunks as they are sent: kept up to ``max_bytes``, all counted."""

    __slots__ = ("chunks", "max_bytes", "size")

    def __init__(self, max_bytes: int) -> None:
        self.chunks: list[bytes] = []
        self.max_bytes = max_bytes
        self.size = 0

    def add(self, chunk: bytes) -> None:
        if self.size <= self.max_bytes:
            self.chunks.append(chunk)
        self.size += len(chunk)


def joined(chunks: Iterable[bytes | str]) -> bytes:
    """A body's chunks as one bytes (WSGI's are bytes; a text chunk is taken as UTF-8)."""
    return b"".join(chunk.encode("utf-8") if isinstance(chunk, str) else chunk for chunk in chunks)


def bounded_body(
    raw: bytes, size: int, max_bytes: int, *, stream: bool, truncated_marker: str
) -> tuple[Any, bool]:
    """``(body, truncated)``: a JSON body as JSON, a stream (or anything else) as text; past
    ``max_bytes`` (``size``: all the bytes sent, of which ``raw`` may hold only the start)
    the start of its text, marked."""
    if size > max_bytes:
        # errors="ignore" drops only a character cut in two at the end.
        return raw[:max_bytes].decode("utf-8", errors="ignore") + truncated_marker, True
    if not stream:
        try:
            return orjson.loads(raw), False
        except orjson.JSONDecodeError:  # not JSON (a broken-wire fault), or nested too deep
            pass
    return raw.decode("utf-8", errors="replace"), False


# The longest model name (or other label a request chooses) a list shows whole.
MAX_LABEL_CHARS = 256


def bounded_label(text: str) -> str:
    """``text`` as the lists show it: its start, marked, past :data:`MAX_LABEL_CHARS`."""
    return text if len(text) <= MAX_LABEL_CHARS else text[:MAX_LABEL_CHARS] + "…"


# The summary's fields an entry's shown fields hold (all but the model, a property of it).
_SUMMARY_SHOWN = tuple(name for name in SUMMARY_FIELDS if name != "model")
_summary_values = operator.itemgetter(*_SUMMARY_SHOWN)
_MODEL_AT = SUMMARY_FIELDS.index("model")


def summary_json(fields: Mapping[str, Any], model: str | None) -> str:
    """An entry's summary, as JSON text, from its shown fields and its model."""
    values = _summary_values(fields)
    shown = dict(
        zip(SUMMARY_FIELDS, (*values[:_MODEL_AT], model, *values[_MODEL_AT:]), strict=True)
    )
    try:
        return orjson.dumps(shown, default=str).decode()
    except (TypeError, orjson.JSONEncodeError):
        # What orjson refuses (a lone surrogate in a model name: valid JSON, so a client
        # can send it) is escaped by the standard library, as the entry's text is.
        return json.dumps(shown, ensure_ascii=True, default=str)
