"""The default state backend: one SQLite file the workers of one machine share."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from mockserver.config import DEFAULT_JOURNAL_MAX_BYTES
from mockserver.db import Database, SharedCounter, TemporaryState
from mockserver.journal_store import TABLES as JOURNAL_TABLES
from mockserver.journal_store import SqliteJournalStore
from mockserver.store import TABLES as RESPONSE_TABLES
from mockserver.store import ResponseStore
from mockserver.stubs import Stub, dump_definition, load_stub

T = TypeVar("T")

STUB_TABLES = (
    """CREATE TABLE IF NOT EXISTS stubs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT UNIQUE NOT NULL,
        priority INTEGER NOT NULL,
        times INTEGER,
        used INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL,
        definition TEXT NOT NULL
    )""",
)
# Every table the state needs; each store contributes its own DDL.
TABLES = (*RESPONSE_TABLES, *STUB_TABLES, *JOURNAL_TABLES)


class SqliteStubRows:
    """The ``stubs`` table; the generation is a counter in a small file beside it."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._generation = SharedCounter(db.path.with_name(db.path.name + ".stubs"))

    def add(self, stubs: Sequence[Stub], keep_same: bool = False) -> None:
        with self._db.transaction() as connection:
            for stub in stubs:
                definition = dump_definition(stub)
                if (
                    keep_same
                    and connection.execute(
                        "SELECT 1 FROM stubs WHERE id = ? AND definition = ?", (stub.id, definition)
                    ).fetchone()
                ):
                    continue
                connection.execute(
                    "INSERT OR REPLACE INTO stubs (id, priority, times, used, created, definition)"
                    " VALUES (?, ?, ?, 0, ?, ?)",
                    (stub.id, stub.priority, stub.times, time.time(), definition),
                )
        self.bump()

    def listing(self) -> list[Stub]:
        with self._db.connection() as connection:
            rows = connection.execute(
                "SELECT seq, definition, used FROM stubs ORDER BY priority DESC, seq DESC"
            ).fetchall()
        return [load_stub(seq, definition, used) for seq, definition, used in rows]

    def usable(self) -> list[Stub]:
        with self._db.connection() as connection:
            rows = connection.execute(
                "SELECT seq, definition, used FROM stubs WHERE times IS NULL OR used < times"
            ).fetchall()
        return [load_stub(*row) for row in rows]

    def clear(self) -> int:
        with self._db.transaction() as connection:
            removed: int = connection.execute("DELETE FROM stubs").rowcount
        self.bump()
        return removed

    def delete(self, stub_id: str) -> bool:
        with self._db.transaction() as connection:
            removed = connection.execute("DELETE FROM stubs WHERE id = ?", (stub_id,)).rowcount
        self.bump()
        return removed > 0

    def claim(self, stub: Stub) -> int | None:
        with self._db.connection() as connection:
            # One statement, so atomic across workers without an explicit transaction.
            rows = connection.execute(
                "UPDATE stubs SET used = used + 1"
                " WHERE seq = ? AND (times IS NULL OR used < times) RETURNING used",
                (stub.seq,),
            ).fetchall()
        return int(rows[0][0]) if rows else None

    def generation(self) -> int:
        return self._generation.value

    def bump(self) -> None:
        self._generation.add(1)

    def close(self) -> None:
        self._generation.close()


class SqliteState:
    """Stored responses, stubs and the journal in one SQLite file (WAL; see :mod:`db`)."""

    def __init__(
        self,
        path: Path,
        max_bytes: int | None = None,
        journal_max_bytes: int = DEFAULT_JOURNAL_MAX_BYTES,
        *,
        durable: bool = True,
        temporary: TemporaryState | None = None,
    ) -> None:
        """``temporary``: the folder ``path`` was made in for this state alone, removed by
        :meth:`close`."""
        self._temporary = temporary
        self.db = Database(path, schema=TABLES, max_bytes=max_bytes, durable=durable)
        self.responses = ResponseStore(self.db)
        self.stubs = SqliteStubRows(self.db)
        self.journal = SqliteJournalStore(self.db, journal_max_bytes)

    @property
    def description(self) -> str:
        return f"the state file {self.db.path}"

    @property
    def path(self) -> Path:
        return self.db.path

    def freeing(self, operation: Callable[[], T]) -> T:
        return self.db.freeing(operation)

    def close(self) -> None:
        self.stubs.close()
        self.db.close()
        if self._temporary is not None:
            self._temporary.remove()
