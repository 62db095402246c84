"""What waits for a journal writer: each entry's stored row, settled on its request's thread.

An entry queued as it was (its request's headers, parsed body and answer) outlived the young
garbage collections while it waited, and every collection walked it and moved it on to the
older generations, whose collections then cost every request; under load that, and the
writer thread freeing what the request threads had made, cost more than writing the rows.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import mockserver.journal as journal_module
from mockserver import MockConfig, close_app, create_app
from mockserver.journal import Journal

ATOMS = (str, bytes, int, float, bool, type(None))


@pytest.fixture()
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    # The writer waits out a long gap after its first entry: what it holds stays queued.
    monkeypatch.setattr(journal_module, "WRITE_GAP_S", 30.0)
    app = create_app(MockConfig(api_key="sk-test", state_path=tmp_path / "state.sqlite3"))
    yield app
    close_app(app)


def _journal(app: Flask) -> Journal:
    journal: Journal = app.extensions["mockserver"].journal
    return journal


def _chat(app: Flask, number: int) -> None:
    answer = app.test_client().post(
        "/v1/chat/completions",
        json={"model": "gpt-4", "messages": [{"role": "user", "content": f"Order {number}?"}]},
        headers={"Authorization": "Bearer sk-test", "X-Trace": "kept"},
    )
    assert answer.status_code == 200, answer.text


def _waiting(journal: Journal, count: int) -> list[Any]:
    """Everything in the writer's hands: the entry it holds and those queued behind it."""
    pending = journal._queue
    assert pending is not None
    deadline = time.monotonic() + 5
    # The writer takes the first entry and then holds it: wait until it does.
    while len(journal._held) + pending.qsize() < count and time.monotonic() < deadline:
        time.sleep(0.01)
    while not journal._held and time.monotonic() < deadline:
        time.sleep(0.01)
    queued = []
    while not pending.empty():
        queued.append(pending.get_nowait())
    for item in queued:
        pending.put(item)
    return [*journal._held, *queued]


def _entries(journal: Journal) -> list[dict[str, Any]]:
    journal.wait_for_pending(timeout_s=10)  # as the admin API's read does
    return journal.entries()


def _reachable(root: object) -> list[object]:
    seen: dict[int, object] = {}
    stack = [root]
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, type):
            continue
        seen[id(item)] = item
        stack.extend(gc.get_referents(item))
    return list(seen.values())


def test_what_waits_for_the_writer_is_rows_of_strings_and_numbers(app: Flask) -> None:
    _chat(app, 0)  # written at once (the writer's first), then 30 s between writes
    assert len(_entries(_journal(app))) == 1
    for number in range(1, 6):
        _chat(app, number)
    waiting = _waiting(_journal(app), 5)
    assert len(waiting) == 5
    for item in waiting:
        held = _reachable(item)
        # Tuples (a row and its bookkeeping) of strings and numbers: no dict, list, request,
        # response or entry object that a garbage collection would walk.
        assert all(isinstance(each, (tuple, *ATOMS)) for each in held), {
            type(each).__name__ for each in held if not isinstance(each, (tuple, *ATOMS))
        }
        # Two objects a collection walks (the named tuples: only plain tuples of atoms are
        # untracked by the collector), where a waiting entry had some twenty.
        assert sum(gc.is_tracked(each) for each in held) <= 2


def test_a_waiting_row_is_the_entry_as_read(app: Flask) -> None:
    _chat(app, 7)
    (entry,) = _entries(_journal(app))
    assert entry["body"]["messages"][0]["content"] == "Order 7?"
    assert entry["status"] == 200
    assert entry["request_headers"]["X-Trace"] == "kept"
    assert entry["request_headers"]["Authorization"] != "Bearer sk-test"  # masked
    assert entry["response_body"]["object"] == "chat.completion"
    assert entry["request_id"] == entry["response_headers"]["x-request-id"]


def test_an_entry_that_cannot_be_written_costs_its_request_nothing(
    app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(entry: object) -> str:
        raise RuntimeError("cannot write this entry")

    monkeypatch.setattr(journal_module, "_entry_json", broken)
    with caplog.at_level(logging.WARNING, logger="mockserver.journal"):
        _chat(app, 1)  # answered 200 all the same
    assert "could not journal a request to /v1/chat/completions" in caplog.text
    journal = _journal(app)
    assert journal.finishing.value == 0  # a journal read does not wait for it
    assert journal.waiting_bytes == 0
    monkeypatch.undo()
    _chat(app, 2)
    assert [entry["body"]["messages"][0]["content"] for entry in _entries(journal)] == ["Order 2?"]
