"""vcrpy cassettes as files: read them with clear errors, append to them atomically.

A cassette is vcrpy's YAML format, version 1::

    interactions:
    - request: {body, headers: {name: [value]}, method, uri}
      response: {body: {string}, headers: {name: [values]}, status: {code, message}}
    version: 1
    x-harness: {source: documented | recorded, ...}

The YAML text goes through vcrpy's own serializer (its safe loader and its dumper), so what
the harness writes is what vcrpy writes, and what it reads is what vcrpy reads; reading first
bounds what the file's aliases may expand to (:mod:`harness.cassettes.yamlfile`). Bodies are
text: JSON, or the raw SSE transcript of a stream. vcrpy stores what the wire carried, so a
compressed answer (``Content-Encoding: gzip`` or ``deflate``) is stored as its compressed bytes;
this is the one reader of cassettes (``serve --replay``, ``cassettes check``, ``compare`` and
``validate`` all read through it), and it decodes such a body as a client would, into the same
interaction ``harness record`` writes (body decoded, no ``Content-Encoding``).

``x-harness`` says where the interactions come from. vcrpy reads only ``interactions`` (and,
since 9.x, ``metadata``) and ignores other top-level keys; vcrpy's own ``metadata`` key is not
used because pytest-recording 0.14's combined persister unpacks exactly two values from
vcrpy's deserializer and fails on the third one that key adds (checked in tests/cassettes).
"""

from __future__ import annotations

import os
import sys
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

# vcrpy ships no type hints; its serializer is the one piece used here.
from vcr.serializers import yamlserializer  # type: ignore[import-untyped]

from harness.atomic import replace_file
from harness.cassettes.yamlfile import AliasExpansionError, load_cassette_yaml
from harness.errors import HarnessError

FORMAT_VERSION = 1
SOURCE_KEY = "x-harness"
CASSETTE_SUFFIXES = (".yaml", ".yml")
EVENT_STREAM = "text/event-stream"
# The most a compressed body may decode to (64 MiB, far above any answer of the API): a few
# kilobytes of gzip can stand for gigabytes.
MAX_DECODED_BODY = 64 * 1024 * 1024
# Content-Encoding -> zlib's window bits for it (gzip: a gzip header; deflate: a zlib header).
_DECODABLE = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}

Headers = Mapping[str, Sequence[str]]


class CassetteError(HarnessError):
    """A cassette cannot be read (or written); ``problems`` lists each one, file and entry named."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class RecordedRequest:
    """The request half of an interaction; ``body`` is ``b""`` when there is none."""

    method: str
    uri: str
    body: bytes = b""
    headers: Headers = field(default_factory=dict)

    @property
    def path(self) -> str:
        return urlsplit(self.uri).path or "/"


@dataclass(frozen=True)
class RecordedResponse:
    """The response half of an interaction; ``body`` holds UTF-8 text (JSON or SSE)."""

    status: int
    reason: str
    headers: Headers
    body: bytes

    @property
    def media_type(self) -> str | None:
        value = header_value(self.headers, "content-type")
        return value.split(";")[0].strip().lower() if value else None

    @property
    def is_stream(self) -> bool:
        return self.media_type == EVENT_STREAM

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


@dataclass(frozen=True)
class Interaction:
    """One recorded request/response pair and where it is stored (``file#index``)."""

    request: RecordedRequest
    response: RecordedResponse
    cassette: Path
    index: int

    @property
    def label(self) -> str:
        return f"{self.cassette}#{self.index}"


@dataclass(frozen=True)
class Cassette:
    """A cassette file's interactions and its ``x-harness`` block (``{}`` when absent)."""

    path: Path
    interactions: tuple[Interaction, ...]
    source: Mapping[str, Any] = field(default_factory=dict)


def header_value(headers: Headers, name: str) -> str | None:
    """A header's first value, looked up without regard to case."""
    wanted = name.lower()
    for key, values in headers.items():
        if key.lower() == wanted and values:
            return values[0]
    return None


# --- reading -------------------------------------------------------------------------------


def read_cassette(path: Path) -> Cassette:
    """Read and check one cassette file; every problem found is in the :class:`CassetteError`."""
    document = _read_document(path)
    cassette, problems = parse_cassette(document, path)
    if problems:
        raise CassetteError([f"{path}: {problem}" for problem in problems])
    return cassette


def parse_cassette(document: Any, path: Path) -> tuple[Cassette, list[str]]:
    """The cassette a loaded YAML (or JSON) document holds, and its problems (none: it is good).

    Problems name the entry (``interaction 0: ...``) but not the file: the caller adds that.
    """
    interactions, problems = _parse_document(document, path)
    source = document.get(SOURCE_KEY) if isinstance(document, Mapping) else None
    found = Cassette(path, tuple(interactions), dict(source) if isinstance(source, Mapping) else {})
    return found, problems


def find_cassette_files(directory: Path) -> list[Path]:
    """Every ``*.yaml``/``*.yml`` below ``directory``, and every ``*.json`` that is a vcrpy
    cassette (its ``json`` serializer's), skipping hidden files and folders.

    Hidden files are skipped because the recorder's temporary files (``.name.yaml.*.tmp``)
    live next to the cassettes until they are renamed into place. A JSON file is a cassette
    when it names its ``interactions`` at the top, as vcrpy writes them: other JSON files
    (reports, fixtures) are left alone, where every YAML file must be a cassette. JSON
    cassettes were skipped without a word by every reader but ``harness validate``.
    """
    found = [
        path
        for path in directory.rglob("*")
        if (path.suffix in CASSETTE_SUFFIXES or path.suffix == ".json")
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(directory).parts)
        and (path.suffix != ".json" or _is_json_cassette(path))
    ]
    return sorted(found)


def _is_json_cassette(path: Path) -> bool:
    # vcrpy's json serializer writes {"version": 1, "interactions": [...]}: the key is in
    # the first few hundred bytes, so the file is not read whole to find out.
    try:
        with path.open("rb") as opened:
            head = opened.read(_JSON_HEAD_BYTES)
    except OSError:
        return True  # read as a cassette, which names the problem
    return b'"interactions"' in head


_JSON_HEAD_BYTES = 4096


def read_cassettes(directory: Path) -> list[Cassette]:
    """Read every cassette below ``directory``; one error lists the problems of every file."""
    if not directory.is_dir():
        raise CassetteError([f"{directory}: not a folder"])
    paths = find_cassette_files(directory)
    if not paths:
        raise CassetteError([f"{directory}: no cassettes (*.yaml, *.yml, vcrpy's *.json) found"])
    cassettes: list[Cassette] = []
    problems: list[str] = []
    for path in paths:
        try:
            cassettes.append(read_cassette(path))
        except CassetteError as exc:
            problems.extend(exc.problems)
    if problems:
        raise CassetteError(problems)
    return cassettes


def _read_document(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CassetteError([f"{path}: cannot read: {exc.strerror or exc}"]) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CassetteError([f"{path}: not UTF-8 text (byte {exc.start})"]) from exc
    try:
        return load_cassette_yaml(text)
    except AliasExpansionError as exc:
        raise CassetteError([f"{path}: {exc}"]) from exc
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise CassetteError([f"{path}: not valid YAML: {detail}"]) from exc


def _parse_document(document: Any, path: Path) -> tuple[list[Interaction], list[str]]:
    if not isinstance(document, Mapping):
        kind = "empty" if document is None else f"a {type(document).__name__}"
        return [], [f"not a vcrpy cassette (the file is {kind}, not a mapping)"]
    raw = document.get("interactions")
    if not isinstance(raw, list):
        return [], ["not a vcrpy cassette (no `interactions` list)"]
    problems: list[str] = []
    version = document.get("version")
    if version is not None and version != FORMAT_VERSION:
        problems.append(f"cassette format version {version!r}; expected {FORMAT_VERSION}")
    source = document.get(SOURCE_KEY)
    if source is not None and not isinstance(source, Mapping):
        problems.append(f"`{SOURCE_KEY}` must be a mapping")
    interactions: list[Interaction] = []
    for index, item in enumerate(raw):
        found: list[str] = []
        interaction = _parse_interaction(item, path, index, found)
        problems.extend(f"interaction {index}: {problem}" for problem in found)
        if interaction is not None:
            interactions.append(interaction)
    return interactions, problems


def _parse_interaction(
    item: Any, path: Path, index: int, problems: list[str]
) -> Interaction | None:
    if not isinstance(item, Mapping):
        problems.append(f"expected a mapping with `request` and `response`, got {_kind(item)}")
        return None
    request = _section(item, "request", problems)
    response = _section(item, "response", problems)
    if request is None or response is None:
        return None
    method = _string(request, "method", "request.method", problems)
    uri = _string(request, "uri", "request.uri", problems)
    request_headers = _headers(request.get("headers"), "request.headers", problems)
    request_body = _body(request.get("body"), request_headers, "request.body", problems)
    status = response.get("status")
    code: Any = status.get("code") if isinstance(status, Mapping) else None
    reason: Any = status.get("message", "") if isinstance(status, Mapping) else ""
    if not isinstance(status, Mapping):
        problems.append(f"`response.status` must be a mapping with `code`, got {_kind(status)}")
    elif isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
        problems.append(f"`response.status.code` must be an HTTP status, got {code!r}")
    if reason is None:
        reason = ""
    if not isinstance(reason, str):
        problems.append(f"`response.status.message` must be text, got {_kind(reason)}")
    response_headers = _headers(response.get("headers"), "response.headers", problems)
    body = response.get("body")
    if not isinstance(body, Mapping) or "string" not in body:
        problems.append(f"`response.body` must be a mapping with `string`, got {_kind(body)}")
        response_body = None
    else:
        response_body = _body(
            body.get("string"), response_headers, "response.body.string", problems
        )
    if problems:
        return None
    assert method is not None and uri is not None and request_body is not None
    assert request_headers is not None and response_headers is not None
    assert response_body is not None and isinstance(code, int) and isinstance(reason, str)
    # The model holds the bodies decoded, so their headers say so.
    request_headers = _without_encoding(request_headers, request_body)
    response_headers = _without_encoding(response_headers, response_body)
    return Interaction(
        RecordedRequest(method.upper(), uri, request_body, request_headers),
        RecordedResponse(code, reason, response_headers, response_body),
        path,
        index,
    )


def _section(item: Mapping[str, Any], key: str, problems: list[str]) -> Mapping[str, Any] | None:
    value = item.get(key)
    if isinstance(value, Mapping):
        return value
    problems.append(f"`{key}` must be a mapping, got {_kind(value)}")
    return None


def _string(section: Mapping[str, Any], key: str, where: str, problems: list[str]) -> str | None:
    value = section.get(key)
    if isinstance(value, str) and value.strip():
        return value
    problems.append(f"`{where}` must be non-empty text, got {_kind(value)}")
    return None


def _headers(value: Any, where: str, problems: list[str]) -> dict[str, list[str]] | None:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(f"`{where}` must be a mapping of names to values, got {_kind(value)}")
        return None
    headers: dict[str, list[str]] = {}
    for name, values in value.items():
        listed = values if isinstance(values, list) else [values]
        # vcrpy writes every value as text; a hand-edited number or boolean is still a value.
        if not isinstance(name, str) or not all(
            isinstance(item, str | int | float) for item in listed
        ):
            problems.append(f"`{where}.{name}` must be text or a list of text, got {values!r}")
            return None
        headers[name] = [str(item) for item in listed]
    return headers


def _body(value: Any, headers: Headers | None, where: str, problems: list[str]) -> bytes | None:
    if value is None:
        return b""
    if isinstance(value, str):
        # Text is stored decoded whatever the headers say (vcrpy's decoder assumes the same).
        return value.encode("utf-8")
    if not isinstance(value, bytes):
        problems.append(f"`{where}` must be text, got {_kind(value)}")
        return None
    # vcrpy stores bodies it cannot decode as UTF-8 as !!binary: a compressed body as the
    # wire carried it (decoded here as a client would), or else a corrupted recording, since
    # the API's bodies are JSON or SSE text.
    raw: bytes = value
    encoding = _encoding(headers)
    if encoding:
        decoded = _decoded(value, encoding, where, problems)
        if decoded is None:
            return None
        raw = decoded
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(f"`{where}` is not valid UTF-8 text (byte {exc.start})")
        return None
    return raw


def _encoding(headers: Headers | None) -> str | None:
    """The body's ``Content-Encoding``, when it is one the reader decodes."""
    value = header_value(headers or {}, "content-encoding")
    encoding = value.strip().lower() if isinstance(value, str) else ""
    return encoding if encoding in _DECODABLE else None


def _decoded(raw: bytes, encoding: str, where: str, problems: list[str]) -> bytes | None:
    # By hand with zlib rather than vcrpy's decode_response: that one has no bound on what
    # the body grows to, and passes a body it cannot decode on unchanged.
    decoder = zlib.decompressobj(_DECODABLE[encoding])
    try:
        decoded = decoder.decompress(raw, MAX_DECODED_BODY + 1)
    except zlib.error as exc:
        problems.append(f"`{where}` is {encoding} but cannot be decoded: {exc}")
        return None
    if len(decoded) > MAX_DECODED_BODY:
        problems.append(
            f"`{where}` is {encoding} and decodes to more than {MAX_DECODED_BODY:,} bytes"
        )
        return None
    if not decoder.eof:
        problems.append(f"`{where}` is {encoding} but cannot be decoded: the data is cut short")
        return None
    return decoded


def _without_encoding(headers: dict[str, list[str]], body: bytes) -> dict[str, list[str]]:
    """The headers of a decoded body, as vcrpy's decode_response leaves them (and `record`)."""
    if not _encoding(headers):
        return headers
    kept = {name: values for name, values in headers.items() if name.lower() != "content-encoding"}
    for name in kept:
        if name.lower() == "content-length":
            kept[name] = [str(len(body))]
    return kept


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'…' if len(text) > 40 else ''}"


# --- writing -------------------------------------------------------------------------------


def to_vcr_interaction(request: RecordedRequest, response: RecordedResponse) -> dict[str, Any]:
    """One interaction in vcrpy's cassette format (text bodies, header values as lists).

    Request headers keep their first value only, as vcrpy's own ``Request`` does.
    """
    return {
        "request": {
            "body": request.body.decode("utf-8") if request.body else None,
            "headers": {name: [values[0]] for name, values in request.headers.items() if values},
            "method": request.method,
            "uri": request.uri,
        },
        "response": {
            "body": {"string": response.body.decode("utf-8")},
            "headers": {name: list(values) for name, values in response.headers.items()},
            "status": {"code": response.status, "message": response.reason},
        },
    }


def dump_cassette(interactions: Sequence[Mapping[str, Any]], source: Mapping[str, Any]) -> str:
    """A whole cassette's text, written by vcrpy's YAML dumper."""
    document: dict[str, Any] = {"interactions": list(interactions), "version": FORMAT_VERSION}
    if source:
        document[SOURCE_KEY] = dict(source)
    text: str = yamlserializer.serialize(document)
    return text


def append_interaction(
    path: Path,
    request: RecordedRequest,
    response: RecordedResponse,
    *,
    source: Mapping[str, Any] | None = None,
) -> int:
    """Append one interaction to a cassette file (created if missing); returns its index.

    The whole file is written again, to a temporary file renamed over the old one, so a
    reader (or a recorder killed mid-write) sees either the old file or the new one, never
    half of one: an append-only format would lose that. The append holds the lock of this
    one cassette (:func:`_locked_cassette`), so several threads or recorder processes can
    append to it while appends to other cassettes go on. What this process last wrote is
    kept (:class:`_WrittenDocuments`) and not read again unless the file changed since. An
    existing file that is not a valid cassette is left alone and reported.
    """
    for body, where in ((request.body, "request"), (response.body, "response")):
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CassetteError([f"{path}: the {where} body is not UTF-8 text"]) from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked_cassette(path):
        document = _WRITTEN.get(path)
        if document is None:
            document = _existing_document(path)
        interactions = document["interactions"]
        interactions.append(to_vcr_interaction(request, response))
        if source and SOURCE_KEY not in document:
            document[SOURCE_KEY] = dict(source)
        try:
            written = _replace_cassette(path, yamlserializer.serialize(document))
        except BaseException:
            _WRITTEN.forget(path)  # the kept document holds an interaction the file does not
            raise
        _WRITTEN.keep(path, written, document)
        return len(interactions) - 1


def write_text_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` by a temporary file and a rename, under the file's lock.

    A reader, or a writer killed at any moment, sees the old file or the new one, whole.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked_cassette(path):
        _WRITTEN.forget(path)
        replace_file(path, text)


def write_cassette(
    path: Path,
    interactions: Sequence[tuple[RecordedRequest, RecordedResponse]],
    source: Mapping[str, Any],
) -> None:
    """Write a whole cassette at once (atomically), replacing any file at ``path``."""
    text = dump_cassette([to_vcr_interaction(req, resp) for req, resp in interactions], source)
    write_text_atomically(path, text)


def _existing_document(path: Path) -> dict[str, Any]:
    if not path.exists() or not path.read_bytes().strip():
        return {"interactions": [], "version": FORMAT_VERSION}
    document = _read_document(path)
    _, problems = _parse_document(document, path)
    if problems:
        found = [f"{path}: {problem}" for problem in problems]
        raise CassetteError([*found, f"{path}: not appending to a broken cassette"])
    assert isinstance(document, dict)
    return document


# (st_mtime_ns, st_size, st_ino) of a cassette file: a rename puts a new inode in place, so a
# file another process wrote since has another signature.
_Signature = tuple[int, int, int]


def _signature_of(stat: os.stat_result) -> _Signature:
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


def _current_signature(path: Path) -> _Signature | None:
    try:
        return _signature_of(os.stat(path))
    except OSError:
        return None


def _replace_cassette(path: Path, text: str) -> _Signature:
    """:func:`harness.atomic.replace_file`, and the written file's signature (taken before
    the rename: once renamed, another process may replace it at once)."""
    return _signature_of(replace_file(path, text))


class _WrittenDocuments:
    """The document this process last wrote to each cassette, with that file's signature.

    An append reuses it, rather than reading and checking the whole file again, while the
    file still has that signature; a file another process (or an editor) wrote since is read.
    A few cassettes are kept, the most recently written.
    """

    LIMIT = 16

    def __init__(self) -> None:
        self._kept: OrderedDict[Path, tuple[_Signature, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path) -> dict[str, Any] | None:
        key = path.absolute()
        with self._lock:
            entry = self._kept.get(key)
        if entry is None:
            return None
        signature, document = entry
        if _current_signature(path) != signature:
            self.forget(path)
            return None
        return document

    def keep(self, path: Path, signature: _Signature, document: dict[str, Any]) -> None:
        key = path.absolute()
        with self._lock:
            self._kept[key] = (signature, document)
            self._kept.move_to_end(key)
            while len(self._kept) > self.LIMIT:
                self._kept.popitem(last=False)

    def forget(self, path: Path) -> None:
        with self._lock:
            self._kept.pop(path.absolute(), None)


_WRITTEN = _WrittenDocuments()

# One lock per cassette within the process (appends to other cassettes go on meanwhile) ...
_PATH_LOCKS: dict[Path, threading.Lock] = {}
_PATH_LOCKS_GUARD = threading.Lock()


@contextmanager
def _locked_cassette(path: Path) -> Iterator[None]:
    """Hold the cassette's lock: its thread lock, then its advisory lock for other processes."""
    key = path.absolute()
    with _PATH_LOCKS_GUARD:
        lock = _PATH_LOCKS.setdefault(key, threading.Lock())
    with lock, _lock_file(path):
        yield


if sys.platform == "win32":  # pragma: no cover - no flock; one recorder per folder there

    @contextmanager
    def _lock_file(path: Path) -> Iterator[None]:
        yield

    @contextmanager
    def _lock_folder(directory: Path) -> Iterator[None]:
        yield

else:
    import fcntl

    @contextmanager
    def _lock_folder(directory: Path) -> Iterator[None]:
        handle = os.open(directory, os.O_RDONLY)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            os.close(handle)  # closing the descriptor releases the flock

    @contextmanager
    def _lock_file(path: Path) -> Iterator[None]:
        """... and an advisory lock on the cassette file itself, for other processes.

        Every write renames a new file into place, so the lock is taken on the file that
        is there when it is granted: a process that waited on the file just replaced tries
        again on the new one. A cassette that does not exist yet has nothing to lock; its
        folder's lock orders the processes that would create it.
        """
        while True:
            try:
                handle = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                with _lock_folder(path.parent):
                    if not path.exists():
                        yield
                        return
                continue
            try:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    still_there = os.fstat(handle).st_ino == os.stat(path).st_ino
                except FileNotFoundError:
                    still_there = False
                if still_there:
                    yield
                    return
            finally:
                os.close(handle)
