"""A new state file has 16 KB pages; a file made before keeps its own, and still works.

The journal's rows are 1 to 20 KB (a stream's entry holds its frames). On SQLite's default
4 KB pages each such row spills over a chain of pages, and the writer's cost per stream
entry under load was 63 to 68 µs; on 16 KB pages it is 47 to 50 µs (chat entries unchanged).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mockserver.app import open_state
from mockserver.config import MockConfig
from mockserver.db import PAGE_BYTES, RESERVE_BYTES, WAL_CHECKPOINT_BYTES
from mockserver.journal import Journal, JournalEntry


def page_size(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        size: int = connection.execute("PRAGMA page_size").fetchone()[0]
    return size


def test_a_new_state_file_has_16_kb_pages(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    open_state(MockConfig(state_path=path))
    assert PAGE_BYTES == 16 * 1024
    assert page_size(path) == PAGE_BYTES


def test_a_file_made_with_smaller_pages_keeps_them_and_its_entries(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    with sqlite3.connect(path) as connection:  # as an older version made it
        connection.execute("PRAGMA page_size=4096")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE kept (value TEXT)")
        connection.execute("INSERT INTO kept VALUES ('before')")
    state = open_state(MockConfig(state_path=path))
    journal = Journal(state.journal, local_path=state.path)
    entry = JournalEntry("POST", "/v1/chat/completions", body={"model": "gpt-4"}, status=200)
    journal.record_many([entry])
    assert [found["path"] for found in journal.entries()] == ["/v1/chat/completions"]
    assert page_size(path) == 4096
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT value FROM kept").fetchall() == [("before",)]


def test_the_log_is_checkpointed_at_the_same_size_whatever_the_pages(tmp_path: Path) -> None:
    # The reserve that lets a full disk be cleared is sized for the log (RESERVE_BYTES): on
    # 16 KB pages SQLite's default of 1,000 pages would let it grow four times as large.
    for pages in (4096, PAGE_BYTES):
        path = tmp_path / f"state-{pages}.sqlite3"
        with sqlite3.connect(path) as connection:
            connection.execute(f"PRAGMA page_size={pages}")
            connection.execute("CREATE TABLE made_before (value TEXT)")
        state = open_state(MockConfig(state_path=path))
        with state.db.connection() as connection:
            every = connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        assert every * pages == WAL_CHECKPOINT_BYTES <= RESERVE_BYTES
