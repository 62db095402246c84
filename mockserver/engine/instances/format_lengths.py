"""Format strings of a required length: an email of at least 50 characters, a short URL.

The plain format makers (:mod:`formats`) give one natural-looking value; when ``minLength`` /
``maxLength`` rule it out, these build a value of the format at a length inside the bounds,
padding (or shortening) a part the format lets grow: the local part and subdomains of an email,
the path of a URL, the labels of a hostname, the fraction of seconds of a time. Formats whose
strings have a fixed shape (``uuid``, ``date``, ``ipv4``, ...) have no entry: a length they
cannot have is reported by the caller. Hand-written because no data-faking library builds a
value of a format at a given length.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Final

from mockserver.engine.instances.formats import fake_date
from mockserver.engine.instances.vocabulary import DOMAINS, FIRST_NAMES, LAST_NAMES, WORDS

# RFC 5321: a local part of at most 64 octets, a whole address of at most 254; RFC 1035: a
# label of at most 63, a domain name of at most 253.
_MAX_LOCAL: Final = 64
_MAX_EMAIL: Final = 254
_MAX_LABEL: Final = 63
_MAX_DOMAIN: Final = 253
_SHORTEST_DOMAIN: Final = 4  # "a.io"


def letters(rng: random.Random, count: int) -> str:
    """`count` lower-case letters, made of words run together."""
    text = ""
    while len(text) < count:
        text += rng.choice(WORDS)
    return text[:count]


def stretched(rng: random.Random, base: str, count: int, separator: str) -> str:
    """`base` cut or extended (with `separator` and words) to exactly `count` characters,
    never ending in the separator."""
    text = base
    while len(text) < count:
        text += separator + rng.choice(WORDS)
    text = text[:count]
    if text.endswith(separator):
        text = text[:-1] + "x"
    return text


def labels(rng: random.Random, count: int) -> str:
    """Dot-separated labels of letters, exactly `count` (>= 1) characters, each label at
    most 63."""
    parts: list[str] = []
    while count > _MAX_LABEL:
        size = min(_MAX_LABEL, count - 2)  # leaves room for "." and one more letter
        parts.append(letters(rng, size))
        count -= size + 1
    parts.append(letters(rng, count))
    return ".".join(parts)


def domain_of_length(rng: random.Random, count: int) -> str | None:
    if not _SHORTEST_DOMAIN <= count <= _MAX_DOMAIN:
        return None
    base = rng.choice(DOMAINS)
    if count == len(base):
        return base
    if count >= len(base) + 2:
        return labels(rng, count - len(base) - 1) + "." + base
    return labels(rng, count - 3) + ".io"


def _email(rng: random.Random, length: int) -> str | None:
    if not 2 + _SHORTEST_DOMAIN <= length <= _MAX_EMAIL:
        return None
    base = rng.choice(DOMAINS)
    local_length = max(1, min(_MAX_LOCAL, length - 1 - len(base)))
    if length - 1 - local_length < _SHORTEST_DOMAIN:
        local_length = length - 1 - _SHORTEST_DOMAIN
    first, last = rng.choice(FIRST_NAMES).lower(), rng.choice(LAST_NAMES).lower()
    domain = domain_of_length(rng, length - 1 - local_length)
    if domain is None:
        return None
    return stretched(rng, f"{first}.{last}", local_length, ".") + "@" + domain


def _url(rng: random.Random, length: int) -> str | None:
    scheme = "https://"
    base = rng.choice(DOMAINS)
    path_length = length - len(scheme) - len(base) - 1
    if path_length >= 1:
        return f"{scheme}{base}/" + stretched(rng, rng.choice(WORDS), path_length, "/")
    domain = domain_of_length(rng, length - len(scheme))
    return None if domain is None else scheme + domain


def _time(rng: random.Random, length: int) -> str | None:
    """HH:MM:SS, up to 6 digits of a fraction of seconds (what Python's time parsing and so
    jsonschema's format check accept), and Z or a +HH:MM offset."""
    clock = f"{rng.randint(0, 23):02d}:{rng.choice((0, 15, 30, 45)):02d}:00"
    for offset in ("Z", f"+{rng.randint(0, 11):02d}:00"):
        digits = length - len(clock) - len(offset)
        if digits == 0:
            return clock + offset
        if 2 <= digits <= 7:  # "." and 1 to 6 digits
            fraction = "".join(str(rng.randint(0, 9)) for _ in range(digits - 1))
            return f"{clock}.{fraction}{offset}"
    return None


def _datetime(rng: random.Random, length: int) -> str | None:
    date = fake_date(rng) + "T"
    time = _time(rng, length - len(date))
    return None if time is None else date + time


def _json_pointer(rng: random.Random, length: int) -> str | None:
    return "" if length == 0 else "/" + stretched(rng, rng.choice(WORDS), length - 1, "/")


def _password(rng: random.Random, length: int) -> str | None:
    return stretched(rng, f"s3cret-{rng.getrandbits(16):04x}", length, "-") if length else None


_BUILDERS: Final[
    Mapping[str, tuple[int, int | None, Callable[[random.Random, int], str | None]]]
] = {
    # format: (shortest, longest, builder)
    "email": (6, _MAX_EMAIL, _email),
    "idn-email": (6, _MAX_EMAIL, _email),
    "uri": (12, None, _url),
    "url": (12, None, _url),
    "iri": (12, None, _url),
    "uri-reference": (12, None, _url),
    "iri-reference": (12, None, _url),
    "hostname": (_SHORTEST_DOMAIN, _MAX_DOMAIN, domain_of_length),
    "idn-hostname": (_SHORTEST_DOMAIN, _MAX_DOMAIN, domain_of_length),
    "time": (9, 21, _time),
    "date-time": (20, 32, _datetime),
    "json-pointer": (0, None, _json_pointer),
    "password": (1, None, _password),
}


def format_of_length(rng: random.Random, fmt: str, low: int, high: int | None) -> str | None:
    """A string of format `fmt` with ``low <= len <= high``: as short as `low` allows, or as
    long as `high` allows when only `high` binds; None when the format has no such string the
    mock can build."""
    entry = _BUILDERS.get(fmt)
    if entry is None:
        return None
    shortest, longest, build = entry
    bounds = [bound for bound in (high, longest) if bound is not None]
    top = min(bounds) if bounds else None
    preferred = max(low, shortest)
    if high is not None and low <= shortest:
        preferred = top if top is not None else preferred
    # A few lengths near the preferred one: some formats skip lengths (no time is 10 long).
    for length in (preferred, preferred + 1, preferred + 2, preferred - 1, preferred - 2):
        if length < max(low, shortest) or (top is not None and length > top):
            continue
        text = build(rng, length)
        if text is not None and len(text) == length:
            return text
    return None
