"""The Redis client every part of the Redis state uses, and its errors as the mock's.

Requests must never hang on a Redis that went away: sockets time out quickly, the client
retries a command whose connection failed a couple of times with a short backoff (a
restarted Redis, a connection the server closed: both fail at once), but not one that timed
out (a Redis that stopped answering would cost each request several timeouts), and what
still fails becomes :class:`StateUnavailable`, a 503 naming the store. The client's pool
reconnects by itself once Redis is back, and starts a fresh pool in a forked worker.

A Redis that cannot be used at start (a malformed address, one that does not answer, wants a
password or speaks no TLS) is a :class:`UsageError`, one line naming the address without its
password. A Redis that may evict keys when full is warned about: it would drop stubs and
stored responses silently.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import AuthenticationError, OutOfMemoryError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from harness.errors import UsageError
from mockserver.storage import StateUnavailable, StoreFull

log = logging.getLogger(__name__)

PASSWORD_ENV = "HARNESS_REDIS_PASSWORD"
DEFAULT_HOST = "localhost"  # redis-py's, for an address without a host (redis:///0)
DEFAULT_PORT = 6379
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
    """``Redis at host:port/db``: the URL without its password, for messages.

    Raises :class:`UsageError` for an address that cannot be read (a port out of range or
    not a number, an unclosed IPv6 bracket).
    """
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORT
    except ValueError as exc:
        raise UsageError(
            f"cannot use {without_credentials(url)} as the state store: {exc} "
            "(expected redis://HOST:PORT/DB)"
        ) from exc
    database = parts.path.strip("/") or "0"
    if not database.isdigit():  # a password with a '/' ends up here: never show it
        raise UsageError(
            f"cannot use {without_credentials(url)} as the state store: the database after "
            "the address is a number (expected redis://HOST:PORT/DB)"
        )
    host = parts.hostname or DEFAULT_HOST
    if ":" in host:  # an IPv6 address, bracketed as in a URL
        host = f"[{host}]"
    return f"Redis at {host}:{port}/{database}"


def without_credentials(url: str) -> str:
    """``url`` with what stands before its last ``@`` masked: a URL that cannot be parsed
    cannot be trusted to split its user and password where urlsplit would."""
    scheme, separator, rest = url.partition("://")
    _, at, address = rest.rpartition("@")
    if not separator or not at:
        return url
    return f"{scheme}://***@{address}"


def connect(url: str) -> redis.Redis:
    """A client for ``url``; the password from the URL, else from ``HARNESS_REDIS_PASSWORD``.

    Raises :class:`UsageError` when Redis cannot be reached now: a mock started against a
    wrong address should say so at once rather than answer 503s.
    """
    if not is_redis_url(url):
        raise UsageError(f"{url!r} is not a Redis URL (redis://HOST:PORT/DB or rediss://...)")
    description = describe(url)
    options: dict[str, object] = {}
    password_from = "the URL" if urlsplit(url).password else None
    # An empty password (redis://:@host) is no password: the variable gives it.
    if password_from is None and os.environ.get(PASSWORD_ENV):
        options["password"] = os.environ[PASSWORD_ENV]
        password_from = PASSWORD_ENV
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
        reason = _why_not(exc, urlsplit(url).scheme == "rediss", password_from)
        raise UsageError(f"cannot use {description} as the state store: {reason}") from exc
    warn_if_evicting(client, description)
    return client


def _why_not(exc: Exception, tls: bool, password_from: str | None) -> str:
    """What the mock can say of ``exc`` at start, with what the user can do about it."""
    said = str(exc) or type(exc).__name__
    if isinstance(exc, AuthenticationError) or "NOAUTH" in said:
        # Without a password, redis-py's own words are about the HELLO command.
        if password_from is None:
            return (
                "it requires a password: give it in the URL (redis://:PASSWORD@HOST:PORT/DB) "
                f"or in {PASSWORD_ENV}"
            )
        return f"it refused the password from {password_from}: {said}"
    if tls and isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
        return (
            f"{said.rstrip('.')} (rediss:// speaks TLS: does this Redis serve TLS on that "
            "port? A plain Redis is redis://)"
        )
    return said


def warn_if_evicting(client: redis.Redis, description: str) -> None:
    """Log a warning when Redis may evict keys when full: stubs and stored responses would
    then vanish without an error, where ``noeviction`` makes a full Redis a 507."""
    try:
        settings = client.config_get("maxmemory*")
    except RedisError:
        return  # CONFIG disabled, renamed or not permitted (a managed Redis): nothing known
    policy = settings.get("maxmemory-policy")
    limit = settings.get("maxmemory")
    if not policy or policy == "noeviction" or not limit or limit == "0":
        return
    log.warning(
        "%s evicts keys when full (maxmemory-policy %s, maxmemory %s bytes): stubs, stored "
        "responses and journal entries may vanish without an error. Set maxmemory-policy "
        "noeviction: a full Redis is then a 507 state_full.",
        description,
        policy,
        limit,
    )


@contextmanager
def reaching(store: str) -> Iterator[None]:
    """Turn Redis being unreachable into the 503 :class:`StateUnavailable`, and out of
    memory (``maxmemory`` with ``noeviction``) into the 507 :class:`StoreFull`."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        # redis-py's messages may end with a period; StateUnavailable's sentence goes on.
        raise StateUnavailable(store, (str(exc) or type(exc).__name__).rstrip(".")) from exc
    except OutOfMemoryError as exc:
        raise StoreFull(store) from exc
