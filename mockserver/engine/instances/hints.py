"""Values that suit a property's name: `city` gets a city, `price` a price."""

from __future__ import annotations

import functools
import random
import re

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


def number_preference(hint: str | None) -> tuple[float, float, int]:
    """Plausible (low, high, decimals) for a number named `hint`."""
    tokens = set(name_tokens(hint)) if hint else set()
    table: tuple[tuple[tuple[str, ...], tuple[float, float, int]], ...] = (
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
    for names, preference in table:
        if tokens.intersection(names):
            return preference
    return (0, 100, 1)


def hinted_string(rng: random.Random, hint: str) -> str | None:
    """A value that suits a property called `hint`, or None if the name says nothing."""
    tokens = name_tokens(hint)
    if not tokens:
        return None
    words = set(tokens)
    last = tokens[-1]

    def has(*names: str) -> bool:
        return not words.isdisjoint(names)

    if has("email", "mail"):
        return fake_email(rng)
    if has("url", "uri", "link", "website", "homepage", "href", "endpoint"):
        return fake_url(rng)
    if last in ID_TOKENS or (last == "key" and len(tokens) > 1):
        if last in ("uuid", "guid"):
            return fake_uuid(rng)
        prefix = tokens[0] if tokens[0] not in ID_TOKENS else "id"
        return fake_short_id(rng, prefix[:4])
    if last in ("unit", "units"):
        return "celsius"
    if has("file", "filename", "path"):
        return rng.choice(FILES)
    if has("city", "town"):
        return rng.choice(CITIES)
    if has("location", "place", "destination", "origin", "where", "region", "area"):
        return rng.choice(LOCATIONS)
    if has("street"):
        return rng.choice(STREETS)
    if has("address"):
        return f"{rng.choice(STREETS)}, {rng.choice(CITIES)}"
    if has("country"):
        return rng.choice(COUNTRIES)
    if has("username", "handle", "login") or tokens == ("user",):
        return f"{rng.choice(FIRST_NAMES).lower()}{rng.randint(1, 99)}"
    if (last == "name" and tokens[0] == "first") or has("firstname"):
        return rng.choice(FIRST_NAMES)
    if last in ("surname", "lastname") or (last == "name" and tokens[0] in ("last", "family")):
        return rng.choice(LAST_NAMES)
    if (last == "name" and (len(tokens) == 1 or tokens[0] in PERSON_PREFIXES)) or has(
        "author", "assignee", "person", "recipient", "sender", "customer", "owner", "contact"
    ):
        return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    if has("company", "organization", "organisation", "org", "employer", "vendor"):
        return rng.choice(COMPANIES)
    if last == "name":
        return f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}"
    if has("phone", "mobile", "tel", "telephone"):
        return f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
    if has("timezone", "tz"):
        return rng.choice(TIMEZONES)
    if has("timestamp", "datetime", "time") or last == "at":
        return fake_datetime(rng)
    if has("date", "day", "birthday", "dob", "deadline", "due"):
        return fake_date(rng)
    if has("lang", "language", "locale"):
        return rng.choice(LANGUAGES)
    if has("currency"):
        return rng.choice(CURRENCIES)
    if has("color", "colour"):
        return rng.choice(COLORS)
    if has("status"):
        return rng.choice(STATUSES)
    if has("query", "q", "search", "keyword", "keywords", "term", "prompt", "question", "topic"):
        return rng.choice(QUERIES)
    if has("title", "subject", "headline"):
        return rng.choice(TITLES)
    if has(
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
    ):
        return rng.choice(SENTENCES)
    if has("category", "tag", "label", "type", "kind", "genre", "group"):
        return rng.choice(CATEGORIES)
    if has("zip", "postal", "postcode", "zipcode"):
        return f"{rng.randint(10000, 99999)}"
    if has("symbol", "ticker"):
        return rng.choice(("AAPL", "MSFT", "GOOG", "AMZN"))
    if has("sort", "order", "direction"):
        return rng.choice(("asc", "desc"))
    if has("format"):
        return rng.choice(("json", "csv", "markdown"))
    if has("version"):
        return f"{rng.randint(1, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}"
    if has("password", "secret", "token"):
        return f"tok_{rng.getrandbits(32):08x}"
    return None
