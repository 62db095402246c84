"""The SQLite file that every server worker shares (stored responses, stubs, journal).

State that requests share cannot live in a process: with ``--workers 2`` each request may
land on either worker. SQLite in WAL mode lets all workers read while one writes. Each
process keeps a pool of connections that its threads borrow for a statement or a
transaction, so a connection is never carried across gunicorn's fork nor used by two
threads at once, and a worker with 64 threads holds only as many connections as it ever
used at the same time (each has its own caches).
"""

from __future__ import annotations

import fcntl
import logging
import mmap
import os
import queue
import shutil
import sqlite3
import struct
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from harness.errors import UsageError
from mockserver import process_exit
from mockserver.errors import SERVER_ERROR, ErrorReply, MockError

T = TypeVar("T")

# What SQLite's write-ahead log holds before it is checkpointed: SQLite's default, 1,000
# pages of 4 KiB, kept in bytes whatever the page size (see _open).
WAL_CHECKPOINT_BYTES = 4000 * 1024
# Disk held in a file beside the state file, given up when the disk is full so the admin API
# can still delete rows: as much as the write-ahead log holds before it is checkpointed,
# which a checkpoint may need to copy into the file.
RESERVE_BYTES = 4 * 1024 * 1024
log = logging.getLogger(__name__)
# Seconds a writer waits for another worker's write to finish before giving up.
BUSY_TIMEOUT_S = 10.0
PAGE_CACHE_KIB = 256
PAGE_BYTES = 16 * 1024


class StateFileError(UsageError):
    """The state file cannot be created, or opened as a SQLite database."""


class StateFull(MockError):
    """A write found no room: the state file's disk is full (or the file reached its cap)."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            ErrorReply(
                507,
                f"The mock's state file {path} is full: its disk has no space left (or the "
                "file reached its size limit). Free space with DELETE /_mock/responses, "
                "DELETE /_mock/requests or POST /_mock/reset, or on the disk.",
                type=SERVER_ERROR,
                code="state_full",
            )
        )


class StateClosed(MockError):
    """The app was closed (:func:`mockserver.close_app`): a request still running when it
    was reaches its state no more (a 503, never a traceback in the request's thread)."""

    def __init__(self, description: str) -> None:
        super().__init__(
            ErrorReply(
                503,
                f"The mock's state ({description}) was closed: this mock server is stopping.",
                type=SERVER_ERROR,
                code="state_unavailable",
            )
        )


def is_disk_full(exc: BaseException) -> bool:
    """Whether a SQLite error means no room to write (``SQLITE_FULL``)."""
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


def _rolled_back(connection: sqlite3.Connection) -> bool:
    """End the open transaction, if any; ``True`` once none is open.

    A failed ``COMMIT`` (no room for the log) leaves the transaction open, while SQLite
    rolls back by itself on some errors; a connection must go back to the pool outside
    any transaction, or its next ``BEGIN`` fails and every later use of it with it.
    """
    if connection.in_transaction:
        try:
            connection.execute("ROLLBACK")
        except sqlite3.Error:
            return False
    return True


class Database:
    """A SQLite file plus the DDL its users need, applied on first connection."""

    def __init__(
        self,
        path: Path,
        schema: Sequence[str] = (),
        max_bytes: int | None = None,
        *,
        durable: bool = True,
    ) -> None:
        """``schema``: statements run on each new connection (``CREATE ... IF NOT EXISTS``,
        and ``ALTER TABLE ... ADD COLUMN`` for files made by an older version, which fails
        harmlessly once the column is there). ``max_bytes``: the size the file may reach;
        past it a write fails as on a full disk (:class:`StateFull`). ``durable``: synced
        to disk, so that the file survives a power loss (see ``_open``)."""
        self.path = Path(path)
        self._schema = tuple(schema)
        self._max_bytes = max_bytes
        self._durable = durable
        self._pool: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._pool_pid = os.getpid()
        self._closed = False
        # Switch the file to WAL and create the tables now, once: done by the first
        # requests of several threads or workers at the same time, the switch can fail at
        # once with "database is locked", whatever the busy timeout.
        try:
            connection = self._open()
            try:
                # A file that can be read but not written (read-only, immutable) opens
                # without a word, and every write after would fail as a 500: a write that
                # changes nothing finds out now.
                version = int(connection.execute("PRAGMA user_version").fetchone()[0])
                connection.execute(f"PRAGMA user_version = {version}")
            finally:
                connection.close()
        except (OSError, sqlite3.Error) as exc:  # a folder it cannot make, a file not SQLite
            raise StateFileError(f"cannot use the state file {self.path}: {exc}") from exc
        self._reserve()

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A connection of this process's pool, for one statement or transaction.

        A write that finds the disk full raises :class:`StateFull` (a 507 to the client).
        """
        if self._closed:
            raise StateClosed(f"the state file {self.path}")
        pid = os.getpid()
        if self._pool_pid != pid:  # a forked child: the parent's connections are not ours
            self._pool, self._pool_pid = queue.LifoQueue(), pid
        pool = self._pool
        connection: sqlite3.Connection | None
        try:
            # Last in, first out: the same few connections stay in use, and warm.
            connection = pool.get_nowait()
        except queue.Empty:
            connection = self._open()
        try:
            yield connection
        except sqlite3.Error as exc:
            if not _rolled_back(connection):
                connection.close()  # stuck in a transaction: never lent again
                connection = None
            if is_disk_full(exc):
                raise StateFull(self.path) from exc
            raise
        finally:
            if connection is not None:
                pool.put(connection)
                if self._closed:  # closed while this one was lent out
                    _close_every(pool)

    def close(self) -> None:
        """Close this process's connections (the last one checkpoints the log into the
        file and removes it); a use afterwards is a :class:`StateClosed`. Idempotent; a
        connection lent out now is closed as it comes back."""
        self._closed = True
        _close_every(self._pool)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, taken at once (``BEGIN IMMEDIATE``) so writers queue cleanly."""
        with self.connection() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                _rolled_back(connection)
                raise

    def freeing(self, operation: Callable[[], T]) -> T:
        """Run ``operation``, which deletes rows, even on a full disk.

        Deleting writes before it frees anything (the changed pages go to the write-ahead
        log, which a checkpoint then copies into the file), so on a full disk a delete fails
        like any write. The reserve file beside the state file is then given up, and the
        operation run again in the room it leaves.
        """
        try:
            return operation()
        except StateFull:
            self._release_reserve()
            return operation()
        finally:
            self._make_room()

    def _make_room(self) -> None:
        """Give the log's space back to the disk, then take the reserve again if it fits.

        Rows deleted free pages inside the file, which later writes reuse; the log keeps
        its size until it is checkpointed and truncated. The checkpoint itself may need
        room: pages the log holds past the end of the file grow the file as they are copied
        in, and on a full disk that fails even when the delete fitted in the log's own space
        (the reserve untouched). The reserve is then given up for the checkpoint; left
        alone, the log could never be emptied and no later write would fit.
        """
        if not self._checkpoint():
            self._release_reserve()
            self._checkpoint()
        self._reserve()

    def _checkpoint(self) -> bool:
        """Copy the log into the file and truncate it; ``False`` when it found no room."""
        try:
            with self.connection() as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except StateFull:
            return False
        except sqlite3.Error:
            pass  # a reader holds the log: it is reused from its start at the next write
        return True

    @property
    def _reserve_path(self) -> Path:
        return self.path.with_name(self.path.name + ".reserve")

    def _reserve(self) -> None:
        """Hold :data:`RESERVE_BYTES` of disk beside the file (best effort, never an error)."""
        path = self._reserve_path
        try:
            if path.exists() and path.stat().st_size >= RESERVE_BYTES:
                return
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                os.posix_fallocate(fd, 0, RESERVE_BYTES)  # blocks really allocated
            finally:
                os.close(fd)
        except OSError as exc:  # no room for it now, or a filesystem without fallocate
            self._release_reserve()
            log.warning(
                "no %d MiB reserve beside the state file %s (%s): on a full disk, clearing "
                "the journal and the stored responses may fail too",
                RESERVE_BYTES // (1024 * 1024),
                self.path,
                exc.strerror or exc,
            )

    def _release_reserve(self) -> None:
        self._reserve_path.unlink(missing_ok=True)

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are explicit (see `transaction`).
        connection = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        # Set before anything is written, so it sizes a new file's pages only (an existing
        # file keeps its own). The journal's rows are 1 to 20 KB (a stream's is its frames):
        # on SQLite's default 4 KB pages such a row spills over a chain of pages, each
        # written and freed on its own. 16 KB pages cut a 14 KB row's insert from 29 to
        # 19 µs, steady state, and cost a 1.4 KB row 5.1 -> 5.6 µs.
        connection.execute(f"PRAGMA page_size={PAGE_BYTES}")
        connection.execute("PRAGMA journal_mode=WAL")
        # NORMAL syncs the log and the file at each checkpoint: what a file that outlives the
        # process needs to survive a power loss. A file removed at exit (the default
        # temporary state) needs none of it, and a stream's journal entry (some 20 KB) brings
        # a checkpoint every couple of hundred streams: with the syncs, varied chat streams
        # answered a quarter fewer requests a second, in alternating runs on 2 cores. A
        # crash of the process itself loses nothing either way (the log is in the OS).
        connection.execute(f"PRAGMA synchronous={'NORMAL' if self._durable else 'OFF'}")
        # Each connection has its own page cache (2 MB by default); the file is small and
        # the OS caches it anyway, so a small cache each keeps a worker's memory down.
        connection.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
        # Some builds (Debian's) overwrite every freed page: a delete then writes as much as
        # it frees, and on a full disk nothing can be deleted. The mock's state is no secret.
        connection.execute("PRAGMA secure_delete=OFF")
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        # Counted in pages: on 16 KB pages SQLite's default would let the log grow to 16 MB,
        # past the reserve that lets a full disk be cleared.
        connection.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_BYTES // page_size}")
        if self._max_bytes is not None:
            connection.execute(f"PRAGMA max_page_count={max(1, self._max_bytes // page_size)}")
        for statement in self._schema:
            try:
                connection.execute(statement)
            except sqlite3.OperationalError as exc:
                if "duplicate column name" not in str(exc):
                    raise
        return connection


def _close_every(pool: queue.LifoQueue[sqlite3.Connection]) -> None:
    while True:
        try:
            connection = pool.get_nowait()
        except queue.Empty:
            return
        connection.close()


_TEMPORARY_PREFIX = "harness-state-"


class TemporaryState:
    """A fresh folder for one app's state file, removed by :meth:`remove` or, at the
    latest, when the process that made it exits.

    A process killed outright (``kill -9``) runs no exit hook: its folder stays. The folder
    is named for its owner's pid, and each new one first removes those whose owner is gone.
    """

    def __init__(self) -> None:
        owner = os.getpid()
        _remove_orphaned_states(Path(tempfile.gettempdir()))
        folder = Path(tempfile.mkdtemp(prefix=f"{_TEMPORARY_PREFIX}{owner}-"))
        self.path = folder / "state.sqlite3"

        def _cleanup() -> None:
            # Forked workers run exit hooks too; only the creator removes the folder.
            if os.getpid() == owner:
                shutil.rmtree(folder, ignore_errors=True)

        # With the process's other exit work, after it: the journal writes its last entries
        # into this file on the way out (an atexit handler ran first, and they failed).
        self._cleanup = process_exit.at_exit(_cleanup, priority=process_exit.STATE)

    def remove(self) -> None:
        """Remove the folder now (once: the exit hook is run and unregistered)."""
        self._cleanup()


def temporary_state_path() -> Path:
    """A fresh state file for this run, removed when the process that made it exits."""
    return TemporaryState().path


def _remove_orphaned_states(directory: Path) -> None:
    """Remove the temporary states (``harness-state-<pid>-*``) of processes no longer running.

    Written by hand: it is a few lines over ``os.kill(pid, 0)``, which says whether a pid
    runs (a pid reused by another process keeps the folder: only space is lost, never a
    state in use).
    """
    for folder in directory.glob(f"{_TEMPORARY_PREFIX}*-*"):
        pid_text = folder.name[len(_TEMPORARY_PREFIX) :].partition("-")[0]
        if not pid_text.isdigit() or not folder.is_dir():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (PermissionError, OverflowError, ValueError):
            continue  # another user's process runs with that pid, or no pid at all


class SharedCounter:
    """An integer every worker process can change and read, kept in a small mapped file.

    Workers do not always share memory with each other (gunicorn forks them from one
    parent, granian starts them fresh), so the counter lives in a file beside the state
    database, mapped into each process: a read is a memory load, and ``fcntl.flock``
    makes each change atomic across processes.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._map: mmap.mmap | None = None
        self._fd = -1
        self._pid: int | None = None
        self._thread_lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        """Unmap the file and close its descriptor. Idempotent; afterwards the counter
        reads 0 and changes nothing (a request still running as its app closes)."""
        with self._thread_lock:
            self._closed = True
            if self._map is not None and self._pid == os.getpid():
                self._map.close()
                os.close(self._fd)
            self._map, self._fd = None, -1

    def _mapped(self) -> mmap.mmap:
        # One descriptor and mapping per process: after a fork, flock on an inherited
        # descriptor would share the lock with the parent.
        if self._closed:
            raise _Closed
        if self._map is None or self._pid != os.getpid():
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            if os.fstat(fd).st_size < _COUNTER_SIZE:
                os.ftruncate(fd, _COUNTER_SIZE)
            self._map = mmap.mmap(fd, _COUNTER_SIZE)
            self._fd, self._pid = fd, os.getpid()
        return self._map

    def add(self, delta: int) -> int:
        # flock excludes other processes only: threads of one process share the descriptor,
        # and so the lock; the thread lock keeps their read-modify-writes apart.
        with self._thread_lock:
            if self._closed:
                return 0
            mapped = self._mapped()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                value = int(_COUNTER.unpack_from(mapped, 0)[0]) + delta
                _COUNTER.pack_into(mapped, 0, value)
                return value
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    @property
    def value(self) -> int:
        # Read without the lock (a memory load): a close racing the read fails it, as 0.
        try:
            return int(_COUNTER.unpack_from(self._mapped(), 0)[0])
        except (_Closed, ValueError):
            if self._closed:
                return 0
            raise

    def reset(self) -> None:
        self.add(-self.value)


_COUNTER = struct.Struct("<q")
_COUNTER_SIZE = mmap.PAGESIZE


class _Closed(Exception):
    """A shared counter used after its close (see SharedCounter.close)."""


class SharedTally:
    """A count each worker process adds to and any process reads the total of, per slot.

    The journal's count of responses still finishing changes twice per request, so a
    change must cost no system call (a flock per change, and the GIL released around it,
    showed in every request's latency under load). Each process owns one slot of a small mapped
    file, claimed once under ``flock``, and changes only its own slot under a thread lock;
    a read sums the slots of processes that are still alive, so a worker killed mid-request
    leaves nothing behind. A read racing a write may see the slot's old value, which only
    makes a reader wait one poll longer.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._map: mmap.mmap | None = None
        self._pid: int | None = None
        self._offset = 0
        self._count = 0
        self._lock = threading.Lock()
        self._closed = False

    def add(self, delta: int) -> None:
        with self._lock:
            if self._closed:
                return
            mapped = self._own_slot()
            self._count += delta
            _COUNTER.pack_into(mapped, self._offset + _COUNT_AT, self._count)

    @property
    def value(self) -> int:
        try:
            mapped = self._mapping()
            total = 0
            for offset in range(0, _TALLY_SIZE, _SLOT.size):
                pid, count = _SLOT.unpack_from(mapped, offset)
                if count and _alive(pid):
                    total += count
            return total
        except (_Closed, ValueError):  # a close racing the read (it takes no lock)
            if self._closed:
                return 0
            raise

    def close(self) -> None:
        """Give up this process's slot and unmap the file. Idempotent; afterwards the
        tally reads 0 and changes nothing (a request still running as its app closes)."""
        with self._lock:
            self._closed = True
            mapped, self._map = self._map, None
            if mapped is None:
                return
            if self._pid == os.getpid() and _SLOT.unpack_from(mapped, self._offset)[0] == self._pid:
                _SLOT.pack_into(mapped, self._offset, 0, 0)
            mapped.close()

    def reset(self) -> None:
        """Forget every slot (at start-up: counts left by a server that was killed).

        The file is zeroed in place, never truncated: another process touching its mapping
        of a truncated file would die of SIGBUS. A live process whose slot is forgotten
        claims one again, with its own count, at its next change.
        """
        mapped = self._mapping()
        fd = os.open(self.path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            mapped[:] = bytes(_TALLY_SIZE)
        finally:
            os.close(fd)

    def _mapping(self) -> mmap.mmap:
        if self._closed:
            raise _Closed
        if self._map is None:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                if os.fstat(fd).st_size < _TALLY_SIZE:
                    os.ftruncate(fd, _TALLY_SIZE)
                self._map = mmap.mmap(fd, _TALLY_SIZE)
            finally:
                os.close(fd)  # the mapping stays valid without the descriptor
        return self._map

    def _own_slot(self) -> mmap.mmap:
        mapped = self._mapping()
        pid = os.getpid()
        if self._pid == pid and _SLOT.unpack_from(mapped, self._offset)[0] == pid:
            return mapped
        if self._pid != pid:  # the first change in this process, or the first after a fork
            self._count = 0
        # Claim a free slot, or one whose process has died (after a reset, with this
        # process's own count, which the reset could not know).
        fd = os.open(self.path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            for offset in range(0, _TALLY_SIZE, _SLOT.size):
                owner, _ = _SLOT.unpack_from(mapped, offset)
                # Not a slot of this pid: another tally on this file in this process
                # (two apps on one state file) owns it.
                if owner == 0 or not _alive(owner):
                    _SLOT.pack_into(mapped, offset, pid, self._count)
                    self._pid, self._offset = pid, offset
                    return mapped
        finally:
            os.close(fd)  # closing the descriptor releases the lock
        raise RuntimeError(f"{self.path}: more than {_TALLY_SLOTS} processes share this tally")


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return True


_SLOT = struct.Struct("<qq")  # owner pid, count
_TALLY_SIZE = mmap.PAGESIZE
_TALLY_SLOTS = _TALLY_SIZE // _SLOT.size
_COUNT_AT = 8  # in a slot, the count (a _COUNTER) follows the pid
