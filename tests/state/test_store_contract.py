"""One contract for every state backend: the SQLite file and Redis (a real redis-server).

Each test runs against both; what a test asserts is what the mock's handlers and admin API
rely on, whichever store holds the state.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from mockserver.journal_store import COLUMNS
from mockserver.redis_state import RedisState
from mockserver.sqlite_state import SqliteState
from mockserver.storage import JournalRow, StateBackend
from mockserver.stubs import Stub, parse_stub
from tests.fixtures.redis_server import RedisServer, redis_prefix, redis_server

__all__ = ["redis_prefix", "redis_server"]  # fixtures this module uses

Opener = Callable[[], StateBackend]


@pytest.fixture(params=["sqlite", "redis"])
def open_state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the same state again each call: another worker's or another instance's view."""
    if request.param == "sqlite":
        yield lambda: SqliteState(tmp_path / "state.sqlite3")
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    prefix: str = request.getfixturevalue("redis_prefix")
    yield lambda: RedisState(server.url, tmp_path / "local" / "state", prefix)


def message(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "content": text}


def conversation(turns: int) -> list[dict[str, Any]]:
    messages = []
    for turn in range(turns):
        messages += [message("user", f"q{turn}"), message("assistant", f"a{turn}")]
    return messages


def save_chain(state: StateBackend, length: int) -> list[str]:
    ids = []
    for turn in range(length):
        body: dict[str, Any] = {"id": f"resp_{turn}", "object": "response"}
        if ids:
            body["previous_response_id"] = ids[-1]
        state.responses.save(body["id"], body, conversation(turn + 1))
        ids.append(body["id"])
    return ids


# --- stored responses -------------------------------------------------------------------


def test_a_stored_response_is_retrieved_from_another_view(open_state: Opener) -> None:
    body = {"id": "resp_1", "object": "response", "output": [{"text": "é \ud800"}]}
    open_state().responses.save("resp_1", body, conversation(1))
    stored = open_state().responses.get("resp_1")
    assert stored is not None
    assert stored.body == body
    assert stored.conversation == conversation(1)
    assert open_state().responses.get("resp_unknown") is None


def test_a_chain_is_rebuilt_whole_at_every_turn(open_state: Opener) -> None:
    state = open_state()
    ids = save_chain(state, 5)
    for turn, response_id in enumerate(ids):
        stored = open_state().responses.get(response_id)
        assert stored is not None
        assert stored.conversation == conversation(turn + 1)


def test_a_continued_response_deleted_is_hidden_until_nothing_needs_it(
    open_state: Opener,
) -> None:
    state = open_state()
    first, second = save_chain(state, 2)
    assert state.responses.delete(first)
    assert state.responses.get(first) is None
    assert not state.responses.delete(first)  # already deleted
    stored = state.responses.get(second)
    assert stored is not None and stored.conversation == conversation(2)
    assert state.responses.delete(second)
    assert state.responses.get(second) is None
    assert not state.responses.delete("resp_unknown")


def test_the_oldest_responses_go_and_their_messages_move_on(open_state: Opener) -> None:
    state = open_state()
    state.responses.limit = 3  # type: ignore[attr-defined]  # both stores have it
    ids = save_chain(state, 6)
    assert [state.responses.get(i) is None for i in ids] == [True] * 3 + [False] * 3
    newest = state.responses.get(ids[-1])
    assert newest is not None and newest.conversation == conversation(6)


def test_a_chain_continuing_a_deleted_turn_still_holds(open_state: Opener) -> None:
    state = open_state()
    ids = save_chain(state, 3)
    assert state.responses.delete(ids[1])  # hidden: the third continues it
    assert state.responses.delete(ids[2])  # removes the third, then the hidden second
    first = state.responses.get(ids[0])
    assert first is not None and first.conversation == conversation(1)


def stored_response_rows(state: StateBackend) -> int:
    """What the store still holds for responses, hidden turns and indexes included."""
    if isinstance(state, SqliteState):
        with state.db.connection() as connection:
            (rows,) = connection.execute("SELECT COUNT(*) FROM responses").fetchone()
        return int(rows)
    assert isinstance(state, RedisState)
    client = redis.Redis.from_url(state.url)
    try:
        prefix = state.responses._prefix
        keys = list(client.scan_iter(match=f"{prefix}resp:*"))
        return len(keys) + int(client.zcard(f"{prefix}responses"))
    finally:
        client.close()


def test_every_stored_response_is_cleared_with_a_count(open_state: Opener) -> None:
    state = open_state()
    ids = save_chain(state, 3)
    assert state.responses.delete(ids[0])  # hidden: the second continues it
    state.responses.save("resp_alone", {"id": "resp_alone"}, conversation(1))
    assert stored_response_rows(state) > 0
    # Counted as a client sees them: the hidden first turn was already deleted.
    assert open_state().responses.clear() == 3
    assert stored_response_rows(state) == 0
    for response_id in [*ids, "resp_alone"]:
        assert state.responses.get(response_id) is None
        assert not state.responses.delete(response_id)
    assert state.responses.clear() == 0


def test_a_turn_continuing_a_cleared_response_is_stored_whole(open_state: Opener) -> None:
    state = open_state()
    ids = save_chain(state, 2)
    state.responses.clear()
    # The handler sends the whole conversation; with its parent gone no pointer is kept.
    body = {"id": "resp_next", "previous_response_id": ids[-1]}
    state.responses.save("resp_next", body, conversation(3))
    stored = open_state().responses.get("resp_next")
    assert stored is not None and stored.conversation == conversation(3)
    state.responses.limit = 1  # type: ignore[attr-defined]  # both stores have it
    save_chain(state, 2)  # the bound still counts only what is stored
    assert state.responses.get("resp_1") is not None and state.responses.get("resp_0") is None


def test_clearing_responses_leaves_another_prefix_alone(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    ours = RedisState(redis_server.url, tmp_path / "ours" / "state", "test-clear-ours:")
    theirs = RedisState(redis_server.url, tmp_path / "theirs" / "state", "test-clear-theirs:")
    ours.responses.clear()
    theirs.responses.clear()
    save_chain(ours, 2)
    save_chain(theirs, 2)
    assert ours.responses.clear() == 2
    kept = theirs.responses.get("resp_1")
    assert kept is not None and kept.conversation == conversation(2)
    assert theirs.responses.clear() == 2


# --- stubs ------------------------------------------------------------------------------


def stub(**fields: Any) -> Stub:
    return parse_stub({"reply": {"text": "hi"}, **fields})


def test_stubs_are_listed_by_priority_then_newest(open_state: Opener) -> None:
    state = open_state()
    state.stubs.add([stub(id="a"), stub(id="b", priority=5), stub(id="c")])
    assert [s.id for s in open_state().stubs.listing()] == ["b", "c", "a"]
    assert open_state().stubs.listing()[0].definition() == {
        "id": "b",
        "match": {},
        "reply": {"text": "hi"},
        "times": None,
        "priority": 5,
        "used": 0,
    }


def test_times_is_honoured_exactly_once_across_views(open_state: Opener) -> None:
    open_state().stubs.add([stub(id="once", times=1), stub(id="thrice", times=3)])
    views = [open_state() for _ in range(4)]
    listed = {s.id: s for s in views[0].stubs.usable()}
    claims: list[tuple[str, int | None]] = []
    lock = threading.Lock()

    def claim(view: StateBackend) -> None:
        for stub_id in ("once", "thrice"):
            for _ in range(3):
                used = view.stubs.claim(listed[stub_id])
                with lock:
                    claims.append((stub_id, used))

    threads = [threading.Thread(target=claim, args=(view,)) for view in views]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(u for i, u in claims if i == "once" and u is not None) == [1]
    assert sorted(u for i, u in claims if i == "thrice" and u is not None) == [1, 2, 3]
    assert views[0].stubs.usable() == []
    assert {s.id: s.used for s in views[0].stubs.listing()} == {"once": 1, "thrice": 3}


def test_a_stub_replaced_by_id_starts_afresh(open_state: Opener) -> None:
    state = open_state()
    state.stubs.add([stub(id="s", times=1)])
    (old,) = state.stubs.usable()
    state.stubs.add([stub(id="s", times=2)])
    assert state.stubs.claim(old) is None  # the old row is gone
    (new,) = state.stubs.usable()
    assert new.seq > old.seq
    assert state.stubs.claim(new) == 1


def test_a_stub_stored_the_same_is_kept_with_its_count(open_state: Opener) -> None:
    # A --stubs file loaded again (a restart, a second instance): the same stub stays as it
    # is, used; a changed one replaces it, counted afresh; a new one is added.
    state = open_state()
    state.stubs.add([stub(id="same", times=1), stub(id="edited", times=1)])
    for kept in state.stubs.usable():
        assert state.stubs.claim(kept) == 1
    state.stubs.add(
        [stub(id="same", times=1), stub(id="edited", times=2), stub(id="new")], keep_same=True
    )
    by_id = {found.id: found for found in state.stubs.listing()}
    assert sorted(by_id) == ["edited", "new", "same"]
    assert (by_id["same"].used, by_id["edited"].used, by_id["new"].used) == (1, 0, 0)
    assert "same" not in {found.id for found in state.stubs.usable()}


def test_every_change_moves_the_generation(open_state: Opener) -> None:
    state, other = open_state(), open_state()
    seen = [other.stubs.generation()]
    for change in (
        lambda: state.stubs.add([stub(id="x")]),
        lambda: state.stubs.delete("x"),
        lambda: state.stubs.clear(),
        lambda: state.stubs.bump(),
    ):
        change()
        seen.append(other.stubs.generation())
    assert len(set(seen)) == len(seen), seen


def test_stubs_are_deleted_and_cleared_with_counts(open_state: Opener) -> None:
    state = open_state()
    state.stubs.add([stub(id="a"), stub(id="b"), stub(id="c")])
    assert state.stubs.delete("a")
    assert not state.stubs.delete("a")
    assert state.stubs.clear() == 2
    assert state.stubs.listing() == []


# --- journal ----------------------------------------------------------------------------


def row(
    n: int, *, path: str = "/v1/chat/completions", status: int = 200, size: int = 10
) -> JournalRow:
    model = "gpt-4" if n % 2 else None
    stub_id = "s1" if n % 3 == 0 else None
    return JournalRow(f'{{"n":{n}}}', path, "POST", status, model, stub_id, size)


def numbers(
    state: StateBackend, filters: dict[str, Any] | None = None, limit: int | None = None
) -> list[int]:
    import json

    return [json.loads(text)["n"] for _, text in state.journal.rows(filters or {}, limit)]


def test_the_journal_reads_oldest_first_across_pages(open_state: Opener) -> None:
    state = open_state()
    state.journal.append([row(n) for n in range(450)])
    assert numbers(open_state()) == list(range(450))
    seqs = [seq for seq, _ in state.journal.rows({}, None)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 450


def test_the_journal_gives_the_last_entries_and_filters(open_state: Opener) -> None:
    state = open_state()
    state.journal.append([row(n, status=400 if n % 5 == 0 else 200) for n in range(300)])
    assert numbers(state, limit=3) == [297, 298, 299]
    assert numbers(state, limit=0) == []
    assert numbers(state, {"status": 400}, limit=2) == [290, 295]
    assert numbers(state, {"model": "gpt-4", "stub_id": "s1"}) == list(range(3, 300, 6))
    assert numbers(state, {"path": "/v1/responses"}) == []
    assert numbers(state, {"method": "POST"}, limit=1) == [299]
    assert set(COLUMNS) == {"path", "method", "status", "model", "stub_id", "valid", "fault"}


def test_the_journal_keeps_the_newest_within_its_count_and_bytes(open_state: Opener) -> None:
    state = open_state()
    journal: Any = state.journal
    journal.max_entries = 50
    for start in range(0, 1000, 100):
        state.journal.append([row(n) for n in range(start, start + 100)])
    kept = numbers(state)
    # SQLite prunes the count every 200 entries, so it may hold up to 200 more.
    assert kept[-1] == 999 and 50 <= len(kept) <= 250
    assert kept == list(range(1000 - len(kept), 1000))
    journal.max_entries = 10_000
    journal.max_bytes = 16 * 1000
    state.journal.clear()
    state.journal.append([row(n, size=1000) for n in range(100)])
    state.journal.append([row(n, size=1000) for n in range(100, 200)])
    kept = numbers(state)
    assert kept[-1] == 199 and len(kept) <= 16 + 1000 // 16


def test_a_long_entry_reads_back_as_it_was_written(open_state: Opener) -> None:
    # A stream's entry holds its whole text: tens of KB, with escapes and any language.
    frame = 'data: {"choices":[{"delta":{"content":" caf\\u00e9 \\"q\\" 日本 🎉"}}]}\\n\\n'
    text = '{"n":7,"response_body":"' + frame * 400 + '"}'
    state = open_state()
    state.journal.append(
        [row(6), JournalRow(text, "/v1/chat/completions", "POST", 200, None, None, 1)]
    )
    assert [entry for _, entry in open_state().journal.rows({}, None)][-1] == text
    assert [entry for _, entry in state.journal.rows({}, 1)] == [text]
    seq = max(seq for seq, _ in state.journal.rows({}, None))
    assert state.journal.entry(seq) == text
    assert state.journal.summaries({}, 0, None, 1) == [(seq, text)]  # stored without one


def test_the_journal_is_cleared_with_a_count(open_state: Opener) -> None:
    state = open_state()
    state.journal.append([row(n) for n in range(7)])
    assert open_state().journal.clear() == 7
    assert numbers(state) == []
    state.journal.append([row(8)])
    assert numbers(state) == [8]


def test_the_journal_remembers_when_it_was_cleared(open_state: Opener) -> None:
    # Shared by every process and instance: a writer anywhere drops entries for requests
    # that arrived before the clear.
    state, other = open_state(), open_state()
    assert state.journal.cleared_at() == 0.0
    before = time.time()
    other.journal.clear()
    assert before <= state.journal.cleared_at() <= time.time()
