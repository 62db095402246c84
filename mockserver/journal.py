"""The request journal: what each API request sent, how it validated, what it got.

Entries are written by one thread per process, in batches, off the response's path: a body
already in memory is queued as it is handed to the server, a stream after its last byte
(``call_on_close``). No first byte waits on the disk, and the table is capped at
:data:`MAX_ENTRIES` (oldest dropped) so a long load test cannot fill the disk.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from mockserver.db import Database, SharedTally

log = logging.getLogger(__name__)

MAX_ENTRIES = 10_000
# Bodies larger than this are kept as a truncated string, not parsed JSON.
MAX_BODY_CHARS = 256 * 1024
_PRUNE_EVERY = 200
# Entries written in one transaction at most.
_BATCH_MAX = 500

TABLES = (
    """CREATE TABLE IF NOT EXISTS journal (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        entry TEXT NOT NULL,
        path TEXT NOT NULL,
        method TEXT NOT NULL,
        status INTEGER NOT NULL,
        model TEXT,
        stub_id TEXT
    )""",
)
FILTERS = ("path", "method", "status", "model", "stub_id")


@dataclass
class JournalEntry:
    """One API request as the journal keeps it."""

    method: str
    path: str
    body: Any = None
    status: int = 0
    valid: bool | None = None
    violations: list[dict[str, str]] = field(default_factory=list)
    stub_id: str | None = None
    fault: str | None = None
    stream: bool = False
    time: float = field(default_factory=time.time)

    @property
    def model(self) -> str | None:
        model = self.body.get("model") if isinstance(self.body, Mapping) else None
        return model if isinstance(model, str) else None


def body_for_journal(raw: bytes) -> Any:
    """The body as JSON when it is JSON and not huge, else as (truncated) text."""
    text = raw.decode("utf-8", errors="replace")
    if len(text) > MAX_BODY_CHARS:
        return text[:MAX_BODY_CHARS] + "…(truncated)"
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python parses
        return text


class Journal:
    """The journal table, and this process's writer that fills it in batches."""

    def __init__(self, db: Database) -> None:
        self._db = db
        # Responses sent but not yet journaled, across every worker (see _Completion).
        self.finishing = SharedTally(db.path.with_name(db.path.name + ".finishing"))
        self._queue: queue.SimpleQueue[tuple[JournalEntry, bool]] | None = None
        self._queue_pid: int | None = None
        self._start_lock = threading.Lock()

    def wait_for_pending(self, timeout_s: float = 2.0) -> None:
        """Wait until every response already sent has been journaled (bounded)."""
        deadline = time.monotonic() + timeout_s
        while self.finishing.value > 0 and time.monotonic() < deadline:
            time.sleep(0.002)

    def submit(self, entry: JournalEntry, counted: bool) -> None:
        """Queue an entry for this process's writer; ``counted`` if it holds a finishing count.

        One writer thread per process turns many requests into one transaction: with one
        transaction per request, the workers' threads queue on SQLite's write lock, whose
        busy handler sleeps in milliseconds, and throughput and p99 collapse under load.
        """
        self._writer_queue().put((entry, counted))

    def _writer_queue(self) -> queue.SimpleQueue[tuple[JournalEntry, bool]]:
        pid = os.getpid()
        if self._queue is None or self._queue_pid != pid:  # new process (after a fork)
            with self._start_lock:
                if self._queue is None or self._queue_pid != pid:
                    pending: queue.SimpleQueue[tuple[JournalEntry, bool]] = queue.SimpleQueue()
                    threading.Thread(
                        target=self._write_forever, args=(pending,), name="journal", daemon=True
                    ).start()
                    atexit.register(self._write_batch, pending)  # what is left at exit
                    self._queue, self._queue_pid = pending, pid
        return self._queue

    def _write_forever(self, pending: queue.SimpleQueue[tuple[JournalEntry, bool]]) -> None:
        while True:
            first = pending.get()
            self._write_batch(pending, first)

    def _write_batch(
        self,
        pending: queue.SimpleQueue[tuple[JournalEntry, bool]],
        first: tuple[JournalEntry, bool] | None = None,
    ) -> None:
        batch = [first] if first is not None else []
        while len(batch) < _BATCH_MAX:
            try:
                batch.append(pending.get_nowait())
            except queue.Empty:
                break
        if not batch:
            return
        try:
            self.record_many([entry for entry, _ in batch])
        except Exception:
            # The answers have gone out already; a journal that cannot be written (disk
            # full, a locked file) must not turn into an error the client never asked
            # about, nor end this thread, which writes every later entry of the process.
            log.warning("could not journal %d requests", len(batch), exc_info=True)
        finally:
            counted = sum(1 for _, is_counted in batch if is_counted)
            if counted:
                self.finishing.add(-counted)

    def record(self, entry: JournalEntry) -> None:
        self.record_many([entry])

    def record_many(self, entries: list[JournalEntry]) -> None:
        rows = [
            (
                _entry_json(entry),
                entry.path,
                entry.method,
                entry.status,
                entry.model,
                entry.stub_id,
            )
            for entry in entries
        ]
        with self._db.transaction() as connection:
            connection.executemany(
                "INSERT INTO journal (entry, path, method, status, model, stub_id)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            last = connection.execute("SELECT MAX(seq) FROM journal").fetchone()[0] or 0
            if last % _PRUNE_EVERY < len(rows):  # crossed a pruning boundary
                connection.execute("DELETE FROM journal WHERE seq <= ?", (last - MAX_ENTRIES,))

    def entries(
        self, filters: Mapping[str, str] | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Entries oldest first, filtered by exact column values (``status`` as a number)."""
        clauses, values = [], []
        for name, value in (filters or {}).items():
            if name not in FILTERS:
                raise KeyError(name)
            clauses.append(f"{name} = ?")
            values.append(int(value) if name == "status" else value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        query = f"SELECT seq, entry FROM journal{where} ORDER BY seq"
        with self._db.connection() as connection:
            rows = connection.execute(query, values).fetchall()
        if limit is not None:
            rows = rows[-limit:] if limit > 0 else []
        return [{"seq": seq, **json.loads(entry)} for seq, entry in rows]

    def clear(self) -> int:
        with self._db.transaction() as connection:
            return connection.execute("DELETE FROM journal").rowcount


def _entry_json(entry: JournalEntry) -> str:
    # orjson writes the dataclass as it is, without asdict's deep copy of the body; what it
    # refuses (lone surrogates, integers beyond 64 bits) goes through the standard library.
    try:
        return orjson.dumps(entry, default=str).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):
        pass
    try:
        return json.dumps(asdict(entry), ensure_ascii=True, default=str)
    except RecursionError:  # a body nested deeper than Python recurses: keep the rest
        entry = dataclasses.replace(entry, body="(a body nested too deeply to record)")
        return json.dumps(asdict(entry), ensure_ascii=True, default=str)


def journal_response(
    journal: Journal, entry: JournalEntry, response: Response, request: Request
) -> None:
    """Have ``entry`` written by this process's writer, off the response's path.

    A body already in memory (a list of bytes) is queued now: the writer thread writes it
    while the server sends. A streamed body is queued after its last byte, so the entry
    tells how the stream ended; see :class:`_Completion`.
    """
    entry.status = response.status_code
    entry.stream = response.mimetype == "text/event-stream"
    if entry.body is None:
        entry.body = _raw_body(request)
    if isinstance(response.response, list):
        journal.finishing.add(1)
        journal.submit(entry, counted=True)
        return
    completion = _Completion(journal, entry)
    response.response = completion.watch(response.response)
    response.call_on_close(completion.record)


def _raw_body(request: Request) -> Any:
    try:
        return body_for_journal(request.get_data(cache=True))
    except HTTPException:  # a body over the size limit: it was refused unread
        return None


class _Completion:
    """Records an entry once its response is out, and tells readers a record is on its way.

    The entry is written after the last byte is sent, so the response never waits on the
    disk. A client can then ask the journal for that request before the write lands; so the
    count of responses that are finishing is shared by every worker (a small file beside
    the state database) and a journal read waits, briefly, until it is zero.
    """

    def __init__(self, journal: Journal, entry: JournalEntry) -> None:
        self._journal = journal
        self._entry = entry
        self._finishing = False

    def watch(self, body: Iterable[Any]) -> Iterator[Any]:
        # Hold one chunk back, so the count goes up before the last one is handed over.
        iterator = iter(body)
        try:
            previous = next(iterator)
        except StopIteration:
            self._mark_finishing()
            return
        for chunk in iterator:
            yield previous
            previous = chunk
        self._mark_finishing()
        yield previous

    def _mark_finishing(self) -> None:
        if not self._finishing:
            self._finishing = True
            self._journal.finishing.add(1)

    def record(self) -> None:
        self._journal.submit(self._entry, counted=self._finishing)
