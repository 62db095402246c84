"""The state file: a conversation chain stored once per turn, and a full disk that stays usable."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from mockserver import MockConfig, create_app
from mockserver.db import Database
from mockserver.store import TABLES, ResponseStore
from tests.fixtures.servers import API_KEY, serve_in_thread, start_server

AUTH = {"Authorization": f"Bearer {API_KEY}"}
MODEL = "gpt-4"


def state_bytes(state: Path) -> int:
    return sum(path.stat().st_size for path in state.parent.glob(state.name + "*"))


def respond(url: str, **body: Any) -> requests.Response:
    return requests.post(
        f"{url}/v1/responses", json={"model": MODEL, **body}, headers=AUTH, timeout=30
    )


def test_a_chain_stores_each_turn_once(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    server = start_server(
        ["--api-key", API_KEY, "--workers", "1", "--state", str(state)], log_dir=tmp_path
    )
    try:
        previous = None
        turns = 30
        sent = 0
        for turn in range(turns):
            text = f"turn {turn} " + "word " * 200  # about 1 KB and 200 tokens a turn
            sent += len(text)
            reply = respond(
                server.url,
                input=text,
                store=True,
                max_output_tokens=16,
                **({"previous_response_id": previous} if previous else {}),
            )
            assert reply.status_code == 200, reply.text
            previous = reply.json()["id"]
    finally:
        server.stop()
    connection = sqlite3.connect(state, isolation_level=None)
    try:
        (stored,) = connection.execute(
            "SELECT SUM(length(body) + length(conversation)) FROM responses"
        ).fetchone()
        connection.execute("DELETE FROM journal")  # the requests, journaled: not the store
        connection.execute("VACUUM")
    finally:
        connection.close()
    size = state.stat().st_size
    print(f"a chain of {turns} turns, {sent:,} bytes sent: {stored:,} bytes stored, file {size:,}")
    # Each turn once, with the response bodies; every earlier turn again at each step
    # would be about turns / 2 = 15 times what was sent.
    assert stored < 3 * sent, (stored, sent)


def chain(store: ResponseStore, length: int, prefix: str = "resp") -> list[dict[str, str]]:
    """Save a chain of ``length`` responses; returns the whole conversation."""
    conversation: list[dict[str, str]] = []
    for turn in range(length):
        conversation += [
            {"role": "user", "content": f"question {turn}"},
            {"role": "assistant", "content": f"answer {turn}"},
        ]
        body = {"id": f"{prefix}_{turn}", "previous_response_id": None}
        if turn:
            body["previous_response_id"] = f"{prefix}_{turn - 1}"
        store.save(f"{prefix}_{turn}", body, list(conversation))
    return conversation


def test_a_chain_reads_back_whole_through_deletes_and_the_bound(tmp_path: Path) -> None:
    store = ResponseStore(Database(tmp_path / "state.sqlite3", schema=TABLES), limit=4)
    conversation = chain(store, 6)
    # The bound dropped resp_0 and resp_1; the rest still read back whole.
    assert store.get("resp_0") is None and store.get("resp_1") is None
    for turn in range(2, 6):
        stored = store.get(f"resp_{turn}")
        assert stored is not None
        assert stored.conversation == conversation[: 2 * (turn + 1)]
        assert stored.body["id"] == f"resp_{turn}"
    # A deleted turn in the middle is gone for clients, not for the turns after it.
    assert store.delete("resp_3") is True
    assert store.get("resp_3") is None and store.delete("resp_3") is False
    last = store.get("resp_5")
    assert last is not None and last.conversation == conversation
    # Deleting the later turns removes what only they needed.
    assert store.delete("resp_5") and store.delete("resp_4")
    with store.db.connection() as connection:
        left = [row[0] for row in connection.execute("SELECT id FROM responses ORDER BY seq")]
    assert left == ["resp_2"]


def test_a_chain_continued_over_http_answers_like_the_conversation_inline(tmp_path: Path) -> None:
    with serve_in_thread(create_app(MockConfig(api_key=API_KEY))) as url:
        first = respond(url, input="What is contract testing?", store=True).json()
        second = respond(
            url, input="Tell me more", previous_response_id=first["id"], store=True
        ).json()
        third = respond(url, input="Thanks", previous_response_id=second["id"], store=True).json()
        deleted = requests.delete(f"{url}/v1/responses/{second['id']}", headers=AUTH, timeout=10)
        assert deleted.status_code == 200
        assert respond(url, input="x", previous_response_id=second["id"]).status_code == 404
        fourth = respond(url, input="Bye", previous_response_id=third["id"]).json()
        inline = respond(
            url,
            input=[
                {"role": "user", "content": "What is contract testing?"},
                {"role": "assistant", "content": first["output"][0]["content"][0]["text"]},
                {"role": "user", "content": "Tell me more"},
                {"role": "assistant", "content": second["output"][0]["content"][0]["text"]},
                {"role": "user", "content": "Thanks"},
                {"role": "assistant", "content": third["output"][0]["content"][0]["text"]},
                {"role": "user", "content": "Bye"},
            ],
        ).json()
    assert inline["usage"]["input_tokens"] == fourth["usage"]["input_tokens"]
    assert inline["output"][0]["content"][0]["text"] == fourth["output"][0]["content"][0]["text"]


def test_a_full_disk_is_a_507_and_the_admin_api_frees_space(tmp_path: Path) -> None:
    # SQLite's max_page_count makes the file full at a chosen size: a write past it fails
    # with SQLITE_FULL, the error a full disk gives, and deterministically (a real small
    # filesystem needs a mount, which tests should not depend on).
    config = MockConfig(api_key=API_KEY, state_path=tmp_path / "s.sqlite3", state_max_bytes=1 << 20)
    with serve_in_thread(create_app(config)) as url:
        statuses = []
        for n in range(400):  # fill the journal (60 KB an entry) until the file is full
            answer = respond(url, input=f"n{n} " + "x" * 60_000, store=True)
            statuses.append(answer.status_code)
            if answer.status_code == 507:
                break
        assert statuses[-1] == 507, statuses[-5:]
        error = answer.json()["error"]
        assert "disk" in error["message"] and "full" in error["message"]
        assert error["code"] == "state_full"
        assert set(statuses) <= {200, 400, 507}  # never an opaque 500
        small = respond(url, input="hello", store=True)
        assert small.status_code in (200, 507)
        # The admin API still answers, and frees the room.
        assert requests.get(f"{url}/_mock/requests?limit=1", headers=AUTH, timeout=10).ok
        cleared = requests.delete(f"{url}/_mock/requests", headers=AUTH, timeout=10)
        assert cleared.status_code == 200, cleared.text
        again = respond(url, input="hello again", store=True)
        assert again.status_code == 200, again.text
        assert requests.get(f"{url}/v1/responses/{again.json()['id']}", headers=AUTH, timeout=10).ok
        # The stored responses are the rest of what fills the file: cleared on their own,
        # and by the reset (as a fresh mock has none).
        cleared = requests.delete(f"{url}/_mock/responses", headers=AUTH, timeout=10)
        assert cleared.status_code == 200 and cleared.json()["deleted"] >= 1, cleared.text
        kept = respond(url, input="kept until the reset", store=True)
        assert kept.status_code == 200, kept.text
        reset = requests.post(f"{url}/_mock/reset", headers=AUTH, timeout=10)
        assert reset.status_code == 200 and reset.json()["responses_deleted"] == 1, reset.text
        gone = requests.get(f"{url}/v1/responses/{kept.json()['id']}", headers=AUTH, timeout=10)
        assert gone.status_code == 404
        assert respond(url, input="hello after the reset", store=True).status_code == 200


@contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``folder`` (root only; skipped where it is refused)."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs, mounted for this test."""
    with tmpfs(tmp_path / "small", "16M") as folder:
        yield folder


def test_a_really_full_disk_is_a_507_and_the_admin_api_frees_it(
    small_filesystem: Path, tmp_path: Path
) -> None:
    # The same on a filesystem that is really full: the reserve file beside the state file
    # is given up so the deletes, and the checkpoint after them, can write; the checkpoint
    # gives the log's space back. Stored responses are half of what fills it here (each
    # request is journaled and stored), and clearing them alone must make room.
    state = small_filesystem / "state.sqlite3"
    server = start_server(
        ["--api-key", API_KEY, "--workers", "1", "--state", str(state)], log_dir=tmp_path
    )
    try:
        statuses = []
        for n in range(1000):
            answer = respond(server.url, input=f"n{n} " + "x" * 60_000, store=True)
            statuses.append(answer.status_code)
            if answer.status_code == 507:
                break
        assert statuses[-1] == 507 and set(statuses) <= {200, 400, 507}, statuses[-5:]
        assert answer.json()["error"]["code"] == "state_full"
        assert "DELETE /_mock/responses" in answer.json()["error"]["message"]
        freed = requests.delete(f"{server.url}/_mock/responses", headers=AUTH, timeout=30)
        assert freed.status_code == 200, freed.text
        assert freed.json() == {"deleted": statuses.count(200)}
        for n in range(3):
            stored = respond(server.url, input=f"hello {n}", store=True)
            assert stored.status_code == 200, stored.text
        # The other clears answer too, and free the rest.
        for method, path in [("DELETE", "/_mock/requests"), ("POST", "/_mock/reset")]:
            cleared = requests.request(method, f"{server.url}{path}", headers=AUTH, timeout=30)
            assert cleared.status_code == 200, cleared.text
        assert respond(server.url, input="hello", store=True).status_code == 200
    finally:
        server.stop()
    assert "Traceback" not in server.log()


def test_clearing_only_the_journal_of_a_really_full_disk_makes_room(
    small_filesystem: Path, tmp_path: Path
) -> None:
    # A clear that fits in the log's own space leaves the reserve in place; the checkpoint
    # after it must still get room (it grows the file), or the log is never emptied and
    # every later write is a 507. (This failed about 3 runs in 8 before.)
    state = small_filesystem / "state.sqlite3"
    server = start_server(
        ["--api-key", API_KEY, "--workers", "1", "--state", str(state)], log_dir=tmp_path
    )
    try:
        for n in range(1000):
            answer = respond(server.url, input=f"n{n} " + "x" * 60_000, store=True)
            if answer.status_code == 507:
                break
        assert answer.status_code == 507, answer.text
        freed = requests.delete(f"{server.url}/_mock/requests", headers=AUTH, timeout=30)
        assert freed.status_code == 200, freed.text
        assert respond(server.url, input="hello", store=True).status_code == 200
    finally:
        server.stop()
    assert "Traceback" not in server.log()


def test_a_disk_without_room_for_the_reserve_is_said_at_start(tmp_path: Path) -> None:
    # Under 4 MiB free, the reserve that lets a full disk be cleared cannot be made: the
    # clears then fail as the writes do (507), and the start said nothing of it.
    with tmpfs(tmp_path / "tiny", "3M") as folder:
        server = start_server(
            ["--workers", "1", "--state", str(folder / "state.sqlite3")], log_dir=tmp_path
        )
        server.stop()
    assert "no 4 MiB reserve beside the state file" in server.log(), server.log()
    assert "Traceback" not in server.log()
