"""What one app holds for its lifetime, kept in ``app.extensions`` (never in globals)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import current_app

from harness.spec import SpecSet
from mockserver.chaos import Chaos
from mockserver.config import MockConfig
from mockserver.errors import ErrorReply, MockError
from mockserver.journal import Journal
from mockserver.storage import StateBackend
from mockserver.stubs import Stub, StubStore

EXTENSION_KEY = "mockserver"


@dataclass
class MockState:
    config: MockConfig
    specs: SpecSet
    # The store of responses, stubs and journal (SQLite or Redis); named for what it was.
    db: StateBackend
    journal: Journal
    stubs: StubStore
    # Server-wide probabilistic faults (``--chaos``); None: none.
    chaos: Chaos | None = None
    # The stubs of the ``--stubs`` file, which a reset puts back (as a fresh mock has them).
    file_stubs: tuple[Stub, ...] = ()
    _closing: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        """Release what the app holds before its process exits (see
        :func:`mockserver.close_app`): the journal's last entries written first, then its
        writer ended, the store's connections and mapped counters closed, and a temporary
        state folder removed. Idempotent."""
        with self._closing:
            if self._closed:
                return
            self._closed = True
            self.journal.close()
            if self.chaos is not None:
                self.chaos.close()
            self.db.close()


def current_state() -> MockState:
    state: MockState = current_app.extensions[EXTENSION_KEY]
    return state


# What a read of the journal answers when the mock keeps none (`--no-journal`): a conflict
# with how the server was started, said as such, rather than an empty list that would read
# as "no requests came".
JOURNAL_OFF = ErrorReply(
    409,
    "The request journal is off: this mock was started with --no-journal "
    "(MockConfig.journal=False), so it keeps no requests to list.",
    code="journal_off",
)


def state_with_journal() -> MockState:
    """:func:`current_state`, for a read of the journal: a 409 when it is off."""
    state = current_state()
    if not state.config.journal:
        raise MockError(JOURNAL_OFF)
    return state
