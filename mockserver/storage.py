"""The seam between the mock and where its shared state lives.

Two backends implement it: the embedded SQLite file (the default: one machine, no setup;
:mod:`mockserver.sqlite_state`) and Redis (many instances behind one address;
:mod:`mockserver.redis_state`). The request handlers and the admin API see only these
protocols, and one test suite (``tests/state/test_store_contract.py``) runs against both.

What stays on each machine whatever the backend: the count of responses still finishing
(:class:`mockserver.db.SharedTally`) and the journal writers' flush requests. The count
changes twice on every request's path, where a network round trip would cost more than
answering. A journal read waits for this machine's count to reach zero; on a store several
instances share, it then asks the other instances to do the same and waits for their
answers (:meth:`JournalStorage.wait_for_writers`), which costs the read, never a request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from mockserver.errors import SERVER_ERROR, ErrorReply, MockError

if TYPE_CHECKING:
    from mockserver.stubs import Stub

T = TypeVar("T")


class StateUnavailable(MockError):
    """The shared store cannot be reached: a 503 naming it, never a hang nor a 500."""

    def __init__(self, store: str, reason: str) -> None:
        super().__init__(
            ErrorReply(
                503,
                f"The mock's state store ({store}) cannot be reached: {reason}. Requests that "
                "need stored responses, stubs or the journal fail until it is back; the mock "
                "reconnects by itself.",
                type=SERVER_ERROR,
                code="state_unavailable",
            )
        )


class StoreFull(MockError):
    """The shared store refused a write for want of memory (Redis past its ``maxmemory``)."""

    def __init__(self, store: str) -> None:
        super().__init__(
            ErrorReply(
                507,
                f"The mock's state store ({store}) is full: it refused a write for want of "
                "memory. Free space with DELETE /_mock/responses, DELETE /_mock/requests or "
                "POST /_mock/reset, or give it more memory.",
                type=SERVER_ERROR,
                code="state_full",
            )
        )


@dataclass(frozen=True)
class StoredResponse:
    body: dict[str, Any]
    conversation: list[dict[str, Any]]


class JournalRow(NamedTuple):
    """One journal entry as stored: its JSON text, the columns it is filtered by, its size,
    and its summary (a few of its fields as JSON: what the dashboard lists)."""

    text: str
    path: str
    method: str
    status: int
    model: str | None
    stub_id: str | None
    size: int
    valid: bool | None = None
    fault: str | None = None
    summary: str | None = None


class ResponseStorage(Protocol):
    """Stored responses (``store: true``) and the conversations they continue."""

    def save(
        self, response_id: str, body: Mapping[str, Any], conversation: Sequence[Mapping[str, Any]]
    ) -> None:
        """Store a response; ``conversation`` is all of it, this turn included."""

    def get(self, response_id: str) -> StoredResponse | None: ...

    def delete(self, response_id: str) -> bool:
        """``False`` when no response has that id."""

    def clear(self) -> int:
        """Remove every stored response, hidden turns included; the count a client could
        still retrieve (hidden turns were already deleted for it)."""


class StubStorage(Protocol):
    """Stub rows with their use counts, and a generation that moves on every change."""

    def add(self, stubs: Sequence[Stub], keep_same: bool = False) -> None:
        """Insert or replace (by id) stubs, use counts zero; moves the generation.

        ``keep_same``: a stub stored already with the same definition is left as it is,
        its use count with it (a ``--stubs`` file loaded again)."""

    def listing(self) -> list[Stub]:
        """Every stub, higher priority first, then the newest."""

    def usable(self) -> list[Stub]:
        """The stubs not used up."""

    def clear(self) -> int: ...

    def delete(self, stub_id: str) -> bool: ...

    def claim(self, stub: Stub) -> int | None:
        """Count one use, atomically across every worker and instance: the new count, or
        ``None`` if this very stub (same id and row) was used up or removed meanwhile."""

    def generation(self) -> int:
        """A number that changes whenever the usable stubs may have changed."""

    def bump(self) -> None:
        """Move the generation (a stub got used up)."""


class JournalStorage(Protocol):
    """The journal's entries, bounded by count and bytes (oldest dropped)."""

    def append(self, rows: Sequence[JournalRow]) -> None: ...

    def rows(self, filters: Mapping[str, Any], limit: int | None) -> Iterator[tuple[int, str]]:
        """``(seq, text)`` oldest first, filtered by exact column values (``status`` an
        int); ``limit``: only the last that many. Read in pages, lazily."""

    def summaries(
        self, filters: Mapping[str, Any], after: int, before: int | None, limit: int
    ) -> list[tuple[int, str]]:
        """``(seq, summary)`` newest first, of the entries with ``after < seq < before``
        (``before`` ``None``: no upper bound), filtered as :meth:`rows`; at most ``limit``.
        An entry stored without a summary gives its whole text instead."""

    def entry(self, seq: int) -> str | None:
        """One entry's text, ``None`` when it is gone (or never was)."""

    def oldest_seq(self) -> int | None:
        """The seq of the oldest entry kept, ``None`` when the journal is empty."""

    def clear(self) -> int:
        """Remove every entry; returns how many. Remembers when (:meth:`cleared_at`)."""

    def cleared_at(self) -> float:
        """When the journal was last cleared (``time.time()``), 0.0 if never: an entry for a
        request that arrived before is not written (it belongs to what was cleared)."""

    def wait_for_writers(self, wait_here: Callable[[float], None], timeout_s: float) -> None:
        """Wait (at most ``timeout_s``) until the entries of answers already sent are
        readable: this machine's, by calling ``wait_here(timeout_s)``, and on a store other
        machines share, theirs too (each answers through :meth:`answer_waits`)."""

    def answer_waits(self, wait_here: Callable[[float], None]) -> None:
        """In this process, from now on, help other instances' :meth:`wait_for_writers`
        by running ``wait_here`` when they ask (a store on one machine: nothing to do)."""


class StateBackend(Protocol):
    """Everything stateful one app uses, on one store."""

    @property
    def description(self) -> str:
        """The store as an error message names it (a file, or a Redis address)."""

    @property
    def path(self) -> Path:
        """Where this machine's own small files go (the workers' shared counters)."""

    @property
    def responses(self) -> ResponseStorage: ...

    @property
    def stubs(self) -> StubStorage: ...

    @property
    def journal(self) -> JournalStorage: ...

    def freeing(self, operation: Callable[[], T]) -> T:
        """Run an operation that deletes, even when the store is full."""

    def close(self) -> None:
        """Let go of what this process holds of the store (connections, threads, mapped
        files, a temporary folder made for it); the data a user's store holds stays."""
