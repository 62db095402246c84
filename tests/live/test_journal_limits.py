"""The journal is bounded in bytes, not only in entries, and read page by page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from mockserver import MockConfig, create_app
from mockserver.config import DEFAULT_JOURNAL_BODY_MAX_BYTES
from mockserver.db import Database
from mockserver.journal import TABLES as JOURNAL_TABLES
from mockserver.journal import Journal, JournalEntry
from tests.fixtures.admin import Admin
from tests.fixtures.servers import API_KEY, RunningServer, serve_in_thread, start_server

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def big_chat(url: str, size: int, marker: str = "") -> requests.Response:
    # Over the model's context a request is a 400; it is journaled all the same.
    body = {"model": "gpt-4", "messages": [{"role": "user", "content": marker + "x" * size}]}
    return requests.post(f"{url}/v1/chat/completions", json=body, headers=AUTH, timeout=60)


def journal(url: str, **params: object) -> list[dict[str, object]]:
    response = requests.get(f"{url}/_mock/requests", params=params, headers=AUTH, timeout=60)
    assert response.status_code == 200, response.text
    data: list[dict[str, object]] = response.json()["data"]
    return data


def state_bytes(state: Path) -> int:
    return sum(path.stat().st_size for path in state.parent.glob(state.name + "*"))


def test_a_large_body_is_kept_truncated_with_its_size(
    admin: Admin, live_server: RunningServer
) -> None:
    answer = big_chat(live_server.url, 1_000_000, marker="first words ")
    (entry,) = journal(live_server.url)
    body = entry["body"]
    assert isinstance(body, str)
    assert body.startswith('{"model": "gpt-4", "messages": [{"role": "user", "content": "first')
    assert body.endswith("…(truncated)")
    assert len(body.encode()) <= DEFAULT_JOURNAL_BODY_MAX_BYTES + 32
    assert entry["body_truncated"] is True
    assert entry["body_size"] == len(answer.request.body or b"")
    assert [e["seq"] for e in journal(live_server.url, model="gpt-4")] == [entry["seq"]]
    # What fits is kept as it was sent, as JSON.
    big_chat(live_server.url, 1000)
    small = journal(live_server.url, limit=1)[0]
    assert isinstance(small["body"], dict) and small["body_truncated"] is False


@pytest.mark.slow
def test_large_requests_do_not_grow_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    server = start_server(
        ["--api-key", API_KEY, "--workers", "1", "--state", str(state)], log_dir=tmp_path
    )
    try:
        before = state_bytes(state)
        for n in range(12):
            big_chat(server.url, 2_000_000, marker=f"n{n} ")
        entries = journal(server.url)
        grown = state_bytes(state) - before
    finally:
        server.stop()
    print(f"12 requests of 2 MB: the state files grew by {grown:,} bytes")
    assert len(entries) == 12
    # 24 MB sent; each entry keeps at most 64 KiB of its body.
    assert grown < 4_000_000, grown


def test_the_journal_drops_its_oldest_entries_past_its_byte_cap() -> None:
    app = create_app(MockConfig(journal_max_bytes=300_000, journal_body_max_bytes=64 * 1024))
    with serve_in_thread(app) as url:
        for n in range(20):
            big_chat(url, 40_000, marker=f"n{n:02} ")
        entries = journal(url)
    kept = [entry["body"]["messages"][0]["content"][:3] for entry in entries]  # type: ignore[index]
    total = sum(len(json.dumps(entry)) for entry in entries)
    assert 4 <= len(kept) < 20, kept
    assert total <= 300_000 + 50_000
    # The newest are kept, in order.
    assert kept == [f"n{n:02}" for n in range(20 - len(kept), 20)]


@pytest.mark.slow
def test_a_read_of_the_last_entries_does_not_read_the_whole_journal(
    admin: Admin, live_server: RunningServer
) -> None:
    # That the read stops in SQL is test_the_last_entries_are_cut_in_sql's (its statements
    # traced); a ratio of timings here failed on a busy machine without a regression.
    for n in range(150):
        big_chat(live_server.url, 60_000, marker=f"n{n:03} ")
    everything = journal(live_server.url)
    (last,) = journal(live_server.url, limit=1)
    assert len(everything) == 150
    assert last == everything[-1]
    assert [entry["seq"] for entry in journal(live_server.url, limit=3)] == [
        entry["seq"] for entry in everything[-3:]
    ]
    assert journal(live_server.url, limit=0) == []


def test_the_last_entries_are_cut_in_sql(tmp_path: Path) -> None:
    # What the server runs for GET /_mock/requests?limit=1, its statements traced: the whole
    # journal (660 MB in the report) must not be fetched to keep one entry.
    db = Database(tmp_path / "state.sqlite3", schema=JOURNAL_TABLES)
    journal = Journal(db)
    journal.record_many([JournalEntry("POST", "/v1/chat/completions", {"n": n}) for n in range(50)])
    statements: list[str] = []
    with db.connection() as connection:  # the pool lends this one again (last in, first out)
        connection.set_trace_callback(statements.append)
    (last,) = journal.entries(limit=1)
    assert last["body"] == {"n": 49}
    reads = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert reads and all("LIMIT" in sql for sql in reads), reads
