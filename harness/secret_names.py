"""Which header, query parameter and JSON key names carry credentials, and what stands for
a secret.

The rules the cassette recorder scrubs by (:mod:`harness.cassettes.scrub`, which also reads
JSON request bodies' keys by them) and the mock's journal masks headers by
(``mockserver.journal_capture``): one list, so the headers a cassette drops and those the
journal hides stay the same (the journal also masks the credentials a request's tools
carry, by the same names; the rest of a body it keeps as sent). A module of its own,
without the cassette machinery (vcrpy and its HTTP client stubs), which the mock's worker
processes do not load.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
        "cookie",
        "set-cookie",
        # Not credentials, but they name the account the key belongs to.
        "openai-organization",
        "openai-project",
    }
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
        "authentication",  # a common misspelling of Authorization that still holds the key
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
# What a secret-named value other than the key in use carries (another header, a cookie, a
# query parameter, a JSON key's string) counts only when it looks like a credential: this
# long, with letters and digits.
MIN_CREDENTIAL_LENGTH = 12
# Words before the credential in an Authorization-like value ("Bearer <token>").
CREDENTIAL_SCHEMES = ("bearer", "basic", "token")
_WORD_BREAK = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
# JSON keys whose value is the URL of a server the API calls for the client (a Responses
# ``mcp`` tool's): read by :func:`url_credentials`, whatever the key's name says.
SERVER_URL_KEYS = frozenset({"server_url"})
# Where a URL's host ends, and what separates the pieces after it (a backslash counts, as
# the mock's echo of such a URL cuts at one: see mockserver.engine.responses).
_HOST_END = re.compile(r"[/?#\\]")
_URL_PIECE_BREAK = re.compile(r"[/?#&=;\\]")


def is_secret_name(name: str) -> bool:
    """Whether a header or query parameter name says it carries a credential.

    >>> [is_secret_name(n) for n in ("X-Api-Key", "apiKey", "x-ratelimit-remaining-tokens")]
    [True, True, False]
    >>> [is_secret_name(n) for n in ("Authentication", "X-Authentication-Token", "X-Author")]
    [True, True, False]
    """
    if name.lower() in SECRET_HEADERS:
        return True
    words = [word.lower() for word in _WORD_BREAK.split(name) if word]
    if any(word in SECRET_WORDS for word in words):
        return True
    compact = "".join(words)
    return any(fragment in compact for fragment in _SECRET_FRAGMENTS)


def looks_like_credential(value: str) -> bool:
    """Whether a value is shaped like a key or token: 12 characters or more, letters and
    digits among them. Ordinary words and short flags (``accepted``, ``default``, ``1``) are not.

    >>> [looks_like_credential(v) for v in ("sess9Kq27Lm35Wp", "assistant", "consent=accepted")]
    [True, False, False]
    """
    value = value.strip()
    return (
        len(value) >= MIN_CREDENTIAL_LENGTH
        and any(char.isalpha() for char in value)
        and any(char.isdigit() for char in value)
    )


def split_scheme(value: str) -> tuple[str, str]:
    """``(scheme, credential)`` of an Authorization-like value: ``("Bearer", "<token>")``;
    ``("", value)`` when it starts with none of :data:`CREDENTIAL_SCHEMES`.

    >>> split_scheme(" Bearer sk-abc "), split_scheme("sk-abc")
    (('Bearer', 'sk-abc'), ('', 'sk-abc'))
    """
    scheme, _, rest = value.strip().partition(" ")
    return (scheme, rest) if scheme.lower() in CREDENTIAL_SCHEMES else ("", value)


def url_credentials(url: str) -> set[str]:
    """The credential-shaped parts (:func:`looks_like_credential`) of the URL of a server
    called for the client (an ``mcp`` tool's ``server_url``): its user info and password,
    and any path segment, query value or fragment, each also as it reads percent-decoded.

    MCP servers take their key in any of these (Zapier's ``/s/<key>/mcp``, ``?api_key=``),
    which is why the live API echoes such a URL as its host alone. The host is not read
    (``mcp2.example.com`` has letters and digits), and a path's short words are no
    credential's shape. The user
    info runs to the last ``@``, so a password holding a ``/`` is learned whole. Split by
    hand: ``urlsplit`` raises on text the schema allows (``http://[x``).

    >>> sorted(url_credentials("https://u:pw-Lm34Nb56Vc78@mcp2.example.com/s/zap9Kq27Lm35/mcp"))
    ['pw-Lm34Nb56Vc78', 'u:pw-Lm34Nb56Vc78', 'zap9Kq27Lm35']
    """
    after_scheme = url.partition("://")[2] or url
    user_info, at, after_user_info = after_scheme.rpartition("@")
    host_end = _HOST_END.search(after_user_info)
    pieces = set(_URL_PIECE_BREAK.split(after_user_info[host_end.start() :])) if host_end else set()
    if at:
        pieces.update((user_info, user_info.partition(":")[2]))
    pieces |= {unquote_plus(piece) for piece in pieces}
    return {piece for piece in pieces if looks_like_credential(piece)}
