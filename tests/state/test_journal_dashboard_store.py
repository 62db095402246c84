"""The journal reads the dashboard makes, on both backends: summaries newest first after a
seq, one entry by seq, the oldest seq kept; entries stored before summaries were kept."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import redis

from mockserver.redis_state import RedisState
from mockserver.sqlite_state import SqliteState
from mockserver.storage import JournalRow, StateBackend
from tests.fixtures.redis_server import RedisServer, redis_prefix, redis_server
from tests.state.test_store_contract import Opener, open_state

__all__ = ["open_state", "redis_prefix", "redis_server"]  # fixtures this module uses


def row(n: int, **columns: Any) -> JournalRow:
    status = columns.get("status", 200)
    summary = json.dumps({"n": n, "summary": True})
    fields: dict[str, Any] = {
        "path": "/v1/chat/completions",
        "method": "POST",
        "status": status,
        "model": "gpt-4",
        "stub_id": None,
        "size": 10,
        "valid": True,
        "fault": None,
        "summary": summary,
        **columns,
    }
    return JournalRow(json.dumps({"n": n, "whole": True}), **fields)


def listed(
    state: StateBackend, after: int = 0, before: int | None = None, limit: int = 100, **filters: Any
) -> list[int]:
    return [
        json.loads(text)["n"] for _, text in state.journal.summaries(filters, after, before, limit)
    ]


def test_summaries_come_newest_first_after_a_seq(open_state: Opener) -> None:
    state = open_state()
    state.journal.append([row(n) for n in range(450)])
    seqs = [seq for seq, _ in state.journal.rows({}, None)]
    assert listed(open_state(), limit=3) == [449, 448, 447]
    # Across pages (200 a page on Redis), bounded below and above.
    assert listed(state, after=seqs[10], limit=1000) == list(range(449, 10, -1))
    assert listed(state, after=seqs[440]) == list(range(449, 440, -1))
    assert listed(state, before=seqs[5]) == [4, 3, 2, 1, 0]
    assert listed(state, after=seqs[-1]) == []
    assert listed(state, limit=0) == []
    texts = [text for _, text in state.journal.summaries({}, 0, None, 1)]
    assert json.loads(texts[0]) == {"n": 449, "summary": True}


def test_summaries_filter_by_validity_fault_and_the_other_columns(open_state: Opener) -> None:
    state = open_state()
    state.journal.append(
        [row(n, valid=n % 4 != 0, fault="rate_limit" if n % 5 == 0 else None) for n in range(300)]
    )
    assert listed(state, valid=False, limit=3) == [296, 292, 288]
    assert listed(state, fault="rate_limit", valid=False, limit=1000) == list(range(280, -1, -20))
    assert listed(state, status=404) == []
    # The journal's own reads filter by them too.
    assert len(list(state.journal.rows({"valid": False}, None))) == 75
    assert len(list(state.journal.rows({"fault": "rate_limit"}, 2))) == 2


def test_one_entry_by_seq_and_the_oldest_kept(open_state: Opener) -> None:
    state = open_state()
    assert state.journal.oldest_seq() is None
    state.journal.append([row(n) for n in range(5)])
    seqs = [seq for seq, _ in state.journal.rows({}, None)]
    assert open_state().journal.oldest_seq() == seqs[0]
    text = state.journal.entry(seqs[2])
    assert text is not None and json.loads(text) == {"n": 2, "whole": True}
    assert state.journal.entry(seqs[-1] + 1000) is None
    state.journal.clear()
    assert state.journal.entry(seqs[2]) is None
    assert state.journal.oldest_seq() is None


def test_a_row_without_a_summary_lists_its_whole_entry(open_state: Opener) -> None:
    state = open_state()
    state.journal.append([row(1, summary=None), row(2)])
    texts = [json.loads(text) for _, text in state.journal.summaries({}, 0, None, 10)]
    assert texts == [{"n": 2, "summary": True}, {"n": 1, "whole": True}]


def test_a_sqlite_journal_from_before_the_dashboard_is_read(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as connection:  # the table as the previous version made it
        connection.execute(
            """CREATE TABLE journal (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL, path TEXT NOT NULL,
                method TEXT NOT NULL, status INTEGER NOT NULL, model TEXT, stub_id TEXT,
                size INTEGER NOT NULL DEFAULT 0)"""
        )
        connection.execute(
            "INSERT INTO journal (entry, path, method, status, model, stub_id, size)"
            " VALUES ('{\"n\": 1}', '/v1/chat/completions', 'POST', 200, 'gpt-4', NULL, 9)"
        )
    connection.close()
    state = SqliteState(path)
    state.journal.append([row(2, valid=False)])
    assert [json.loads(text) for _, text in state.journal.summaries({}, 0, None, 10)] == [
        {"n": 2, "summary": True},
        {"n": 1},
    ]
    assert listed(state, valid=False) == [2]


def test_a_redis_journal_from_before_the_dashboard_is_read(
    redis_server: RedisServer, redis_prefix: str, tmp_path: Path
) -> None:
    state = RedisState(redis_server.url, tmp_path / "state", redis_prefix)
    state.journal.append([row(2, fault="timeout")])
    # An entry as the previous version wrote it: five columns, no summary.
    client = redis.Redis.from_url(redis_server.url)
    seq = int(client.incr(f"{redis_prefix}journal:seq"))
    client.hset(f"{redis_prefix}journal:entries", str(seq), '{"n": 3}')
    client.hset(
        f"{redis_prefix}journal:meta", str(seq), json.dumps(["/p", "POST", 200, None, None])
    )
    client.hset(f"{redis_prefix}journal:sizes", str(seq), "8")
    client.zadd(f"{redis_prefix}journal:seqs", {str(seq): seq})
    assert [json.loads(text) for _, text in state.journal.summaries({}, 0, None, 10)] == [
        {"n": 3},
        {"n": 2, "summary": True},
    ]
    assert listed(state, fault="timeout") == [2]
    assert len(list(state.journal.rows({"fault": "timeout"}, None))) == 1
