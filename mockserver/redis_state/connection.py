"""The Redis client every part of the Redis state uses, and its errors as the mock's.

Requests must never hang on a Redis that went away: sockets time out quickly, the client
retries a command whose connection failed a couple of times with a short backoff (a
restarted Redis, a connection the server closed: both fail at once), but not one that timed
out (a Redis that stopped answering would cost each request several timeouts), and what
still fails becomes :class:`StateUnavailable`, a 503 naming the store. The client's pool
reconnects by itself once Redis is back, and starts a fresh pool in a forked worker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from harness.errors import UsageError
from mockserver.storage import StateUnavailable, StoreFull

PASSWORD_ENV = "HARNESS_REDIS_PASSWORD"
SCHEMES = ("redis", "rediss")
# Short: a request waits at most about this long on a Redis that stopped answering.
SOCKET_TIMEOUT_S = 0.5
CONNECT_TIMEOUT_S = 0.5
RETRIES = 2
# Connections a worker keeps; a worker runs up to 64 request threads (serve --threads).
MAX_CONNECTIONS = 128


def is_redis_url(value: str) -> bool:
    return urlsplit(value).scheme in SCHEMES


def describe(url: str) -> str:
    """``Redis at host:port/db``: the URL without its password, for messages."""
    parts = urlsplit(url)
    database = parts.path.lstrip("/") or "0"
    return f"Redis at {parts.hostname}:{parts.port or 6379}/{database}"


def connect(url: str) -> redis.Redis:
    """A client for ``url``; the password from the URL, else from ``HARNESS_REDIS_PASSWORD``.

    Raises :class:`UsageError` when Redis cannot be reached now: a mock started against a
    wrong address should say so at once rather than answer 503s.
    """
    if not is_redis_url(url):
        raise UsageError(f"{url!r} is not a Redis URL (redis://HOST:PORT/DB or rediss://...)")
    options: dict[str, object] = {}
    if urlsplit(url).password is None and os.environ.get(PASSWORD_ENV):
        options["password"] = os.environ[PASSWORD_ENV]
    try:
        client = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=SOCKET_TIMEOUT_S,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            retry=Retry(
                ExponentialBackoff(cap=0.05, base=0.005),
                RETRIES,
                supported_errors=(RedisConnectionError,),
            ),
            retry_on_error=[RedisConnectionError],
            health_check_interval=30,
            max_connections=MAX_CONNECTIONS,
            **options,
        )
        client.ping()
    except (RedisError, ValueError) as exc:
        raise UsageError(f"cannot use {describe(url)} as the state store: {exc}") from exc
    return client


@contextmanager
def reaching(store: str) -> Iterator[None]:
    """Turn Redis being unreachable into the 503 :class:`StateUnavailable`, and out of
    memory (``maxmemory`` with ``noeviction``) into the 507 :class:`StoreFull`."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise StateUnavailable(store, str(exc) or type(exc).__name__) from exc
    except OutOfMemoryError as exc:
        raise StoreFull(store) from exc
