"""A Redis past its ``maxmemory`` (``noeviction``): writes are a 507 naming the store, and
the admin API's clears still free it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver.redis_state import RedisState
from mockserver.storage import StoreFull
from tests.fixtures.redis_server import RedisServer, redis_server

__all__ = ["redis_server"]  # a fixture this module uses


@pytest.fixture
def small_redis(redis_server: RedisServer, tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(
        redis_server.binary, tmp_path, ("--maxmemory", "3mb", "--maxmemory-policy", "noeviction")
    )
    server.start()
    yield server
    server.stop()


def test_a_full_redis_refuses_writes_with_a_507_and_clears_still_work(
    small_redis: RedisServer, tmp_path: Path
) -> None:
    state = RedisState(small_redis.url, tmp_path / "local" / "state")
    with pytest.raises(StoreFull) as refused:
        for turn in range(1000):  # 3 MB hold some 150 of these
            state.responses.save(f"resp_{turn}", {"text": "x" * 20_000}, [])
    assert refused.value.reply.status == 507
    assert refused.value.reply.code == "state_full"
    assert f"Redis at 127.0.0.1:{small_redis.port}/0" in refused.value.reply.message
    assert state.freeing(state.journal.clear) == 0
    assert state.freeing(state.stubs.clear) == 0
    assert state.responses.delete("resp_0")


def test_a_journal_batch_refused_by_a_full_store_is_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # StoreFull (Redis past maxmemory) was logged as "could not journal N requests" with a
    # traceback, unlike a full disk or an unreachable store.
    import queue

    from mockserver.db import Database
    from mockserver.journal import TABLES, Journal, JournalEntry

    journal = Journal(Database(tmp_path / "state.sqlite3", TABLES))

    def refuse(rows: object) -> None:
        raise StoreFull("Redis at 127.0.0.1:1/0")

    journal._store.append = refuse  # type: ignore[method-assign]
    entry = JournalEntry(method="POST", path="/v1/chat/completions", body={"model": "gpt-4"})
    with caplog.at_level("WARNING", logger="mockserver.journal"):
        journal._write_batch(queue.SimpleQueue(), journal.waiting(entry, counted=False))
    (record,) = caplog.records
    assert "the state store is full" in record.getMessage()
    assert record.exc_info is None
