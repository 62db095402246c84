"""`harness serve --state redis://...` at start: a Redis it cannot use is one line naming the
address (never a traceback, never the password); a Redis that evicts keys is warned about."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mockserver.redis_state.connection import PASSWORD_ENV
from tests.fixtures.redis_server import RedisServer, redis_server
from tests.fixtures.servers import start_server

__all__ = ["redis_server"]  # a fixture this module uses

pytestmark = pytest.mark.slow
PASSWORD = "TopSecret"


def serve_fails(url: str) -> str:
    """``harness serve --state url``'s error output; it must stop at once."""
    env = {key: value for key, value in os.environ.items() if key != PASSWORD_ENV}
    result = subprocess.run(
        [sys.executable, "-m", "harness", "serve", "--port", "0", "--state", url],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode != 0
    return result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:99999/0",
        f"redis://:{PASSWORD}@127.0.0.1:port/0",
        "redis://[::1/0",
        f"redis://:{PASSWORD}@127.0.0.1/abc",
        f"redis://:p/{PASSWORD}@127.0.0.1/0",  # an unencoded / in the password
    ],
)
def test_a_malformed_address_is_one_line(url: str) -> None:
    said = serve_fails(url)
    assert "Traceback" not in said
    assert PASSWORD not in said
    (line,) = said.strip().splitlines()
    assert line.startswith("Error: cannot use redis://") and "as the state store" in line


def test_a_redis_that_wants_a_password_says_so(redis_server: RedisServer, tmp_path: Path) -> None:
    locked = RedisServer(redis_server.binary, tmp_path, password=PASSWORD)
    locked.start()
    try:
        said = serve_fails(locked.url)
    finally:
        locked.stop()
    (line,) = said.strip().splitlines()
    assert "requires a password" in line and PASSWORD_ENV in line


def test_an_evicting_redis_is_warned_about_once(redis_server: RedisServer, tmp_path: Path) -> None:
    evicting = RedisServer(
        redis_server.binary, tmp_path, ("--maxmemory", "5mb", "--maxmemory-policy", "allkeys-lru")
    )
    evicting.start()
    try:
        server = start_server(["--workers", "2", "--state", evicting.url], log_dir=tmp_path)
        server.stop()
    finally:
        evicting.stop()
    assert server.log().count("maxmemory-policy allkeys-lru") == 1, server.log()
