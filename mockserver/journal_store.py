"""The journal's entries in the SQLite state file (the :class:`JournalStorage` default).

Reads page through the table in SQL and hand back the stored JSON as it is, so reading the
last entry does not read them all.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from mockserver.config import DEFAULT_JOURNAL_MAX_BYTES
from mockserver.db import Database
from mockserver.storage import JournalRow

MAX_ENTRIES = 10_000
_PRUNE_EVERY = 200
# Entries read from the table per query when the whole journal is sent.
_PAGE_ROWS = 200

TABLES = (
    """CREATE TABLE IF NOT EXISTS journal (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        entry TEXT NOT NULL,
        path TEXT NOT NULL,
        method TEXT NOT NULL,
        status INTEGER NOT NULL,
        model TEXT,
        stub_id TEXT,
        size INTEGER NOT NULL DEFAULT 0
    )""",
    # A state file from before the byte cap: the column is added, its old rows count as 0.
    "ALTER TABLE journal ADD COLUMN size INTEGER NOT NULL DEFAULT 0",
    # Sizes summed and oldest rows found without reading the entries themselves.
    "CREATE INDEX IF NOT EXISTS journal_sizes ON journal (seq, size)",
    # A state file from before the dashboard: its old rows have none of these (a NULL
    # summary reads as the whole entry, see summaries()).
    "ALTER TABLE journal ADD COLUMN valid INTEGER",
    "ALTER TABLE journal ADD COLUMN fault TEXT",
    "ALTER TABLE journal ADD COLUMN summary TEXT",
    # When the journal was last cleared (see cleared_at).
    "CREATE TABLE IF NOT EXISTS journal_meta (name TEXT PRIMARY KEY, value REAL NOT NULL)",
)
_JOURNAL_COLUMNS = "entry, path, method, status, model, stub_id, size, valid, fault, summary"
# Rows go in by several at once, in one statement of this many rows each (a batch of 300:
# 64 x 4 + 16 x 2 + 4 x 3; the statements stay few, so SQLite's statement cache keeps them;
# 64 rows are 640 parameters, within the 999 SQLite allowed before 3.32).
# executemany() ran one statement per row and let go of the GIL around each: under load
# every row became a switch between the writer and the request threads (varied chat, one
# granian worker: p99 116 -> 42 ms). Rows bound as parameters, not as JSON for SQLite to
# parse (json_each): that parse cost twice the CPU of the statements themselves.
_ROWS_PER_STATEMENT = (64, 16, 4, 1)


@functools.lru_cache(maxsize=len(_ROWS_PER_STATEMENT))
def _insert_rows(count: int) -> str:
    row = f"({', '.join('?' * len(JournalRow._fields))})"
    return f"INSERT INTO journal ({_JOURNAL_COLUMNS}) VALUES {', '.join([row] * count)}"


# The columns entries are filtered by (their names are the admin API's query parameters).
COLUMNS = ("path", "method", "status", "model", "stub_id", "valid", "fault")


# The largest integer SQLite stores: a larger one in a query is Python's OverflowError.
SQL_INT_MAX = 2**63 - 1


def filter_value(name: str, text: str) -> Any:
    """A filter's query text as its column holds it; ``ValueError`` when it cannot be."""
    if name == "status":
        status = int(text)
        if abs(status) > SQL_INT_MAX:
            raise ValueError(f"status {text!r} is out of range")
        return status
    if name == "valid":
        if text.lower() not in ("true", "false"):
            raise ValueError(f"valid is true or false, not {text!r}")
        return text.lower() == "true"
    return text


# Past every seq: the upper bound of a read that has none.
_NO_SEQ_ABOVE = SQL_INT_MAX


class SqliteJournalStore:
    """The ``journal`` table, at most :data:`MAX_ENTRIES` rows and about ``max_bytes``."""

    def __init__(
        self,
        db: Database,
        max_bytes: int = DEFAULT_JOURNAL_MAX_BYTES,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self._db = db
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        # Bytes this process wrote since it last summed the table (see _prune_bytes).
        self._unchecked_bytes = 0

    def append(self, rows: Sequence[JournalRow]) -> None:
        with self._db.transaction() as connection:
            start = 0
            for size in _ROWS_PER_STATEMENT:
                while len(rows) - start >= size:
                    chunk = rows[start : start + size]
                    try:
                        connection.execute(_insert_rows(size), _flat(chunk))
                    except UnicodeEncodeError:
                        # A lone surrogate (a fuzzer's "model": "\ud800"), which no UTF-8
                        # file holds: kept as "?" rather than lose its batch.
                        connection.execute(_insert_rows(size), _flat(chunk, _encodable))
                    start += size
            last = connection.execute("SELECT MAX(seq) FROM journal").fetchone()[0] or 0
            if last % _PRUNE_EVERY < len(rows):  # crossed a pruning boundary
                connection.execute("DELETE FROM journal WHERE seq <= ?", (last - self.max_entries,))
            self._unchecked_bytes += sum(row.size for row in rows)
            # Summing the table on every batch would hold the write lock longer on every
            # request; each process sums it after writing a sixteenth of the cap, so the
            # journal stays under the cap plus a sixteenth of it per worker.
            if self._unchecked_bytes * 16 >= self.max_bytes:
                self._unchecked_bytes = 0
                self._prune_bytes(connection)

    def _prune_bytes(self, connection: Any) -> None:
        """Drop the oldest entries until the journal holds at most ``max_bytes``."""
        total = connection.execute("SELECT COALESCE(SUM(size), 0) FROM journal").fetchone()[0]
        excess = total - self.max_bytes
        if excess <= 0:
            return
        dropped, cutoff = 0, None
        for seq, size in connection.execute("SELECT seq, size FROM journal ORDER BY seq"):
            dropped += size
            cutoff = seq
            if dropped >= excess:
                break
        if cutoff is not None:
            connection.execute("DELETE FROM journal WHERE seq <= ?", (cutoff,))

    def rows(self, filters: Mapping[str, Any], limit: int | None) -> Iterator[tuple[int, str]]:
        where, values = _where(filters)
        if limit is not None:
            if limit <= 0:
                return
            # The last `limit` entries: read newest first, LIMIT in SQL, sent oldest first.
            query = f"SELECT seq, entry FROM journal WHERE {where} ORDER BY seq DESC LIMIT ?"
            with self._db.connection() as connection:
                found = connection.execute(query, [*values, limit]).fetchall()
            yield from reversed(found)
            return
        # Everything: one short query per page (keyset), so no read holds a connection
        # while a slow client takes the answer.
        query = f"SELECT seq, entry FROM journal WHERE {where} AND seq > ? ORDER BY seq LIMIT ?"
        after = 0
        while True:
            with self._db.connection() as connection:
                found = connection.execute(query, [*values, after, _PAGE_ROWS]).fetchall()
            yield from found
            if len(found) < _PAGE_ROWS:
                return
            after = found[-1][0]

    def summaries(
        self, filters: Mapping[str, Any], after: int, before: int | None, limit: int
    ) -> list[tuple[int, str]]:
        if limit <= 0:
            return []
        where, values = _where(filters)
        query = (
            f"SELECT seq, COALESCE(summary, entry) FROM journal WHERE {where}"
            " AND seq > ? AND seq < ? ORDER BY seq DESC LIMIT ?"
        )
        upper = _NO_SEQ_ABOVE if before is None else before
        with self._db.connection() as connection:
            found: list[tuple[int, str]] = connection.execute(
                query, [*values, after, upper, limit]
            ).fetchall()
        return found

    def entry(self, seq: int) -> str | None:
        with self._db.connection() as connection:
            found = connection.execute("SELECT entry FROM journal WHERE seq = ?", (seq,)).fetchone()
        return None if found is None else str(found[0])

    def oldest_seq(self) -> int | None:
        with self._db.connection() as connection:
            oldest: int | None = connection.execute("SELECT MIN(seq) FROM journal").fetchone()[0]
        return oldest

    def clear(self) -> int:
        with self._db.transaction() as connection:
            removed: int = connection.execute("DELETE FROM journal").rowcount
            connection.execute(
                "INSERT OR REPLACE INTO journal_meta (name, value) VALUES ('cleared_at', ?)",
                (time.time(),),
            )
        return removed

    def cleared_at(self) -> float:
        with self._db.connection() as connection:
            found = connection.execute(
                "SELECT value FROM journal_meta WHERE name = 'cleared_at'"
            ).fetchone()
        return 0.0 if found is None else float(found[0])

    def wait_for_writers(self, wait_here: Callable[[float], None], timeout_s: float) -> None:
        wait_here(timeout_s)  # one machine: its workers are all the writers

    def answer_waits(self, wait_here: Callable[[float], None]) -> None:
        pass


def _where(filters: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """The SQL condition for exact column values (names checked against :data:`COLUMNS`)."""
    clauses, values = [], []
    for name, value in filters.items():
        if name not in COLUMNS:
            raise KeyError(name)
        clauses.append(f"{name} = ?")
        values.append(value)
    return " AND ".join(clauses) or "1", values


def _flat(rows: Sequence[JournalRow], each: Callable[[JournalRow], Any] = tuple) -> list[Any]:
    return [value for row in rows for value in each(row)]


def _encodable(row: JournalRow) -> list[Any]:
    return [
        value.encode("utf-8", "replace").decode() if isinstance(value, str) else value
        for value in row
    ]
