"""The request journal: what each API request sent, how it validated, what it got.

Entries are written by one thread per process, in batches, off the response's path: a body
already in memory is queued as it is handed to the server, a stream after its last byte
(``call_on_close``). No first byte waits on the disk. What is queued is the entry already
turned into its stored row, on the request's own thread (see :meth:`Journal.submit`). The
writer's transactions are at least :data:`WRITE_GAP_S` apart, so under load each carries
many entries; a journal read asks the writers to write at once (:class:`_FlushRequests`), so
it never waits out the gap.

The journal is bounded twice, so neither a long load test nor a few huge requests fill the
disk: it keeps at most :data:`MAX_ENTRIES` entries and about ``max_bytes`` of them (oldest
dropped), and an entry keeps at most ``body_max_bytes`` of its request body: a larger body is
kept as the start of its text, marked ``…(truncated)``, with ``body_truncated`` and
``body_size`` (the bytes sent) saying so; so is the response body (``response_body``, a
stream as its text, with ``response_body_truncated`` and ``response_body_size``). An entry
also keeps the request id, the latency and both ways' headers, secrets masked
(:mod:`mockserver.journal_capture`). Where entries are kept is a
:class:`~mockserver.storage.JournalStorage` (the SQLite file, :mod:`mockserver.journal_store`,
or Redis); reads are paged there and send the stored JSON as it is.
"""

from __future__ import annotations

import itertools
import json
import logging
import mmap
import operator
import os
import queue
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, NamedTuple

import orjson
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from mockserver import fork_guard, process_exit
from mockserver.config import DEFAULT_JOURNAL_BODY_MAX_BYTES, DEFAULT_JOURNAL_MAX_BYTES
from mockserver.db import Database, SharedTally, StateFull
from mockserver.journal_capture import (
    MAX_BODY_CREDENTIALS,
    BoundedChunks,
    RenderedJson,
    body_credentials,
    bounded_body,
    bounded_label,
    joined,
    masked_headers,
    masked_request_headers,
    request_header_items,
    summary_json,
    without_credentials,
)
from mockserver.journal_store import (
    COLUMNS,
    MAX_ENTRIES,
    TABLES,
    SqliteJournalStore,
    filter_value,
)
from mockserver.storage import JournalRow, JournalStorage, StateUnavailable, StoreFull

log = logging.getLogger(__name__)

__all__ = ["MAX_ENTRIES", "TABLES"]  # kept where they were (see mockserver.journal_store)

TRUNCATED = "…(truncated)"
# What an entry keeps of the bodies of a request with too many credentials in its tools.
_WITHHELD = f"(not kept: the tools carried more than {MAX_BODY_CREDENTIALS} credentials)"
# Entries written in one transaction at most.
_BATCH_MAX = 500
# The least time between two of a writer's transactions. A transaction costs some 80 µs of
# CPU whatever it carries, and a row 10 µs more: one per entry was a third of a varied chat
# request's cost, because the writer, woken by each entry, ran whenever a request thread let
# go of the GIL (the tokenizer does, for each text). Waiting lets entries gather; a read
# does not wait for it (see _FlushRequests).
WRITE_GAP_S = 0.02
# How long a process's exit waits for the batch its writer is writing (a stopping server
# gives its workers 5 s in all).
EXIT_WAIT_S = 3.0
# The least byte budget of the entries waiting for a process's writer (see Journal.submit);
# a journal kept larger than this (its max_bytes) gets its own size as the budget.
WAITING_MIN_BYTES = 16 * 1024 * 1024
# How often a writer waiting out the gap looks whether a reader wants its entries now.
_FLUSH_POLL_S = 0.002
FILTERS = COLUMNS
# Where an API request's entry is left in its WSGI environ, for the access log to read.
ENTRY_ENVIRON_KEY = "mockserver.journal_entry"
# The clock of an entry's latency (the entry's field `time` hides the module in its class).
_clock = time.perf_counter


@dataclass
class JournalEntry:
    """One API request as the journal keeps it."""

    method: str
    path: str
    body: Any = None
    body_size: int = 0  # the bytes of the body as sent
    body_truncated: bool = False
    status: int = 0
    valid: bool | None = None
    violations: list[dict[str, str]] = field(default_factory=list)
    stub_id: str | None = None
    fault: str | None = None
    stream: bool = False
    time: float = field(default_factory=time.time)
    request_id: str | None = None
    # From the request's arrival to its answer handed over (a stream: to its last byte).
    latency_ms: float | None = None
    # Secret-named headers masked (see mockserver.journal_capture).
    request_headers: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    # Bounded as the request body is: JSON as JSON, a stream as its text.
    response_body: Any = None
    response_body_size: int = 0
    response_body_truncated: bool = False
    # Not part of the entry: the model of a body kept truncated (its text no longer says),
    # and what the request's path captured by reference for the writer to settle.
    model_of_truncated: str | None = field(default=None, repr=False)
    started: float = field(default_factory=_clock, repr=False)
    sent: _Sent | None = field(default=None, repr=False)
    # The credentials the body carries (journal_capture.body_credentials): masked wherever
    # the entry holds them, its body and the answer that echoes them.
    credentials: frozenset[str] = field(default=frozenset(), repr=False)

    @property
    def model(self) -> str | None:
        """The body's model, as the lists show and filter it (bounded: a request names its
        model, and every page of the dashboard lists it)."""
        if self.body_truncated:
            return self.model_of_truncated
        model = self.body.get("model") if isinstance(self.body, Mapping) else None
        return bounded_label(model) if isinstance(model, str) else None

    def cap_body(self, raw: bytes | None, max_bytes: int) -> None:
        """Keep the body (``raw``, as sent) whole up to ``max_bytes``, else its start, marked."""
        if raw is None:
            return
        self.body_size = len(raw)
        if len(raw) > max_bytes:
            self.model_of_truncated = self.model
            # errors="ignore" drops only a character cut in two at the end.
            self.body = raw[:max_bytes].decode("utf-8", errors="ignore") + TRUNCATED
            self.body_truncated = True
        elif self.body is None:
            self.body = body_for_journal(raw)

    def capture(self, request: Request, response: Response, chunks: Any) -> None:
        """Keep what the writer settles: the request's header items (not the environ: held
        until the writer runs, its cycle with the request would outlive the young garbage
        collections, which then cost every request), references to the response's headers
        and ``chunks`` (the body's, or a :class:`BoundedChunks` a stream fills)."""
        headers = request_header_items(request.environ)
        rendered = isinstance(response, RenderedJson)
        self.sent = _Sent(headers, response.headers, chunks, rendered)

    def settle(self, max_bytes: int) -> None:
        """Turn what :meth:`capture` kept into the entry's fields (in the writer thread)."""
        sent, self.sent = self.sent, None
        if sent is None:
            return
        self.request_headers = masked_request_headers(sent.request_headers)
        self.response_headers = masked_headers(sent.headers.items())
        self.request_id = sent.headers.get("x-request-id")
        if isinstance(sent.chunks, BoundedChunks):
            raw, size = joined(sent.chunks.chunks), sent.chunks.size
        else:
            raw = joined(sent.chunks)
            size = len(raw)
        self.response_body_size = size
        if sent.rendered_json and size <= max_bytes:
            self.response_body = orjson.Fragment(raw)  # written as it is (RenderedJson)
            self.response_body_truncated = False
            return
        self.response_body, self.response_body_truncated = bounded_body(
            raw, size, max_bytes, stream=self.stream, truncated_marker=TRUNCATED
        )

    def mark_answered(self) -> None:
        self.latency_ms = round((_clock() - self.started) * 1000, 3)


@dataclass
class _Sent:
    request_headers: list[tuple[str, Any]]  # the environ's items that hold them
    headers: Any  # the response's werkzeug Headers
    chunks: Any  # list[bytes], or BoundedChunks
    rendered_json: bool = False  # the body is JSON the mock rendered (RenderedJson)


# What an entry shows: every field but the internal ones.
_SHOWN = tuple(
    f.name
    for f in fields(JournalEntry)
    if f.name not in ("model_of_truncated", "started", "sent", "credentials")
)
_shown_values = operator.attrgetter(*_SHOWN)


def body_for_journal(raw: bytes) -> Any:
    """The body as JSON when it is JSON, else as text."""
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python parses
        return text


class Journal:
    """The journal's storage, and this process's writer that fills it in batches.

    ``store``: a :class:`JournalStorage`, or a SQLite :class:`Database` to keep it in.
    ``local_path``: where this machine's workers share their small counters (default:
    beside the database).
    """

    def __init__(
        self,
        store: JournalStorage | Database,
        body_max_bytes: int = DEFAULT_JOURNAL_BODY_MAX_BYTES,
        max_bytes: int = DEFAULT_JOURNAL_MAX_BYTES,
        *,
        local_path: Path | None = None,
    ) -> None:
        if isinstance(store, Database):
            local_path = local_path or store.path
            store = SqliteJournalStore(store, max_bytes)
        if local_path is None:
            raise ValueError("a journal not on a Database needs a local_path")
        self._store = store
        self.body_max_bytes = body_max_bytes
        self.max_bytes = max_bytes
        # Responses sent but not yet journaled, across every worker of this machine (see
        # _Completion; mockserver.storage says why a count on the request path stays local).
        self.finishing = SharedTally(local_path.with_name(local_path.name + ".finishing"))
        self._flush_requests = _FlushRequests(local_path.with_name(local_path.name + ".flush"))
        self._queue: queue.SimpleQueue[Waiting] | None = None
        self._queue_pid: int | None = None
        # The entry this process's writer has taken and is waiting to write (see
        # _write_forever); a list, so that taking it is one atomic pop.
        self._held: list[Waiting] = []
        self._start_lock = threading.Lock()
        # Entries waiting past this many are older than the journal keeps (see
        # _past_the_backlog).
        self._backlog_max = MAX_ENTRIES
        # The bytes of the entries this process has queued and its writer not yet let go,
        # and how many its requests dropped to stay within them (see submit).
        self.waiting_bytes = 0
        self.waiting_max_bytes = max(max_bytes, WAITING_MIN_BYTES)
        self._waiting_lock = threading.Lock()
        self._shed_unlogged = 0
        # This process's writer and its exit hook (see _writer_queue), for close().
        self._writer: threading.Thread | None = None
        self._exit_hook: Callable[[], Any] | None = None
        self._closed = False

    def close(self) -> None:
        """Write the entries still waiting, end this process's writer, unmap the shared
        counts (an app closed before its process exits: :func:`mockserver.close_app`).

        Idempotent. A request still running afterwards is answered; its entry is dropped
        (the store it would go to is being closed).
        """
        with self._start_lock:
            if self._closed:
                return
            self._closed = True
            writer, hook, pending = self._writer, self._exit_hook, self._queue
            self._writer = self._exit_hook = None
        if writer is not None and pending is not None and self._queue_pid == os.getpid():
            pending.put(_WAKE)  # the writer may be waiting for an entry
            writer.join(timeout=EXIT_WAIT_S)
        if hook is not None:
            hook()  # the exit's last write, now: run once, and unregistered
        self.finishing.close()
        self._flush_requests.close()

    def wait_for_pending(self, timeout_s: float = 2.0) -> None:
        """Wait until every response already sent has been journaled (bounded): by this
        machine's workers, and on a store several instances share, by theirs too."""
        self._store.wait_for_writers(self._wait_for_local, timeout_s)

    def _wait_for_local(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        if self.finishing.value > 0:
            self._flush_requests.ask()
        while self.finishing.value > 0 and time.monotonic() < deadline:
            time.sleep(0.002)

    def submit(self, entry: JournalEntry, counted: bool) -> None:
        """Queue an entry for this process's writer; ``counted`` if it holds a finishing count.

        One writer thread per process turns many requests into one transaction: with one
        transaction per request, the workers' threads queue on SQLite's write lock, whose
        busy handler sleeps in milliseconds, and throughput and p99 collapse under load.

        The entry is turned into its row here, on the request's thread (its response is
        out or handed over), and only the row waits: strings and numbers, nothing the
        garbage collector walks, nothing of the request kept alive. Queued as it was, with
        its request's headers, body and answer, an entry outlived the young collections
        while it waited (every collection walked the waiting ones, and moved them to the
        older generations, whose collections then cost every request), and the writer
        thread freed what the request threads had made (in process, the garbage collector
        took 3 to 22 µs of a varied chat request; settled here, about 1). It also bounds
        what waits by what is kept: a 1 MB answer waits as its kept start, not whole.

        What waits is bounded in bytes as well as in count (``_past_the_backlog``): a
        writer that cannot write (a store gone slow or unreachable) would otherwise hold
        10,000 entries' answers and headers, gigabytes at the limits. Past
        ``waiting_max_bytes`` the request that queues drops the oldest waiting entries,
        never its own: they would be the first pruned anyway.
        """
        pending = self._writer_queue()
        if pending is None:  # closed: see close()
            return
        waiting = self.waiting(entry, counted)
        if waiting is None:
            return
        with self._waiting_lock:
            self.waiting_bytes += waiting.weight
            over = self.waiting_bytes > self.waiting_max_bytes
        pending.put(waiting)
        if over:
            self._shed_oldest(pending)

    def waiting(self, entry: JournalEntry, counted: bool) -> Waiting | None:
        """``entry`` as it waits for the writer: its row, settled now; ``None`` (logged, its
        finishing count released) for an entry that cannot be written."""
        try:
            row = self._row(entry)
        except Exception:
            # One entry that cannot be written must not cost its request its answer.
            log.warning("could not journal a request to %s", entry.path, exc_info=True)
            if counted:
                self.finishing.add(-1)
            return None
        return Waiting(row, entry.time, counted, _WAITING_OVERHEAD_BYTES + row.size)

    def _shed_oldest(self, pending: queue.SimpleQueue[Waiting]) -> None:
        while pending.qsize() > 1:  # the newest entry, this request's, stays
            with self._waiting_lock:
                if self.waiting_bytes <= self.waiting_max_bytes:
                    return
            try:
                oldest = pending.get_nowait()
            except queue.Empty:
                return
            self._let_go([oldest])
            with self._waiting_lock:
                self._shed_unlogged += 1

    def _let_go(self, taken: list[Waiting]) -> None:
        """Entries taken from the queue and written or dropped: their bytes and their
        finishing counts are released."""
        with self._waiting_lock:
            self.waiting_bytes -= sum(waiting.weight for waiting in taken)
        counted = sum(1 for waiting in taken if waiting.counted)
        if counted:
            self.finishing.add(-counted)

    def _writer_queue(self) -> queue.SimpleQueue[Waiting] | None:
        """This process's queue, its writer started with the first entry; None once closed."""
        pid = os.getpid()
        if self._closed:
            return None
        if self._queue is None or self._queue_pid != pid:  # new process (after a fork)
            with self._start_lock:
                if self._closed:
                    return None
                if self._queue is None or self._queue_pid != pid:
                    pending: queue.SimpleQueue[Waiting] = queue.SimpleQueue()
                    # Held while the writer writes a batch: the exit's last write waits for
                    # it, since the writer is a daemon thread that the exit does not wait for,
                    # and so does a fork (SQLite's locks are not fork-safe: fork_guard).
                    writing = threading.Lock()
                    fork_guard.guard_at_fork(writing)
                    self._writer = threading.Thread(
                        target=self._write_forever,
                        args=(pending, writing),
                        name="journal",
                        daemon=True,
                    )
                    self._writer.start()
                    self._exit_hook = process_exit.at_exit(
                        self._write_at_exit, pending, writing, priority=process_exit.JOURNAL
                    )
                    self._queue, self._queue_pid = pending, pid
                    # This process now holds entries other instances' reads may wait for.
                    self._store.answer_waits(self._wait_for_local)
        return self._queue

    def _write_forever(self, pending: queue.SimpleQueue[Waiting], writing: threading.Lock) -> None:
        last_write = -WRITE_GAP_S
        asked = self._flush_requests.count()
        while not self._closed:  # close() writes what is left after this returns
            taken = pending.get()
            if taken is _WAKE:
                continue
            # The entry waits out the gap where the exit's last write finds it too.
            self._held.append(taken)
            asked = self._wait_for_company(last_write, asked)
            with writing:
                self._write_batch(pending, self._take_held())
            last_write = time.monotonic()

    def _write_at_exit(self, pending: queue.SimpleQueue[Waiting], writing: threading.Lock) -> None:
        """Write what is left at exit: the entry the writer holds, if any, and the queue,
        after the batch the writer may be writing (waited for at most EXIT_WAIT_S)."""
        # Kept once taken: the writer, a daemon thread that runs on while the process
        # exits, writes nothing after this (a temporary state file is removed next).
        writing.acquire(timeout=EXIT_WAIT_S)
        self._write_batch(pending, self._take_held())
        while not pending.empty():
            self._write_batch(pending)

    def _take_held(self) -> Waiting | None:
        try:
            return self._held.pop()  # atomic: the writer or the exit gets it, never both
        except IndexError:
            return None

    def _wait_for_company(self, last_write: float, asked: int) -> int:
        """Sleep until :data:`WRITE_GAP_S` after the last write, or until a reader asks.

        Returns the count of reader requests seen, to tell the next request from this one.
        """
        while True:
            now_asked = self._flush_requests.count()
            left = last_write + WRITE_GAP_S - time.monotonic()
            if now_asked != asked or left <= 0:
                return now_asked
            time.sleep(min(left, _FLUSH_POLL_S))

    def _write_batch(
        self,
        pending: queue.SimpleQueue[Waiting],
        first: Waiting | None = None,
    ) -> None:
        batch = [first] if first is not None else []
        while len(batch) < _BATCH_MAX:
            try:
                taken = pending.get_nowait()
            except queue.Empty:
                break
            if taken is not _WAKE:
                batch.append(taken)
        with self._waiting_lock:
            shed, self._shed_unlogged = self._shed_unlogged, 0
        if shed:
            log.warning(
                "journal writer behind: %d older entries dropped unwritten (over %d bytes)",
                shed,
                self.waiting_max_bytes,
            )
        batch = self._past_the_backlog(pending, batch)
        if not batch:
            return
        try:
            self.write_rows(batch)
        except StateFull:
            log.warning("could not journal %d requests: the state file's disk is full", len(batch))
        except StoreFull:
            log.warning(
                "could not journal %d requests: the state store is full (free space with "
                "DELETE /_mock/requests)",
                len(batch),
            )
        except StateUnavailable:
            log.warning("could not journal %d requests: the state store is unreachable", len(batch))
        except Exception:
            # The answers have gone out already; a journal that cannot be written (disk
            # full, a locked file) must not turn into an error the client never asked
            # about, nor end this thread, which writes every later entry of the process.
            log.warning("could not journal %d requests", len(batch), exc_info=True)
        finally:
            self._let_go(batch)

    def _past_the_backlog(
        self,
        pending: queue.SimpleQueue[Waiting],
        batch: list[Waiting],
    ) -> list[Waiting]:
        """``batch``, less what a writer fallen behind would write only to prune at once.

        Requests can outrun the writer (a single thread answering in a tight loop does; the
        writer gets the GIL only now and then): the entries then waiting, and their memory,
        would grow for as long as the load lasts. The journal keeps this process's newest
        MAX_ENTRIES at most, so older waiting entries are dropped unwritten, oldest first:
        what is read afterwards is what writing them all would have left.
        """
        excess = pending.qsize() + len(batch) - self._backlog_max
        if excess <= 0:
            return batch
        dropped, batch = batch[:excess], batch[excess:]
        while len(dropped) < excess:
            try:
                dropped.append(pending.get_nowait())
            except queue.Empty:
                break
        self._let_go(dropped)
        log.warning("journal writer behind: %d older entries dropped unwritten", len(dropped))
        return batch

    def record_many(self, entries: list[JournalEntry]) -> None:
        """Write ``entries`` now, on this thread (the writer writes what :meth:`submit`
        queued)."""
        waiting = (self.waiting(entry, counted=False) for entry in entries)
        self.write_rows([each for each in waiting if each is not None])

    def write_rows(self, batch: list[Waiting]) -> None:
        """Append the rows of ``batch`` to the store, in one go."""
        # A request that arrived before the journal was last cleared belongs to what was
        # cleared: answered after the clear (a held fault, a slow stream, a client that gave
        # up), its entry would otherwise show up in the next test's journal.
        cleared_at = self._store.cleared_at()
        self._store.append([waiting.row for waiting in batch if waiting.time >= cleared_at])

    def _row(self, entry: JournalEntry) -> JournalRow:
        entry.settle(self.body_max_bytes)
        shown = _shown(entry)
        too_many = len(entry.credentials) > MAX_BODY_CREDENTIALS
        if too_many:  # too many to search the entry for: its bodies are not kept
            shown["body"] = shown["response_body"] = _WITHHELD
        text, size = _entry_json(shown)
        if entry.credentials and not too_many:
            text = without_credentials(text, entry.credentials, TRUNCATED)
            size = len(text.encode("utf-8"))
        model = entry.model
        return JournalRow(
            text,
            entry.path,
            entry.method,
            entry.status,
            model,
            entry.stub_id,
            size,
            entry.valid,
            entry.fault,
            summary_json(shown, model),
        )

    def read(self, filters: Mapping[str, str] | None = None, limit: int | None = None) -> Query:
        """The entries to list, oldest first, filtered by exact column values.

        Raises ``KeyError`` for an unknown filter and ``ValueError`` for a ``status`` that
        is not a number, before anything is read.
        """
        chosen: dict[str, Any] = {}
        for name, value in (filters or {}).items():
            if name not in FILTERS:
                raise KeyError(name)
            chosen[name] = filter_value(name, value)
        return Query(self._store, chosen, limit)

    def entries(
        self, filters: Mapping[str, str] | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Entries oldest first, as dicts (``limit``: the last that many)."""
        return [json.loads(text) for text in self.read(filters, limit).texts()]

    def clear(self) -> int:
        return self._store.clear()


class Waiting(NamedTuple):
    """An entry waiting for its process's writer: its row, and what the queue accounts."""

    row: JournalRow
    time: float  # the entry's (see write_rows)
    counted: bool  # it holds a finishing count (see _Completion)
    weight: int  # the bytes it holds (see submit)


# What a waiting entry holds beyond its row's text (the row's other fields, the tuples).
_WAITING_OVERHEAD_BYTES = 512
# What close() puts in the writer's queue to wake it: not an entry, never written.
_WAKE = Waiting(JournalRow("", "", "", 0, None, None, 0), 0.0, False, 0)


class _FlushRequests:
    """A count of journal reads waiting for entries, shared by every worker process.

    A reader adds one; each process's writer, waiting out the gap between its transactions,
    writes at once when the count has changed. A plain mapped integer, read without a lock
    or a system call: the writer reads it every few milliseconds while it waits, and a
    change lost to a race between two readers only makes the writer wait out its gap.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        # Shared (MAP_SHARED): a forked worker's inherited mapping is the same file still.
        self._map: mmap.mmap | None = None
        self._closed = False
        # Mapped now, not by the writer thread's first look: a thread started just before
        # the process exits could create the file while a temporary state is being removed.
        self._mapping()

    def count(self) -> int:
        try:
            return int(_FLUSH_COUNT.unpack_from(self._mapping(), 0)[0])
        except ValueError:  # closed (a read racing close() finds the map closed)
            if self._closed:
                return 0
            raise

    def ask(self) -> None:
        try:
            mapped = self._mapping()
            count = _FLUSH_COUNT.unpack_from(mapped, 0)[0]
            _FLUSH_COUNT.pack_into(mapped, 0, (count + 1) % (1 << 64))
        except ValueError:
            if not self._closed:
                raise

    def close(self) -> None:
        """Unmap the file (idempotent); a closed journal's writer no longer reads it."""
        self._closed = True
        mapped, self._map = self._map, None
        if mapped is not None:
            mapped.close()

    def _mapping(self) -> mmap.mmap:
        if self._closed:
            raise ValueError("the journal's flush requests are closed")
        if self._map is None:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                if os.fstat(fd).st_size < _FLUSH_COUNT.size:
                    os.ftruncate(fd, _FLUSH_COUNT.size)
                self._map = mmap.mmap(fd, _FLUSH_COUNT.size)
            finally:
                os.close(fd)  # the mapping stays valid without the descriptor
        return self._map


# Unsigned: the count wraps around instead of overflowing.
_FLUSH_COUNT = struct.Struct("<Q")


class Query:
    """Journal entries chosen by filters, read page by page as JSON text."""

    def __init__(self, store: JournalStorage, filters: dict[str, Any], limit: int | None) -> None:
        rows = store.rows(filters, limit)
        # The first page is read now: a store that cannot be reached is an error reply
        # (StateUnavailable, a 503), not a 200 whose body breaks off.
        first = next(rows, None)
        self._rows = rows if first is None else itertools.chain([first], rows)

    def texts(self) -> Iterator[str]:
        """Each entry's JSON, ``seq`` first, oldest first (once: the rows are read as sent)."""
        for seq, entry in self._rows:
            # The stored text is an object: "seq" goes in front without parsing it.
            yield f'{{"seq":{seq},{entry[1:]}' if entry != "{}" else f'{{"seq":{seq}}}'

    def json_list(self) -> Iterator[bytes]:
        """``{"object": "list", "data": [...]}``, sent as it is read."""
        yield b'{"object":"list","data":['
        separator = b""
        for text in self.texts():
            yield separator + text.encode("utf-8", errors="surrogatepass")
            separator = b","
        yield b"]}"


def _shown(entry: JournalEntry) -> dict[str, Any]:
    """The fields an entry shows, read in one call (the request's thread pays: see submit)."""
    return dict(zip(_SHOWN, _shown_values(entry), strict=True))


def _entry_text(entry: JournalEntry) -> str:
    """A settled entry's JSON text, as stored."""
    return _entry_json(_shown(entry))[0]


def _entry_json(shown: dict[str, Any]) -> tuple[str, int]:
    """The entry's JSON text and its size in bytes, from its shown fields.

    A shallow dict of the fields: orjson writes it without asdict's deep copy of the body;
    what orjson refuses (lone surrogates, integers beyond 64 bits) goes through the standard
    library.
    """
    try:
        data = orjson.dumps(shown, default=str)
        return data.decode("utf-8"), len(data)
    except (TypeError, orjson.JSONEncodeError):
        pass
    if isinstance(shown["response_body"], orjson.Fragment):  # the standard library's turn
        shown["response_body"] = orjson.loads(orjson.dumps(shown["response_body"]))
    try:
        text = json.dumps(shown, ensure_ascii=True, default=str)
    except RecursionError:  # a body nested deeper than Python recurses: keep the rest
        shown["body"] = "(a body nested too deeply to record)"
        text = json.dumps(shown, ensure_ascii=True, default=str)
    return text, len(text)  # ASCII only


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
    entry.credentials = body_credentials(entry.body)  # learned before the body is cut
    entry.cap_body(_raw_body(request), journal.body_max_bytes)
    if isinstance(response.response, list):
        entry.mark_answered()
        entry.capture(request, response, response.response)
        journal.finishing.add(1)
        journal.submit(entry, counted=True)
        return
    entry.capture(request, response, BoundedChunks(journal.body_max_bytes))
    completion = _Completion(journal, entry)
    response.response = completion.watch(response.response)
    response.call_on_close(completion.record)


def _raw_body(request: Request) -> bytes | None:
    try:
        return request.get_data(cache=True)
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
        self._recorded = False

    def watch(self, body: Iterable[Any]) -> Iterator[Any]:
        # Hold one chunk back, so the count goes up before the last one is handed over.
        sent = self._entry.sent
        kept = sent.chunks if sent is not None else BoundedChunks(0)
        iterator = iter(body)
        try:
            try:
                previous = next(iterator)
            except StopIteration:
                self._mark_finishing()
                return
            for chunk in iterator:
                kept.add(previous)
                yield previous
                previous = chunk
            self._mark_finishing()
            kept.add(previous)
            yield previous
        finally:
            # Recorded when this body ends, however it ends (read to the end, or closed by
            # the server when the client went away), and not only by the response's close
            # callbacks: a layer that drops close() would leave the count up for good, and
            # every later journal read would wait out its timeout.
            self.record()

    def _mark_finishing(self) -> None:
        if not self._finishing:
            self._finishing = True
            self._journal.finishing.add(1)

    def record(self) -> None:
        if self._recorded:  # the body's end and the close callback both call it
            return
        self._recorded = True
        self._entry.mark_answered()
        self._journal.submit(self._entry, counted=self._finishing)
