"""Plausible strings for the JSON Schema / OpenAPI `format` names."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping
from typing import Final

from mockserver.engine.instances.vocabulary import DOMAINS, FIRST_NAMES, LAST_NAMES, WORDS


def fake_email(rng: random.Random) -> str:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return f"{first.lower()}.{last.lower()}@{rng.choice(DOMAINS)}"


def fake_url(rng: random.Random) -> str:
    return f"https://{rng.choice(DOMAINS)}/{rng.choice(WORDS)}"


def fake_date(rng: random.Random) -> str:
    return f"{rng.randint(2023, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def fake_time(rng: random.Random) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.choice((0, 15, 30, 45)):02d}:00Z"


def fake_datetime(rng: random.Random) -> str:
    return f"{fake_date(rng)}T{fake_time(rng)}"


def fake_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def fake_short_id(rng: random.Random, prefix: str) -> str:
    return f"{prefix}_{rng.getrandbits(24):06x}"


FORMATS: Final[Mapping[str, Callable[[random.Random], str]]] = {
    "date-time": fake_datetime,
    "date": fake_date,
    "time": fake_time,
    "email": fake_email,
    "idn-email": fake_email,
    "uri": fake_url,
    "url": fake_url,
    "iri": fake_url,
    "uri-reference": fake_url,
    "iri-reference": fake_url,
    "uri-template": lambda rng: f"https://{rng.choice(DOMAINS)}/items/{{id}}",
    "uuid": fake_uuid,
    "ipv4": lambda rng: f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
    "ipv6": lambda rng: f"2001:db8::{rng.getrandbits(16):x}",
    "hostname": lambda rng: f"{rng.choice(WORDS)}.{rng.choice(DOMAINS)}",
    "idn-hostname": lambda rng: f"{rng.choice(WORDS)}.{rng.choice(DOMAINS)}",
    "duration": lambda rng: rng.choice(("P1D", "PT30M", "PT2H", "P1W", "P3M")),
    "json-pointer": lambda rng: f"/{rng.choice(WORDS)}/0",
    "relative-json-pointer": lambda rng: f"1/{rng.choice(WORDS)}",
    "regex": lambda rng: "^[a-z]+$",
    "byte": lambda rng: rng.choice(("aGVsbG8=", "bW9jaw==", "ZGF0YQ==")),
    "password": lambda rng: f"s3cret-{rng.getrandbits(16):04x}",
}
