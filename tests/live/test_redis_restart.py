"""Instances on a Redis that restarts empty or is flushed: stubs posted afterwards answer.

Each worker keeps the stubs indexed in memory, rebuilt when the stubs' generation moves. The
generation counter lives in Redis: after a restart or a ``FLUSHDB`` it came back to a number
the worker had cached, and a stub posted then was listed but never matched. Also: the 503 a
request gets while Redis is away reads as one sentence.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
import requests

from tests.fixtures.redis_server import RedisServer, redis_server
from tests.fixtures.servers import API_KEY, RunningServer, start_server

__all__ = ["redis_server"]  # a fixture this module uses

pytestmark = pytest.mark.slow
HEADERS = {"Authorization": f"Bearer {API_KEY}"}
GENERATION = "harness:stubs:generation"  # the counter, under the default --redis-prefix


@pytest.fixture(scope="module")
def own_redis(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RedisServer]:
    """A Redis of this module's own: its tests restart and flush it."""
    server = RedisServer(redis_server.binary, tmp_path_factory.mktemp("redis-restart"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pair(
    own_redis: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, RunningServer]]:
    log_dir = tmp_path_factory.mktemp("instances")
    args = ["--api-key", API_KEY, "--workers", "1", "--state", own_redis.url]
    first = start_server(args, log_dir=log_dir)
    second = start_server(args, log_dir=log_dir)
    yield first, second
    first.stop()
    second.stop()


@pytest.fixture
def instances(
    own_redis: RedisServer, pair: tuple[RunningServer, RunningServer]
) -> tuple[RunningServer, RunningServer]:
    if own_redis.process is None:
        own_redis.start()
    reset = requests.post(f"{pair[0].url}/_mock/reset", headers=HEADERS, timeout=10)
    assert reset.status_code == 200, reset.text
    return pair


def add_stub(server: RunningServer, word: str) -> requests.Response:
    stub = {"match": {"last_user_message": word}, "reply": {"text": f"{word.upper()}-STUB"}}
    return requests.post(f"{server.url}/_mock/stubs", json=stub, headers=HEADERS, timeout=10)


def chat(server: RunningServer, word: str) -> str:
    body = {"model": "gpt-4", "messages": [{"role": "user", "content": word}]}
    answer = requests.post(
        f"{server.base_url}/chat/completions", json=body, headers=HEADERS, timeout=10
    )
    assert answer.status_code == 200, answer.text
    content: Any = answer.json()["choices"][0]["message"]["content"]
    return str(content)


def counter_back_to(server: RedisServer, before: bytes | str | None) -> None:
    """As after that many changes in the new Redis life: the next change brings the stubs'
    generation counter back to the number it had (``before``), which the workers cached."""
    assert before is not None
    redis.Redis(port=server.port).set(GENERATION, int(before) - 1)


def listed(server: RunningServer) -> list[str]:
    stubs = requests.get(f"{server.url}/_mock/stubs", headers=HEADERS, timeout=10).json()
    return [stub["reply"]["text"] for stub in stubs["data"]]


def test_a_stub_posted_after_redis_restarts_empty_answers_on_every_instance(
    own_redis: RedisServer, instances: tuple[RunningServer, RunningServer]
) -> None:
    a, b = instances
    assert add_stub(a, "alpha").status_code == 201
    assert [chat(b, "alpha") for _ in range(2)] == ["ALPHA-STUB"] * 2  # b's index is cached
    before = redis.Redis(port=own_redis.port).get(GENERATION)
    own_redis.stop()
    own_redis.start()
    counter_back_to(own_redis, before)
    assert add_stub(a, "beta").status_code == 201
    assert listed(b) == ["BETA-STUB"]
    assert [chat(b, "beta") for _ in range(2)] == ["BETA-STUB"] * 2
    assert chat(a, "beta") == "BETA-STUB"
    assert chat(b, "alpha") != "ALPHA-STUB"  # gone with the old Redis


def test_a_stub_posted_after_flushdb_answers(
    own_redis: RedisServer, instances: tuple[RunningServer, RunningServer]
) -> None:
    a, _ = instances
    assert add_stub(a, "alpha").status_code == 201
    assert chat(a, "alpha") == "ALPHA-STUB"
    before = redis.Redis(port=own_redis.port).get(GENERATION)
    redis.Redis(port=own_redis.port).flushdb()
    counter_back_to(own_redis, before)
    assert add_stub(a, "beta").status_code == 201
    assert listed(a) == ["BETA-STUB"]
    assert chat(a, "beta") == "BETA-STUB"


def test_the_503_while_redis_is_away_reads_as_one_sentence(
    own_redis: RedisServer, instances: tuple[RunningServer, RunningServer]
) -> None:
    a, _ = instances
    own_redis.stop()
    try:
        refused = add_stub(a, "gamma")
    finally:
        own_redis.start()
    assert refused.status_code == 503, refused.text
    message = refused.json()["error"]["message"]
    assert f"Redis at 127.0.0.1:{own_redis.port}/0" in message
    assert ".." not in message
    assert add_stub(a, "gamma").status_code == 201  # it reconnects by itself
