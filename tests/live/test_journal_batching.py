"""The journal writes many entries per transaction under load, and reads still see every entry.

A transaction per entry costs some 80 µs of the worker's CPU (a quarter of a varied chat
request): the writer thread, woken by each entry and let run whenever the tokenizer released
the GIL, wrote one entry at a time.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

import mockserver.journal as journal_module
from mockserver import MockConfig, create_app
from mockserver.db import Database
from mockserver.journal import TABLES as JOURNAL_TABLES
from mockserver.journal import Journal, Waiting
from tests.fixtures.servers import API_KEY, serve_in_thread

AUTH = {"Authorization": f"Bearer {API_KEY}"}
REQUESTS = 200


@pytest.fixture()
def transactions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The size of every batch the journal writes, in order."""
    sizes: list[int] = []
    write_rows = Journal.write_rows

    def counted(self: Journal, batch: list[Waiting]) -> None:
        sizes.append(len(batch))
        write_rows(self, batch)

    monkeypatch.setattr(Journal, "write_rows", counted)
    yield sizes


def _app(tmp_path: Path) -> Flask:
    return create_app(MockConfig(api_key=API_KEY, state_path=tmp_path / "state.sqlite3"))


def _chat(session: requests.Session, url: str, number: int) -> None:
    body = {
        "model": "gpt-4",
        "messages": [{"role": "user", "content": f"What is the status of order {number}?"}],
    }
    answer = session.post(f"{url}/v1/chat/completions", json=body, headers=AUTH, timeout=30)
    assert answer.status_code == 200, answer.text


def _journal(url: str) -> list[dict[str, object]]:
    answer = requests.get(f"{url}/_mock/requests", headers=AUTH, timeout=30)
    assert answer.status_code == 200, answer.text
    data: list[dict[str, object]] = answer.json()["data"]
    return data


def test_entries_of_back_to_back_requests_share_transactions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, transactions: list[int]
) -> None:
    # When each transaction starts and ends: the writer must leave WRITE_GAP_S between the end
    # of one and the start of the next (unless a reader asks), however fast or slow the
    # machine answers. Before, it wrote each entry as it came, back to back.
    spans: list[tuple[float, float]] = []
    write_rows = Journal.write_rows

    def timed(self: Journal, batch: list[Waiting]) -> None:
        started = time.monotonic()
        write_rows(self, batch)
        spans.append((started, time.monotonic()))

    monkeypatch.setattr(Journal, "write_rows", timed)
    app = _app(tmp_path)
    with serve_in_thread(app) as url, requests.Session() as session:
        for number in range(REQUESTS):
            _chat(session, url, number)
        read_at = time.monotonic()
        entries = _journal(url)
    assert len(entries) == REQUESTS
    assert sum(transactions) == REQUESTS
    before_the_read = [span for span in spans if span[0] < read_at]
    gaps = [b[0] - a[1] for a, b in itertools.pairwise(before_the_read)]
    assert gaps and min(gaps) >= journal_module.WRITE_GAP_S * 0.9, sorted(gaps)[:5]


def test_a_journal_read_has_the_writer_write_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, transactions: list[int]
) -> None:
    # Transactions far apart: a read must not wait for the next one (it would wait 2 s and
    # then miss the entry).
    monkeypatch.setattr(journal_module, "WRITE_GAP_S", 30.0)
    app = _app(tmp_path)
    with serve_in_thread(app) as url, requests.Session() as session:
        for round_ in range(3):
            _chat(session, url, round_ * 2)
            _chat(session, url, round_ * 2 + 1)
            assert len(_journal(url)) == 2 * (round_ + 1)
    assert sum(transactions) == 6


EXITING_WRITER = """
import sys, time
from pathlib import Path
import mockserver.journal as journal_module
from mockserver.db import Database
from mockserver.journal import TABLES, Journal, JournalEntry

journal_module.WRITE_GAP_S = 30.0
journal = Journal(Database(Path(sys.argv[1]), schema=TABLES))
journal.submit(JournalEntry("POST", "/v1/chat/completions", {"n": 1}), counted=False)
time.sleep(0.5)  # written at once: the first write has no gap to wait out
journal.submit(JournalEntry("POST", "/v1/chat/completions", {"n": 2}), counted=False)
time.sleep(0.5)  # taken by the writer, which waits out the gap with it
"""


def test_the_entry_waiting_out_the_gap_is_written_at_exit(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    script = tmp_path / "exiting_writer.py"
    script.write_text(EXITING_WRITER)
    done = subprocess.run(
        [sys.executable, str(script), str(state)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    journal = Journal(Database(state, schema=JOURNAL_TABLES))
    assert [entry["body"] for entry in journal.entries()] == [{"n": 1}, {"n": 2}]
