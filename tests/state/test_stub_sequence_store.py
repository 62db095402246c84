"""Stub sequences on every state backend: the definition is kept whole, and each step is
given exactly once across views of one store (other workers, other instances).

The step is the use count the store claims atomically (a conditional update in SQLite, a
Lua script in Redis), so no state beyond the stub row is needed; this checks that claim
from several threads on several views, as the backends' contract does for ``times``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mockserver.redis_state import RedisState
from mockserver.sqlite_state import SqliteState
from mockserver.storage import StateBackend
from mockserver.stubs import RequestFacts, StubStore, parse_stub
from tests.fixtures.redis_server import RedisServer, redis_prefix, redis_server

__all__ = ["redis_prefix", "redis_server"]  # fixtures this module uses

Opener = Callable[[], StateBackend]
CHAT = "/v1/chat/completions"
BODY = {"model": "gpt-4", "messages": [{"role": "user", "content": "go"}]}


@pytest.fixture(params=["sqlite", "redis"])
def open_state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the same state again each call: another worker's or another instance's view."""
    if request.param == "sqlite":
        yield lambda: SqliteState(tmp_path / "state.sqlite3")
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    prefix: str = request.getfixturevalue("redis_prefix")
    yield lambda: RedisState(server.url, tmp_path / "local" / "state", prefix)


def test_a_sequence_is_stored_whole(open_state: Opener) -> None:
    stub = parse_stub(
        {
            "id": "seq",
            "match": {"turns": {"min": 1}, "has_tool_result": False},
            "replies": [{"tool_calls": [{"name": "f"}, {"name": "g"}]}, {"text": "done"}],
            "after_last": "cycle",
        }
    )
    open_state().stubs.add([stub])
    (listed,) = open_state().stubs.listing()
    assert listed.definition() == stub.definition()
    assert listed.replies == stub.replies and listed.after_last == "cycle"


def test_each_step_is_claimed_once_across_views(open_state: Opener) -> None:
    steps, views, per_view = 30, 3, 14
    stub = parse_stub(
        {"replies": [{"text": f"step {n}"} for n in range(steps)], "after_last": "stop_matching"}
    )
    open_state().stubs.add([stub])
    stores = [StubStore(open_state().stubs) for _ in range(views)]
    answers: list[str | None] = []
    lock = threading.Lock()

    def ask(store: StubStore) -> None:
        for _ in range(per_view):
            taken = store.take(CHAT, BODY, RequestFacts("go"))
            with lock:
                answers.append(None if taken is None else str(taken.answer()["text"]))

    threads = [threading.Thread(target=ask, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    given = sorted(answer for answer in answers if answer is not None)
    assert given == sorted(f"step {n}" for n in range(steps))
    assert answers.count(None) == views * per_view - steps
    (left,) = open_state().stubs.listing()
    assert left.used == steps
