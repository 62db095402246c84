"""What the mock says when it cannot use a Redis at start, and of a Redis that evicts keys.

Each message names the address without its password and what to do; a malformed address
is a :class:`UsageError` (one line from ``harness serve``), never a ``ValueError``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.errors import UsageError
from mockserver.redis_state import RedisState
from mockserver.redis_state.connection import PASSWORD_ENV, connect, describe
from mockserver.storage import StateUnavailable
from tests.fixtures.redis_server import RedisServer, redis_server

__all__ = ["redis_server"]  # a fixture this module uses

PASSWORD = "TopSecret"


def own_redis(template: RedisServer, folder: Path, *options: str, **kw: str) -> RedisServer:
    server = RedisServer(template.binary, folder, options, **kw)
    server.start()
    return server


@pytest.fixture
def locked_redis(redis_server: RedisServer, tmp_path: Path) -> Iterator[RedisServer]:
    server = own_redis(redis_server, tmp_path, password=PASSWORD)
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("redis://127.0.0.1:99999/0", "Port out of range"),
        ("redis://127.0.0.1:port/0", "Port could not be cast"),
        ("redis://[::1/0", "Invalid IPv6 URL"),
        (f"redis://:{PASSWORD}@127.0.0.1:99999/0", "Port out of range"),
        (f"redis://:Top/{PASSWORD}@127.0.0.1:port/0", "could not be cast"),
        (f"redis://:/{PASSWORD}@127.0.0.1/0", "the database after the address is a number"),
    ],
)
def test_a_malformed_address_is_a_usage_error_without_the_password(
    url: str, said: str, tmp_path: Path
) -> None:
    with pytest.raises(UsageError) as refused:
        RedisState(url, tmp_path / "local" / "state")
    message = str(refused.value)
    assert said in message
    assert "redis://HOST:PORT/DB" in message
    assert PASSWORD not in message and "\n" not in message


def test_an_address_without_host_is_described_as_redis_py_reads_it() -> None:
    assert describe("redis:///0") == "Redis at localhost:6379/0"
    assert describe("redis://[::1]:7000/2") == "Redis at [::1]:7000/2"


def test_no_password_for_a_redis_that_requires_one_says_where_to_give_it(
    locked_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    with pytest.raises(UsageError) as refused:
        connect(locked_redis.url)
    message = str(refused.value)
    assert "requires a password" in message and PASSWORD_ENV in message
    assert "HELLO" not in message


def test_a_wrong_password_says_which_one_was_refused(
    locked_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "wrong-one")
    with pytest.raises(UsageError) as refused:
        connect(locked_redis.url)
    assert f"refused the password from {PASSWORD_ENV}" in str(refused.value)
    assert "wrong-one" not in str(refused.value)


def test_an_empty_password_in_the_url_falls_back_to_the_variable(
    locked_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    client = connect(f"redis://:@127.0.0.1:{locked_redis.port}/0")
    assert client.ping()
    client.close()


def test_tls_against_a_plain_redis_hints_at_tls(redis_server: RedisServer) -> None:
    with pytest.raises(UsageError) as refused:
        connect(f"rediss://127.0.0.1:{redis_server.port}/0")
    message = str(refused.value)
    assert "does this Redis serve TLS" in message
    assert f"Redis at 127.0.0.1:{redis_server.port}/0" in message


def test_the_503_reason_has_no_doubled_period(
    redis_server: RedisServer, tmp_path: Path, redis_prefix: str = "msg:"
) -> None:
    server = own_redis(redis_server, tmp_path)
    state = RedisState(server.url, tmp_path / "local" / "state", redis_prefix)
    server.stop()
    with pytest.raises(StateUnavailable) as refused:
        state.stubs.listing()
    message = refused.value.reply.message
    assert "Connection refused" in message
    assert ".." not in message


@pytest.mark.parametrize(
    ("options", "warned"),
    [
        (("--maxmemory", "3mb", "--maxmemory-policy", "allkeys-lru"), "allkeys-lru"),
        (("--maxmemory", "3mb", "--maxmemory-policy", "volatile-ttl"), "volatile-ttl"),
        (("--maxmemory", "3mb", "--maxmemory-policy", "noeviction"), None),
        (("--maxmemory", "0", "--maxmemory-policy", "allkeys-lru"), None),  # no limit
        (("--maxmemory", "3mb", "--maxmemory-policy", "allkeys-lru", "--rename-command",
          "CONFIG", ""), None),  # CONFIG disabled: nothing known, nothing said
    ],
)  # fmt: skip
def test_a_redis_that_evicts_keys_is_warned_about_at_start(
    options: tuple[str, ...],
    warned: str | None,
    redis_server: RedisServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = own_redis(redis_server, tmp_path, *options)
    try:
        with caplog.at_level(logging.WARNING, logger="mockserver"):
            connect(server.url).close()
    finally:
        server.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    if warned is None:
        assert warnings == []
    else:
        (warning,) = warnings
        assert f"maxmemory-policy {warned}" in warning
        assert f"Redis at 127.0.0.1:{server.port}/0" in warning
        assert "noeviction" in warning
