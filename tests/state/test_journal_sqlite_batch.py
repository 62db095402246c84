"""The SQLite journal inserts a batch in one statement: every row, in order, typed as before."""

from __future__ import annotations

from pathlib import Path

from mockserver.db import Database
from mockserver.journal_store import TABLES, SqliteJournalStore
from mockserver.storage import JournalRow


def _store(tmp_path: Path) -> SqliteJournalStore:
    return SqliteJournalStore(Database(tmp_path / "state.sqlite3", TABLES))


def test_a_batch_keeps_every_row_in_order_with_its_columns_typed(tmp_path: Path) -> None:
    store = _store(tmp_path)
    rows = [
        JournalRow('{"n":0}', "/v1/chat/completions", "POST", 200, "gpt-4", None, 7, True),
        JournalRow('{"n":1}', "/v1/responses", "POST", 400, None, "stub_1", 7, False, "x"),
        JournalRow('{"n":2, "text": "é \\" \'"}', "/v1/models", "GET", 404, None, None, 9),
    ]
    store.append(rows)
    store.append(rows[:1])
    with store._db.connection() as connection:
        stored = connection.execute(
            "SELECT entry, path, method, status, model, stub_id, size, valid, fault, summary"
            " FROM journal ORDER BY seq"
        ).fetchall()
    expected = [tuple(row) for row in rows + rows[:1]]
    # valid is kept as SQLite keeps a Python bool: 1 or 0.
    assert [(*r[:7], None if r[7] is None else bool(r[7]), *r[8:]) for r in stored] == expected
    assert [type(r[3]) for r in stored] == [int] * 4


def test_a_lone_surrogate_is_replaced_and_loses_no_row_of_its_batch(tmp_path: Path) -> None:
    store = _store(tmp_path)
    rows = [
        JournalRow('{"n":0}', "/v1/chat/completions", "POST", 400, "\ud800", None, 7, False),
        JournalRow('{"n":1}', "/v1/chat/completions", "POST", 200, "gpt-4", None, 7, True),
    ]
    store.append(rows)
    with store._db.connection() as connection:
        models = [m for (m,) in connection.execute("SELECT model FROM journal ORDER BY seq")]
    assert models == ["?", "gpt-4"]
