"""Each process's stub index on Redis is never trusted across Redis lives.

The index is rebuilt when the stubs' generation moves. The counter lives in Redis, so after
Redis restarts empty, a ``FLUSHDB`` or an evicted counter it starts again from 0 and comes
back to a number a process has cached, with other stubs behind it: they were listed but
never matched. The generation the index is keyed on therefore includes an epoch that is new
with each Redis life. Reading it costs no round trip more than the counter did.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.connection import Connection

from mockserver.redis_state import RedisState
from mockserver.storage import StoreFull
from mockserver.stubs import RequestFacts, StubStore, parse_stub
from tests.fixtures.redis_server import RedisServer, redis_server

__all__ = ["redis_server"]  # a fixture this module uses

CHAT = "/v1/chat/completions"
PREFIX = "life:"


@pytest.fixture
def own_redis(redis_server: RedisServer, tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own: the tests flush and restart it."""
    server = RedisServer(redis_server.binary, tmp_path)
    server.start()
    yield server
    server.stop()


def open_state(server: RedisServer, tmp_path: Path) -> RedisState:
    return RedisState(server.url, tmp_path / "local" / "state", PREFIX)


def stub(word: str) -> Any:
    return parse_stub({"match": {"last_user_message": word}, "reply": {"text": word.upper()}})


def answer(store: StubStore, word: str) -> str | None:
    body = {"model": "gpt-4", "messages": [{"role": "user", "content": word}]}
    taken = store.take(CHAT, body, RequestFacts(word))
    return None if taken is None else str(taken.answer()["text"])


def raw(server: RedisServer) -> redis.Redis:
    return redis.Redis(port=server.port)


def cached_alpha(server: RedisServer, tmp_path: Path) -> tuple[StubStore, RedisState]:
    """A worker's store that has matched ``alpha`` (its index cached), and another view."""
    writer = open_state(server, tmp_path)
    worker = StubStore(open_state(server, tmp_path).stubs)
    writer.stubs.add([stub("alpha")])
    assert answer(worker, "alpha") == "ALPHA"
    return worker, writer


def test_a_stub_added_after_flushdb_is_matched(own_redis: RedisServer, tmp_path: Path) -> None:
    worker, writer = cached_alpha(own_redis, tmp_path)
    raw(own_redis).flushdb()
    writer.stubs.add([stub("beta")])  # the counter is back at the number the worker cached
    assert [s.answer()["text"] for s in writer.stubs.listing()] == ["BETA"]
    assert answer(worker, "beta") == "BETA"
    assert answer(worker, "alpha") is None


def test_a_stub_added_after_redis_restarts_empty_is_matched(
    own_redis: RedisServer, tmp_path: Path
) -> None:
    worker, writer = cached_alpha(own_redis, tmp_path)
    own_redis.stop()
    own_redis.start()
    writer.stubs.add([stub("beta")])
    assert answer(worker, "beta") == "BETA"
    assert answer(worker, "alpha") is None


def test_a_stub_added_after_the_counter_was_evicted_is_matched(
    own_redis: RedisServer, tmp_path: Path
) -> None:
    worker, writer = cached_alpha(own_redis, tmp_path)
    raw(own_redis).delete(f"{PREFIX}stubs:generation")  # as an eviction policy may
    writer.stubs.add([stub("beta")])
    assert answer(worker, "beta") == "BETA"
    assert answer(worker, "alpha") == "ALPHA"


def test_the_epoch_evicted_alone_still_gives_a_right_index(
    own_redis: RedisServer, tmp_path: Path
) -> None:
    worker, writer = cached_alpha(own_redis, tmp_path)
    assert raw(own_redis).delete(f"{PREFIX}stubs:epoch") == 1
    assert answer(worker, "alpha") == "ALPHA"
    writer.stubs.add([stub("beta")])
    assert answer(worker, "beta") == "BETA"


class RoundTrips:
    """Counts the commands (or pipelines) a client sends: one each is one round trip."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        send: Any = Connection.send_packed_command

        def counting(connection: Connection, command: Any, check_health: bool = True) -> None:
            self.count += 1
            send(connection, command, check_health)

        monkeypatch.setattr(Connection, "send_packed_command", counting)


def test_a_request_no_stub_answers_costs_one_round_trip(
    own_redis: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker, _ = cached_alpha(own_redis, tmp_path)
    answer(worker, "nothing")  # the index is warm
    trips = RoundTrips(monkeypatch)
    for _ in range(10):
        assert answer(worker, "nothing") is None
    assert trips.count == 10
    trips.count = 0
    for _ in range(10):
        assert answer(worker, "alpha") == "ALPHA"
    assert trips.count == 20  # the generation, and the use claimed


def test_a_full_redis_without_an_epoch_still_answers_plain_requests(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """A Redis past its maxmemory (noeviction) refuses the epoch's ``SET NX`` (state kept
    from before epochs were stored, or the epoch deleted): matching goes on without one."""
    full = RedisServer(
        redis_server.binary, tmp_path, ("--maxmemory", "3mb", "--maxmemory-policy", "noeviction")
    )
    full.start()
    try:
        state = open_state(full, tmp_path)
        state.stubs.add([stub("alpha")])
        raw(full).delete(f"{PREFIX}stubs:epoch")
        with pytest.raises(StoreFull):
            for turn in range(1000):  # 3 MB hold some 150 of these
                state.responses.save(f"resp_{turn}", {"text": "x" * 20_000}, [])
        worker = StubStore(state.stubs)
        assert answer(worker, "nothing") is None
        assert answer(worker, "nothing") is None
    finally:
        full.stop()
