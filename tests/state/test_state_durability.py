"""A state file that outlives the server is synced to disk; the temporary one is not.

Syncing (SQLite's ``synchronous=NORMAL`` in WAL mode: an fsync of the log and the file at
each checkpoint) is what lets a ``--state`` file survive a power loss. The default state file
is removed when the server stops, so nothing is gained by syncing it, and a stream's journal
entry (some 20 KB) brings a checkpoint every couple of hundred streams: under load, those
fsyncs were a quarter of a streamed answer's cost.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mockserver.app import open_state
from mockserver.config import MockConfig
from mockserver.db import Database

OFF, NORMAL = 0, 1  # PRAGMA synchronous's values


def synchronous(db: Database) -> int:
    with db.connection() as connection:
        value: int = connection.execute("PRAGMA synchronous").fetchone()[0]
    return value


def test_a_state_file_the_user_named_is_synced(tmp_path: Path) -> None:
    state = open_state(MockConfig(state_path=tmp_path / "state.sqlite3"))
    assert synchronous(state.db) == NORMAL


def test_the_temporary_state_file_is_not(tmp_path: Path) -> None:
    state = open_state(MockConfig())
    assert synchronous(state.db) == OFF
    # It is still a WAL database that every worker shares.
    with state.db.connection() as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_database_is_durable_unless_told(tmp_path: Path) -> None:
    assert synchronous(Database(tmp_path / "a.sqlite3")) == NORMAL
    assert synchronous(Database(tmp_path / "b.sqlite3", durable=False)) == OFF
    with sqlite3.connect(tmp_path / "b.sqlite3") as other:  # another process's connection
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
