"""Secret filters applied before anything is written to a cassette.

Three rules, applied by ``harness record`` and by the vcrpy hooks of :func:`vcr_config`:

1. Headers that carry credentials are dropped: the fixed list :data:`SECRET_HEADERS`, and any
   header whose name contains a word such as ``key``, ``token``, ``secret``, ``auth`` or
   ``password`` (:func:`is_secret_name`). Names are split into words, so ``x-api-key`` and
   ``apiKey`` are secret while the rate-limit headers ``x-ratelimit-remaining-tokens`` are kept.
2. Query parameters with such names are dropped from the URI.
3. Every occurrence of a key in use (the request's bearer key, the key the recorder sends
   upstream) is replaced by :data:`REDACTED` anywhere in the interaction: an upstream error
   may echo it in a body, a client may put it in a URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "api-key", "x-api-key", "cookie", "set-cookie"}
)
# Words that make a header or query parameter name secret (compared whole, lowercased).
SECRET_WORDS = frozenset(
    {
        "key",
        "apikey",
        "token",
        "secret",
        "password",
        "passwd",
        "auth",
        "authorization",
        "cookie",
        "credential",
        "credentials",
        "session",
        "signature",
    }
)
# Fragments that make a name secret even when written as one word (``accesstoken``).
_SECRET_FRAGMENTS = ("apikey", "accesstoken", "authtoken", "secret", "password", "passwd")
REDACTED = "***"
# Values shorter than this are not searched for: replacing a 3-letter "key" everywhere would
# mangle ordinary text, and nothing that short is a real API key.
MIN_SECRET_LENGTH = 6
_WORD_BREAK = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")


def is_secret_name(name: str) -> bool:
    """Whether a header or query parameter name says it carries a credential.

    >>> [is_secret_name(n) for n in ("X-Api-Key", "apiKey", "x-ratelimit-remaining-tokens")]
    [True, True, False]
    """
    if name.lower() in SECRET_HEADERS:
        return True
    words = [word.lower() for word in _WORD_BREAK.split(name) if word]
    if any(word in SECRET_WORDS for word in words):
        return True
    compact = "".join(words)
    return any(fragment in compact for fragment in _SECRET_FRAGMENTS)


def carried_secrets(headers: Mapping[str, Sequence[str]]) -> set[str]:
    """The credentials a request carries in its headers (the bearer key, ``api-key`` values)."""
    found: set[str] = set()
    for name, values in headers.items():
        if not is_secret_name(name):
            continue
        for value in values:
            scheme, _, rest = value.strip().partition(" ")
            token = rest.strip() if scheme.lower() in ("bearer", "basic", "token") else ""
            found.update(item for item in (value.strip(), token) if item)
    return {value for value in found if len(value) >= MIN_SECRET_LENGTH}


def scrub_headers(headers: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """The headers without any whose name says it carries a credential."""
    return {name: list(values) for name, values in headers.items() if not is_secret_name(name)}


def scrub_uri(uri: str) -> str:
    """The URI without query parameters whose name says they carry a credential."""
    parts = urlsplit(uri)
    if not parts.query:
        return uri
    kept = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not is_secret_name(name)
    ]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret (longest first) replaced."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, REDACTED)
    return text


def redact_bytes(body: bytes, secrets: Iterable[str]) -> bytes:
    """:func:`redact` for a UTF-8 body; a body that is not UTF-8 is searched as bytes."""
    try:
        return redact(body.decode("utf-8"), secrets).encode("utf-8")
    except UnicodeDecodeError:
        for secret in sorted(secrets, key=len, reverse=True):
            if len(secret) >= MIN_SECRET_LENGTH:
                body = body.replace(secret.encode("utf-8"), REDACTED.encode("utf-8"))
        return body


def redact_headers(
    headers: Mapping[str, Sequence[str]], secrets: Iterable[str]
) -> dict[str, list[str]]:
    listed = list(secrets)
    return {name: [redact(value, listed) for value in values] for name, values in headers.items()}
