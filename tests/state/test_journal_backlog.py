"""A journal writer that has fallen behind drops what it would write only to prune at once:
its backlog, and the memory it holds, stays bounded however long requests outrun it."""

from __future__ import annotations

import logging
import queue
from pathlib import Path

import pytest

from mockserver.db import Database
from mockserver.journal import TABLES, Journal, JournalEntry


def test_a_backlog_past_what_the_journal_keeps_is_dropped_oldest_first(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = Journal(Database(tmp_path / "state.sqlite3", TABLES))
    journal._backlog_max = 100  # the journal's MAX_ENTRIES, small for the test
    pending: queue.SimpleQueue[tuple[JournalEntry, bool]] = queue.SimpleQueue()
    for n in range(1000):
        journal.finishing.add(1)  # as an answer handed to the server counts itself
        pending.put((JournalEntry("POST", "/v1/chat/completions", {"n": n}), True))
    with caplog.at_level(logging.WARNING, logger="mockserver.journal"):
        while not pending.empty():
            journal._write_batch(pending)
    assert [entry["body"]["n"] for entry in journal.entries()] == list(range(900, 1000))
    assert journal.finishing.value == 0  # readers do not wait for what was dropped
    assert "900 older entries dropped unwritten" in caplog.text


def test_a_writer_that_keeps_up_drops_nothing(tmp_path: Path) -> None:
    journal = Journal(Database(tmp_path / "state.sqlite3", TABLES))
    pending: queue.SimpleQueue[tuple[JournalEntry, bool]] = queue.SimpleQueue()
    for n in range(1200):
        pending.put((JournalEntry("POST", "/v1/chat/completions", {"n": n}), False))
    while not pending.empty():
        journal._write_batch(pending)
    assert [entry["body"]["n"] for entry in journal.entries()] == list(range(1200))
