"""Secret filters applied before anything is written to a cassette: one pipeline for both paths.

``harness record`` (:mod:`harness.cassettes.recorder`) and the vcrpy hooks of
:func:`harness.cassettes.vcr_config` both call :func:`scrub_request` and then
:func:`scrub_response` with one :class:`Secrets` per recorder, so the two write the same thing.
Each step first *learns* the secrets an interaction carries, then *scrubs*:

1. Headers that carry credentials are dropped (the rules are :mod:`harness.secret_names`'):
   a fixed list (the bearer key, cookies, ``OpenAI-Organization`` and ``OpenAI-Project``)
   and any header whose name contains a word such as ``key``, ``token``, ``secret``,
   ``auth`` or ``password`` (:func:`is_secret_name`). Names are split into words, so
   ``x-api-key`` and ``apiKey`` are secret while the rate-limit headers
   ``x-ratelimit-remaining-tokens`` are kept. The values of the key headers (the key in
   use) are learned as secrets; those of the others (a cookie's values too) only when they
   look like a credential (:func:`looks_like_credential`), not an ordinary word.
2. Query parameters with such names are dropped from the request URI and from URI-valued
   response headers (``Location``, ``Content-Location``); their values are learned as secrets
   when they look like a credential.
   The rest of a query is kept exactly as it was written.
3. A JSON request body's own credentials are learned too (:func:`body_secrets`): strings
   under secret-named keys that look like a credential (a Responses ``mcp`` tool's
   ``headers`` and ``authorization``), and the credential-shaped parts of a server's URL
   (its ``server_url``: user info, path segments, query values). Replay compares a
   received body with them redacted (:func:`body_as_recorded`).
4. Every learned secret is replaced by :data:`REDACTED` wherever else it appears (the URI, other
   header values, both bodies), in each form it can take on the wire: as is and in any letter
   case, URL-encoded (``%2F`` or ``%2f``, ``+`` for a space), JSON-escaped (``\\/``, ``\\"``)
   and base64-encoded (standard or URL-safe, alone or inside a longer base64 text such as a
   ``Basic`` credential). Bodies stay valid: in a JSON body, or a stream's ``data:`` line,
   object keys are left alone, and one that a plain replacement would break is redacted
   value by value instead.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

from harness.cassettes.cassette import RecordedRequest, RecordedResponse, header_value
from harness.secret_names import (  # shared with the mock's journal
    REDACTED,
    SERVER_URL_KEYS,
    is_secret_name,
    looks_like_credential,
    split_scheme,
    url_credentials,
)

# Headers whose value is a URI: its query is scrubbed as the request URI's is.
URI_HEADERS = frozenset({"location", "content-location"})
# Values shorter than this are not searched for: replacing a 3-letter "key" everywhere would
# mangle ordinary text, and nothing that short is a real API key.
MIN_SECRET_LENGTH = 6
# The headers that carry the key in use: their values are learned whatever they look like.
KEY_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key"})
_DATA_FIELD = "data:"

Headers = Mapping[str, Sequence[str]]


class Secrets:
    """The secrets a recorder has learned, and every form each takes on the wire.

    >>> secrets = Secrets(["sk-abc/123"])
    >>> secrets.redact("key sk-abc%2F123 or SK-ABC\\\\/123")
    'key *** or ***'
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._any_case: list[bytes] = []  # lowercased; searched in the lowercased body
        self._exact: list[bytes] = []  # base64: letter case is part of the encoding
        self.add(values)

    def __bool__(self) -> bool:
        return bool(self._values)

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def add(self, values: Iterable[str]) -> None:
        """Learn ``values`` (whitespace trimmed; those too short to be a secret are ignored)."""
        new = {value.strip() for value in values} - self._values
        new = {value for value in new if len(value) >= MIN_SECRET_LENGTH}
        if new:
            self._values |= new
            self._any_case, self._exact = _wire_forms(self._values)

    def redact(self, text: str) -> str:
        """``text`` with every form of every secret replaced by :data:`REDACTED`."""
        if not self._values:
            return text
        return self.redact_bytes(text.encode("utf-8")).decode("utf-8")

    def redact_bytes(self, body: bytes) -> bytes:
        """:meth:`redact` for bytes (UTF-8 or not: a match never splits a character)."""
        if not self._values:
            return body
        # bytes.lower() folds ASCII letters only, so offsets in it are offsets in ``body``.
        lowered = body.lower()
        spans = [span for form in self._any_case for span in _find_all(lowered, form)]
        spans += [span for form in self._exact for span in _find_all(body, form)]
        if not spans:
            return body
        pieces: list[bytes] = []
        done = 0
        for start, end in sorted(spans):
            if end <= done:
                continue  # inside a span already replaced
            if start >= done:
                pieces += [body[done:start], _REDACTED_BYTES]
            done = end
        pieces.append(body[done:])
        return b"".join(pieces)


_REDACTED_BYTES = REDACTED.encode("ascii")


def _find_all(haystack: bytes, needle: bytes) -> list[tuple[int, int]]:
    """Every ``(start, end)`` of ``needle`` in ``haystack``.

    ``bytes.find`` per form rather than one regular expression of alternatives: with a few
    dozen forms the expression is some 10-40 times slower on a large stream body.
    """
    found: list[tuple[int, int]] = []
    start = haystack.find(needle)
    while start != -1:
        found.append((start, start + len(needle)))
        start = haystack.find(needle, start + 1)
    return found


def _wire_forms(values: Iterable[str]) -> tuple[list[bytes], list[bytes]]:
    """Every wire form of each value: ``(forms in any letter case, lowercased; exact forms)``.

    Written by hand because no library lists the encodings a secret takes on the wire.
    """
    any_case: set[bytes] = set()
    exact: set[bytes] = set()
    for value in values:
        text_forms = {
            value,
            quote(value, safe=""),
            quote(value),
            quote_plus(value),
            json.dumps(value, ensure_ascii=False)[1:-1],
            json.dumps(value)[1:-1],
            value.replace("/", "\\/"),
            json.dumps(value)[1:-1].replace("/", "\\/"),
        }
        any_case.update(form.encode("utf-8").lower() for form in text_forms)
        exact.update(form.encode("ascii") for form in _base64_forms(value.encode("utf-8")))
    keep = MIN_SECRET_LENGTH
    return (
        sorted(form for form in any_case if len(form) >= keep),
        sorted(form for form in exact if len(form) >= keep and form.lower() not in any_case),
    )


def _base64_forms(raw: bytes) -> set[str]:
    """The value's base64 (standard and URL-safe, padded or not), and the part of it that
    is the same wherever the value starts inside a longer base64 text (three alignments)."""
    forms: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode("ascii")
        forms.update({whole, whole.rstrip("=")})
        for offset in range(3):
            text = encode(b"\0" * offset + raw).decode("ascii")
            # Characters 6 bits wide: the first that holds no padding bit, to the last whole one.
            first, last = math.ceil(8 * offset / 6), (8 * (offset + len(raw))) // 6
            forms.add(text[first:last])
    return forms


# --- learning ------------------------------------------------------------------------------


def header_secrets(headers: Headers) -> set[str]:
    """The credentials in secret-named headers: whole values, bearer tokens, cookie values.

    What a key header (:data:`KEY_HEADERS`) carries is the key in use and is learned as it
    is. Any other secret-named header (``X-Session-Id``, ``Cookie``, ``Set-Cookie``, ...) is
    dropped whole, but its values are learned only where they look like a credential
    (:func:`looks_like_credential`): an ordinary word there (``consent=accepted``, a session
    named ``assistant``) would otherwise be replaced all through the recorded answer.
    """
    found: set[str] = set()
    for name, values in headers.items():
        if is_secret_name(name):
            for value in values:
                found |= _credentials_under(name, value)
    return found


def body_secrets(body: bytes) -> set[str]:
    """The credentials a JSON body carries under secret-named object keys, by the rules of
    :func:`header_secrets` (a key is read as a header name).

    Clients put credentials in request bodies: a Responses ``mcp`` tool takes its server's
    ``headers`` (``{"Authorization": "Bearer ..."}``) and ``authorization`` (an OAuth token),
    and an upstream may echo the tool back; a key in its ``server_url`` (user info, path,
    query: :func:`url_credentials`) is learned too. Only credential-shaped strings count
    (:func:`looks_like_credential`), whatever the name: a word in a conversation's body is
    replaced all through the recorded answer once learned, so ``"max_output_tokens": 64``,
    ``"session": "assistant"`` or ``"prompt_cache_key": "docs-cache"`` are left as sent. A
    body that is not JSON, or nested deeper than Python parses, teaches nothing.
    """
    try:
        data = json.loads(body) if body else None
    except (ValueError, RecursionError):
        return set()
    found: set[str] = set()
    # Walked with a list, not by recursion: a body may nest as deep as json.loads reads.
    waiting = [data]
    while waiting:
        value = waiting.pop()
        if isinstance(value, dict):
            for name, item in value.items():
                if isinstance(item, str):
                    if is_secret_name(name):
                        found |= set(filter(looks_like_credential, _credentials_under(name, item)))
                    elif name in SERVER_URL_KEYS:
                        found |= url_credentials(item)
                else:
                    waiting.append(item)
        elif isinstance(value, list):
            waiting.extend(value)
    return found


def _credentials_under(name: str, value: str) -> set[str]:
    """What one value of a secret-named header (or JSON key) ``name`` teaches."""
    lowered = name.lower()
    learned = {value}
    scheme, rest = split_scheme(value)
    if scheme:
        learned.add(rest)
        if scheme.lower() == "basic":
            learned.update(_basic_credentials(rest))
    if lowered in ("cookie", "set-cookie"):
        learned.update(_cookie_values(value, only_first=lowered == "set-cookie"))
    if lowered not in KEY_HEADERS:
        learned = {item for item in learned if looks_like_credential(item)}
    return learned


def query_secrets(uri: str) -> set[str]:
    """The values of the URI's query parameters whose names say they carry a credential, and
    that look like one (:func:`looks_like_credential`)."""
    found: set[str] = set()
    for piece in urlsplit(uri).query.split("&"):
        name, _, value = piece.partition("=")
        if is_secret_name(unquote_plus(name)) and looks_like_credential(unquote_plus(value)):
            found.add(unquote_plus(value))
    return found


def _basic_credentials(token: str) -> set[str]:
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except ValueError:
        return set()
    password = decoded.partition(":")[2]
    return {password, decoded}


def _cookie_values(value: str, *, only_first: bool) -> set[str]:
    # A Set-Cookie's later pairs are attributes (Path, Expires: dates that occur elsewhere).
    pairs = value.split(";")[:1] if only_first else value.split(";")
    return {pair.partition("=")[2].strip() for pair in pairs}


# --- scrubbing -----------------------------------------------------------------------------


def scrub_uri(uri: str, secrets: Secrets) -> str:
    """The URI without secret-named query parameters and with every known secret redacted.

    The parameters kept are left exactly as written (no re-encoding), so the URI still
    matches what the client sent.
    """
    parts = urlsplit(uri)
    if parts.query:
        kept = [
            piece
            for piece in parts.query.split("&")
            if piece and not is_secret_name(unquote_plus(piece.partition("=")[0]))
        ]
        uri = urlunsplit(parts._replace(query="&".join(kept)))
    return secrets.redact(uri)


def scrub_headers(headers: Headers, secrets: Secrets) -> dict[str, list[str]]:
    """Secret-named headers dropped, URI-valued ones scrubbed as URIs, the rest redacted."""
    kept: dict[str, list[str]] = {}
    for name, values in headers.items():
        if is_secret_name(name):
            continue
        lowered = name.lower()
        kept[name] = [
            scrub_uri(value, secrets) if lowered in URI_HEADERS else secrets.redact(value)
            for value in values
        ]
    return kept


def scrub_body(body: bytes, secrets: Secrets) -> bytes:
    """The body with every known secret redacted; JSON stays JSON and SSE stays SSE.

    In JSON (a whole body or a stream's ``data:`` line) object keys are never touched: a
    key is a field's name, not a value a client sent.
    """
    if not secrets or not body:
        return body
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return secrets.redact_bytes(body)
    redacted = secrets.redact(text)
    if redacted == text:
        return body
    if _is_json(text):
        redacted = _redact_json_text(text, secrets)
    else:
        redacted = _keep_data_lines_json(text, redacted, secrets)
    return redacted.encode("utf-8")


def body_as_recorded(body: bytes) -> bytes:
    """``body`` with the credentials it carries itself redacted (:func:`body_secrets`), as
    every recording stored it: what replay compares a received body in."""
    return scrub_body(body, Secrets(body_secrets(body)))


def scrub_request(request: RecordedRequest, secrets: Secrets) -> RecordedRequest:
    """Learn the request's secrets into ``secrets``, then scrub its URI, headers and body."""
    secrets.add(
        header_secrets(request.headers) | query_secrets(request.uri) | body_secrets(request.body)
    )
    return replace(
        request,
        uri=scrub_uri(request.uri, secrets),
        headers=scrub_headers(request.headers, secrets),
        body=scrub_body(request.body, secrets),
    )


def scrub_response(response: RecordedResponse, secrets: Secrets) -> RecordedResponse:
    """Learn the response's secrets into ``secrets``, then scrub its headers and body."""
    learned = header_secrets(response.headers)
    for name in URI_HEADERS:
        location = header_value(response.headers, name)
        if location is not None:
            learned |= query_secrets(location)
    secrets.add(learned)
    return replace(
        response,
        headers=scrub_headers(response.headers, secrets),
        body=scrub_body(response.body, secrets),
    )


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply
        return False
    return True


def _keep_data_lines_json(text: str, redacted: str, secrets: Secrets) -> str:
    """``redacted`` (``text`` with its secrets replaced), each SSE ``data:`` line that held
    JSON still holding JSON."""
    old_lines = text.splitlines(keepends=True)
    new_lines = redacted.splitlines(keepends=True)
    if len(new_lines) != len(old_lines):
        # A secret with a line break in it was replaced: redact line by line to pair them up.
        new_lines = [secrets.redact(line) for line in old_lines]
    return "".join(
        new if new == old else _keep_data_json(old, new, secrets)
        for old, new in zip(old_lines, new_lines, strict=True)
    )


def _keep_data_json(line: str, redacted: str, secrets: Secrets) -> str:
    """A redacted line; a ``data:`` line that holds JSON is redacted as JSON (keys kept)."""
    if not line.startswith(_DATA_FIELD):
        return redacted
    body = line[len(_DATA_FIELD) :]
    end = body[len(body.rstrip("\r\n")) :]
    payload = body[: len(body) - len(end)]
    if not _is_json(payload):
        return redacted
    return f"{_DATA_FIELD}{_redact_json_text(payload, secrets)}{end}"


# A JSON string followed by a colon: an object key. Matched left to right over valid JSON,
# where every double quote outside a string opens one, so no string is matched from inside.
_JSON_KEY = re.compile(r'"(?:[^"\\]|\\.)*"\s*:')


def _redact_json_text(text: str, secrets: Secrets) -> str:
    """Valid JSON text with its secrets replaced everywhere but in object keys, written as it
    was; when a replacement would break the JSON (a secret that runs into a number or across
    a quote), redacted value by value and written again by ``json.dumps`` instead."""
    pieces: list[str] = []
    done = 0
    for key in _JSON_KEY.finditer(text):
        pieces += [secrets.redact(text[done : key.start()]), key.group()]
        done = key.end()
    pieces.append(secrets.redact(text[done:]))
    redacted = "".join(pieces)
    if _is_json(redacted):
        return redacted
    return json.dumps(_redact_value(json.loads(text), secrets), ensure_ascii=False)


def _redact_value(value: Any, secrets: Secrets) -> Any:
    if isinstance(value, str):
        return secrets.redact(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        text = json.dumps(value)
        return value if secrets.redact(text) == text else REDACTED
    if isinstance(value, list):
        return [_redact_value(item, secrets) for item in value]
    if isinstance(value, dict):
        return {key: _redact_value(item, secrets) for key, item in value.items()}
    return value
