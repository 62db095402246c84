"""A fork waits for the journal writer's batch: SQLite's locks are not fork-safe.

A child forked while another thread of its parent is inside SQLite inherits SQLite's mutexes
held by a thread it does not have, and hangs at its own first use of SQLite (the coverage
tracer's data file, a journal of its own). That froze a child of the test suite for good,
and the run with it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from mockserver.db import Database
from mockserver.journal import TABLES, Journal, JournalEntry, Waiting
from tests.fixtures.forks import wait_or_kill

BATCH_S = 0.4


def test_a_fork_waits_for_the_batch_being_written(tmp_path: Path) -> None:
    journal = Journal(Database(tmp_path / "state.sqlite3", TABLES))
    writing, written_at = threading.Event(), []
    write_rows = journal.write_rows

    def slow_write_rows(batch: list[Waiting]) -> None:
        writing.set()
        time.sleep(BATCH_S)  # as a long batch, inside SQLite, would take
        write_rows(batch)
        written_at.append(time.monotonic())

    journal.write_rows = slow_write_rows  # type: ignore[method-assign]
    journal.submit(JournalEntry("POST", "/v1/chat/completions", {"n": 1}), False)
    assert writing.wait(timeout=10)
    pid = os.fork()
    if pid == 0:  # the child: SQLite must work here
        try:
            sqlite3.connect(":memory:").execute("SELECT 1").fetchone()
        finally:
            os._exit(0)
    forked_at = time.monotonic()
    assert wait_or_kill(pid) == 0
    assert written_at and written_at[0] <= forked_at
    assert [entry["body"] for entry in journal.entries()] == [{"n": 1}]


def _journal_and_wait(journal: Journal, n: str) -> None:
    journal.finishing.add(1)  # as an answer handed to the server counts itself
    journal.submit(JournalEntry("POST", "/v1/chat/completions", {"n": n}), True)
    journal.wait_for_pending(timeout_s=10)


def test_a_child_journals_on_its_own_after_the_fork(tmp_path: Path) -> None:
    journal = Journal(Database(tmp_path / "state.sqlite3", TABLES))
    _journal_and_wait(journal, "parent")
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            _journal_and_wait(journal, "child")
            code = 0 if len(journal.entries()) == 2 else 2
        finally:
            os._exit(code)
    assert wait_or_kill(pid) == 0
    assert sorted(entry["body"]["n"] for entry in journal.entries()) == ["child", "parent"]
