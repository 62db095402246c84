"""Values that suit a property's name: `city` gets a city, `price` a price."""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeAlias

from mockserver.engine.instances.formats import (
    fake_date,
    fake_datetime,
    fake_email,
    fake_short_id,
    fake_url,
    fake_uuid,
)
from mockserver.engine.instances.vocabulary import (
    CATEGORIES,
    CITIES,
    COLORS,
    COMPANIES,
    COUNTRIES,
    CURRENCIES,
    FILES,
    FIRST_NAMES,
    ID_TOKENS,
    LANGUAGES,
    LAST_NAMES,
    LOCATIONS,
    PERSON_PREFIXES,
    QUERIES,
    SENTENCES,
    STATUSES,
    STREETS,
    TIMEZONES,
    TITLES,
    WORDS,
)


@functools.lru_cache(maxsize=2048)
def name_tokens(hint: str) -> tuple[str, ...]:
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", hint).lower()
    return tuple(t for t in re.split(r"[^a-z0-9]+", snake) if t)


def singular(hint: str | None) -> str | None:
    if hint is None:
        return None
    if hint.endswith("ies"):
        return hint[:-3] + "y"
    if hint.endswith(("sses", "xes", "ches")):
        return hint[:-2]
    if hint.endswith("s") and not hint.endswith("ss"):
        return hint[:-1]
    return hint


# Plausible (low, high, decimals) of a number by a word of its name; the first match wins.
_NUMBER_RANGES: Final[tuple[tuple[tuple[str, ...], tuple[float, float, int]], ...]] = (
    (("lat", "latitude"), (-90, 90, 4)),
    (("lon", "lng", "long", "longitude"), (-180, 180, 4)),
    (("age",), (18, 90, 0)),
    (("year",), (1990, 2030, 0)),
    (("month",), (1, 12, 0)),
    (("day",), (1, 28, 0)),
    (("hour", "hours"), (0, 23, 0)),
    (("minute", "minutes", "second", "seconds"), (0, 59, 0)),
    (("page",), (1, 5, 0)),
    (("rating", "stars"), (1, 5, 1)),
    (("temperature", "temp"), (-10, 35, 1)),
    (("price", "amount", "cost", "total", "balance", "salary"), (1, 500, 2)),
    (("percent", "percentage", "pct"), (0, 100, 1)),
    (("port",), (1024, 65535, 0)),
    (("id",), (1, 9999, 0)),
    (
        (
            "limit",
            "count",
            "num",
            "max",
            "top",
            "k",
            "n",
            "size",
            "quantity",
            "qty",
            "results",
            "guests",
            "people",
            "nights",
            "days",
        ),
        (1, 10, 0),
    ),
)


def number_preference(hint: str | None) -> tuple[float, float, int]:
    """Plausible (low, high, decimals) for a number named `hint`."""
    tokens = set(name_tokens(hint)) if hint else set()
    for names, preference in _NUMBER_RANGES:
        if tokens.intersection(names):
            return preference
    return (0, 100, 1)


@dataclass(frozen=True)
class _Name:
    """A property name split into lower-case words: `billingAddress` -> ("billing", "address")."""

    tokens: tuple[str, ...]
    words: frozenset[str]

    @property
    def first(self) -> str:
        return self.tokens[0]

    @property
    def last(self) -> str:
        return self.tokens[-1]

    def has(self, *names: str) -> bool:
        return not self.words.isdisjoint(names)


_Test: TypeAlias = Callable[[_Name], bool]
_Make: TypeAlias = Callable[[random.Random, _Name], str]


def _named(*names: str) -> _Test:
    """The property name contains one of `names` as a word."""
    return lambda name: name.has(*names)


def _one_of(values: tuple[str, ...]) -> _Make:
    return lambda rng, _name: rng.choice(values)


def _identifier(rng: random.Random, name: _Name) -> str:
    if name.last in ("uuid", "guid"):
        return fake_uuid(rng)
    prefix = name.first if name.first not in ID_TOKENS else "id"
    return fake_short_id(rng, prefix[:4])


def _is_identifier(name: _Name) -> bool:
    return name.last in ID_TOKENS or (name.last == "key" and len(name.tokens) > 1)


def _is_first_name(name: _Name) -> bool:
    return (name.last == "name" and name.first == "first") or name.has("firstname")


def _is_last_name(name: _Name) -> bool:
    return name.last in ("surname", "lastname") or (
        name.last == "name" and name.first in ("last", "family")
    )


def _is_person(name: _Name) -> bool:
    return (
        name.last == "name" and (len(name.tokens) == 1 or name.first in PERSON_PREFIXES)
    ) or name.has(
        "author", "assignee", "person", "recipient", "sender", "customer", "owner", "contact"
    )


# The first rule whose test the property name passes makes its value; the order matters
# (`first_name` is a first name before it is a name, `user_id` an id before a user).
_RULES: Final[tuple[tuple[_Test, _Make], ...]] = (
    (_named("email", "mail"), lambda rng, _: fake_email(rng)),
    (
        _named("url", "uri", "link", "website", "homepage", "href", "endpoint"),
        lambda rng, _: fake_url(rng),
    ),
    (_is_identifier, _identifier),
    (lambda name: name.last in ("unit", "units"), lambda _rng, _: "celsius"),
    (_named("file", "filename", "path"), _one_of(FILES)),
    (_named("city", "town"), _one_of(CITIES)),
    (
        _named("location", "place", "destination", "origin", "where", "region", "area"),
        _one_of(LOCATIONS),
    ),
    (_named("street"), _one_of(STREETS)),
    (_named("address"), lambda rng, _: f"{rng.choice(STREETS)}, {rng.choice(CITIES)}"),
    (_named("country"), _one_of(COUNTRIES)),
    (
        lambda name: name.has("username", "handle", "login") or name.tokens == ("user",),
        lambda rng, _: f"{rng.choice(FIRST_NAMES).lower()}{rng.randint(1, 99)}",
    ),
    (_is_first_name, _one_of(FIRST_NAMES)),
    (_is_last_name, _one_of(LAST_NAMES)),
    (_is_person, lambda rng, _: f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"),
    (
        _named("company", "organization", "organisation", "org", "employer", "vendor"),
        _one_of(COMPANIES),
    ),
    (
        lambda name: name.last == "name",
        lambda rng, _: f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}",
    ),
    (
        _named("phone", "mobile", "tel", "telephone"),
        lambda rng, _: f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
    ),
    (_named("timezone", "tz"), _one_of(TIMEZONES)),
    (
        lambda name: name.has("timestamp", "datetime", "time") or name.last == "at",
        lambda rng, _: fake_datetime(rng),
    ),
    (
        _named("date", "day", "birthday", "dob", "deadline", "due"),
        lambda rng, _: fake_date(rng),
    ),
    (_named("lang", "language", "locale"), _one_of(LANGUAGES)),
    (_named("currency"), _one_of(CURRENCIES)),
    (_named("color", "colour"), _one_of(COLORS)),
    (_named("status"), _one_of(STATUSES)),
    (
        _named(
            "query", "q", "search", "keyword", "keywords", "term", "prompt", "question", "topic"
        ),
        _one_of(QUERIES),
    ),
    (_named("title", "subject", "headline"), _one_of(TITLES)),
    (
        _named(
            "description",
            "text",
            "content",
            "message",
            "body",
            "comment",
            "note",
            "notes",
            "reason",
            "details",
            "summary",
            "instructions",
            "answer",
            "response",
        ),
        _one_of(SENTENCES),
    ),
    (_named("category", "tag", "label", "type", "kind", "genre", "group"), _one_of(CATEGORIES)),
    (_named("zip", "postal", "postcode", "zipcode"), lambda rng, _: f"{rng.randint(10000, 99999)}"),
    (_named("symbol", "ticker"), _one_of(("AAPL", "MSFT", "GOOG", "AMZN"))),
    (_named("sort", "order", "direction"), _one_of(("asc", "desc"))),
    (_named("format"), _one_of(("json", "csv", "markdown"))),
    (
        _named("version"),
        lambda rng, _: f"{rng.randint(1, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}",
    ),
    (_named("password", "secret", "token"), lambda rng, _: f"tok_{rng.getrandbits(32):08x}"),
)


def hinted_string(rng: random.Random, hint: str) -> str | None:
    """A value that suits a property called `hint`, or None if the name says nothing."""
    tokens = name_tokens(hint)
    if not tokens:
        return None
    name = _Name(tokens, frozenset(tokens))
    for test, make in _RULES:
        if test(name):
            return make(rng, name)
    return None
