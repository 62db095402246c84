"""A journal writer that has fallen behind drops what it would write only to prune at once:
its backlog, and the memory it holds, stays bounded however long requests outrun it."""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from mockserver.db import Database
from mockserver.journal import TABLES, Journal, JournalEntry, Waiting


def test_a_backlog_past_what_the_journal_keeps_is_dropped_oldest_first(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = Journal(Database(tmp_path / "state.sqlite3", TABLES))
    journal._backlog_max = 100  # the journal's MAX_ENTRIES, small for the test
    pending: queue.SimpleQueue[Waiting] = queue.SimpleQueue()
    for n in range(1000):
        journal.finishing.add(1)  # as an answer handed to the server counts itself
        pending.put(_waiting(journal, n, counted=True))
    with caplog.at_level(logging.WARNING, logger="mockserver.journal"):
        while not pending.empty():
            journal._write_batch(pending)
    assert [entry["body"]["n"] for entry in journal.entries()] == list(range(900, 1000))
    assert journal.finishing.value == 0  # readers do not wait for what was dropped
    assert "900 older entries dropped unwritten" in caplog.text


def test_a_writer_that_keeps_up_drops_nothing(tmp_path: Path) -> None:
    journal = Journal(Database(tmp_path / "state.sqlite3", TABLES))
    pending: queue.SimpleQueue[Waiting] = queue.SimpleQueue()
    for n in range(1200):
        pending.put(_waiting(journal, n, counted=False))
    while not pending.empty():
        journal._write_batch(pending)
    assert [entry["body"]["n"] for entry in journal.entries()] == list(range(1200))


def _waiting(journal: Journal, n: int, counted: bool) -> Waiting:
    waiting = journal.waiting(JournalEntry("POST", "/v1/chat/completions", {"n": n}), counted)
    assert waiting is not None
    return waiting


def _answered(journal: Journal, n: int, body_bytes: int) -> JournalEntry:
    """An entry as the API's path queues it: request headers and a body in memory."""
    request = Request(EnvironBuilder("/v1/chat/completions", method="POST").get_environ())
    response = Response([b"x" * body_bytes])
    entry = JournalEntry("POST", "/v1/chat/completions", {"n": n})
    entry.capture(request, response, response.response)
    return entry


def _stall(journal: Journal) -> threading.Event:
    """Make the journal's writer wait, as on a store gone slow, until the event is set."""
    stalled = threading.Event()
    write = journal.write_rows

    def write_rows_when_let(batch: list[Waiting]) -> None:
        stalled.wait(timeout=30)
        write(batch)

    journal.write_rows = write_rows_when_let  # type: ignore[method-assign]
    return stalled


def test_what_a_stalled_writer_has_waiting_stays_within_bytes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A writer that cannot write (a store gone slow or unreachable) holds every entry
    waiting for it: 10,000 of them could be gigabytes of answers. Past its byte budget the
    oldest waiting are dropped as requests queue more, the newest always kept."""
    # Bodies kept whole (the default keeps an answer's first 64 KB): 1 MB each waits.
    journal = Journal(Database(tmp_path / "state.sqlite3", TABLES), body_max_bytes=2**21)
    journal.waiting_max_bytes = 8 * 1024 * 1024
    stalled = _stall(journal)
    with caplog.at_level(logging.WARNING, logger="mockserver.journal"):
        for n in range(100):  # 100 MB of answers
            journal.finishing.add(1)
            journal.submit(_answered(journal, n, 1024 * 1024), counted=True)
            assert journal.waiting_bytes <= journal.waiting_max_bytes + 1024 * 1024 + 4096
        stalled.set()
        journal.wait_for_pending(timeout_s=10)
    written = [entry["body"]["n"] for entry in journal.entries()]
    assert written[-1] == 99 and 7 <= len(written) <= 9, written
    assert journal.finishing.value == 0  # readers do not wait for what was dropped
    assert journal.waiting_bytes == 0
    assert "older entries dropped unwritten" in caplog.text


def test_entries_within_the_budget_all_wait_for_the_writer(tmp_path: Path) -> None:
    journal = Journal(Database(tmp_path / "state.sqlite3", TABLES))
    stalled = _stall(journal)
    for n in range(300):  # 3 MB in all, well within the default budget
        journal.finishing.add(1)
        journal.submit(_answered(journal, n, 10_000), counted=True)
    assert journal.waiting_bytes >= 300 * 10_000
    stalled.set()
    journal.wait_for_pending(timeout_s=10)
    assert len(journal.entries(limit=1000)) == 300
