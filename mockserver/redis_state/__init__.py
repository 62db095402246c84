"""Shared state on Redis (``--state redis://HOST:PORT/DB``): many mock instances, one state.

Stored responses, stubs with their use counts and the journal live on one Redis, under a key
prefix (``--redis-prefix``) so several mocks can share it. What stays on each machine: the
counters this machine's workers share on every request's path (see :mod:`mockserver.storage`),
kept in small files under a temporary folder, as with SQLite.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from mockserver.config import DEFAULT_JOURNAL_MAX_BYTES
from mockserver.db import TemporaryState
from mockserver.redis_state.connection import connect, describe, is_redis_url
from mockserver.redis_state.journal import RedisJournalStore
from mockserver.redis_state.responses import RedisResponseStore
from mockserver.redis_state.stubs import RedisStubRows

__all__ = ["DEFAULT_PREFIX", "RedisState", "is_redis_url"]

T = TypeVar("T")

DEFAULT_PREFIX = "harness:"


class RedisState:
    """Stored responses, stubs and the journal on Redis at ``url``, keys under ``prefix``.

    ``local_path``: where this machine's workers keep their shared counters;
    ``temporary``: the folder it was made in for this state alone, removed by :meth:`close`.
    """

    def __init__(
        self,
        url: str,
        local_path: Path,
        prefix: str = DEFAULT_PREFIX,
        journal_max_bytes: int = DEFAULT_JOURNAL_MAX_BYTES,
        *,
        temporary: TemporaryState | None = None,
    ) -> None:
        self._temporary = temporary
        self.url = url
        self._path = local_path
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._description = describe(url)
        client = self._client = connect(url)
        self.responses = RedisResponseStore(client, prefix, self._description)
        self.stubs = RedisStubRows(client, prefix, self._description)
        self.journal = RedisJournalStore(client, prefix, self._description, journal_max_bytes)

    @property
    def description(self) -> str:
        return self._description

    @property
    def path(self) -> Path:
        return self._path

    def freeing(self, operation: Callable[[], T]) -> T:
        # Redis frees memory as keys are deleted; nothing to give up first.
        return operation()

    def close(self) -> None:
        # The data stays on Redis; this process's listener and connections go.
        self.journal.close()
        self._client.close()
        if self._temporary is not None:
            self._temporary.remove()
