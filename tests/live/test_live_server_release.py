"""``LiveServer.stop()`` releases what its app holds, not only the HTTP server.

Stopped, a LiveServer left its app's temporary state folder (some 4 MB each), about five
descriptors (the pool's SQLite connections, the WAL and SHM files, the shared counters'
maps) and a live journal writer thread until the process exited: a suite with a LiveServer
per test ran out of descriptors after a few hundred tests and filled the temp dir.
"""

from __future__ import annotations

import glob
import logging
import os
import sqlite3
import tempfile
import threading
from pathlib import Path

import pytest
import requests

from harness.testing import LiveServer
from mockserver import MockConfig, close_app, create_app
from tests.fixtures.redis_server import RedisServer, redis_prefix, redis_server

__all__ = ["redis_prefix", "redis_server"]  # fixtures this module uses

CHAT = {"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}
KEY = {"Authorization": "Bearer k"}
CYCLES = 4
# Descriptors a cycle may leave for good (a cached socket, a lazily opened file of a library).
SLACK_FDS = 3


def _descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def _folders() -> set[str]:
    pattern = os.path.join(tempfile.gettempdir(), f"harness-state-{os.getpid()}-*")
    return set(glob.glob(pattern))


def _journal_threads() -> int:
    # The writer, and on Redis the listener for other instances' flush requests.
    names = ("journal", "journal-flushes")
    return sum(1 for thread in threading.enumerate() if thread.name in names)


def _one_cycle(config: MockConfig | None = None) -> None:
    with LiveServer(config) as server:
        answer = requests.post(
            f"{server.base_url}/chat/completions", json=CHAT, headers=KEY, timeout=30
        )
        assert answer.status_code == 200, answer.text


def test_start_request_stop_cycles_leave_nothing_behind() -> None:
    _one_cycle()  # imports, the tokenizer, the specs' caches: loaded once for the process
    fds, folders, writers = _descriptors(), _folders(), _journal_threads()
    for _ in range(CYCLES):
        _one_cycle()
    assert _folders() == folders
    assert _journal_threads() == writers
    assert _descriptors() <= fds + SLACK_FDS, os.listdir("/proc/self/fd")


def test_a_given_state_file_keeps_its_journal_after_stop(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    config = MockConfig(state_path=path)
    with LiveServer(config) as server:
        server.stub(match={"last_user_message": "hi"}, reply={"text": "kept"}, id="kept")
        answer = requests.post(
            f"{server.base_url}/chat/completions", json=CHAT, headers=KEY, timeout=30
        )
        assert answer.status_code == 200, answer.text
    # Written before stop() returned, into the file itself (the log checkpointed, closed).
    assert path.exists()
    assert not Path(f"{path}-wal").exists()
    with sqlite3.connect(path) as connection:
        (rows,) = connection.execute("SELECT COUNT(*) FROM journal").fetchone()
    assert rows == 1
    with LiveServer(config) as again:
        entries = again.requests.filter(path="/v1/chat/completions")
        assert [entry["stub_id"] for entry in entries] == ["kept"]
        assert [stub["id"] for stub in again.unused_stubs()] == []


def test_a_redis_state_keeps_its_data_and_lets_go_of_the_rest(
    redis_server: RedisServer, redis_prefix: str
) -> None:
    config = MockConfig(state_url=redis_server.url, redis_prefix=redis_prefix)
    _one_cycle(config)
    fds, folders, threads = _descriptors(), _folders(), _journal_threads()
    for _ in range(CYCLES):
        _one_cycle(config)
    assert _folders() == folders
    assert _journal_threads() == threads
    assert _descriptors() <= fds + SLACK_FDS, os.listdir("/proc/self/fd")
    with LiveServer(config) as again:  # every cycle's entry is on Redis still
        assert len(again.requests.filter(path="/v1/chat/completions")) == CYCLES + 1


def test_stop_twice_and_close_app_twice() -> None:
    server = LiveServer().start()
    server.stop()
    server.stop()
    app = create_app(MockConfig())
    folder = app.extensions["mockserver"].db.path.parent
    assert app.test_client().get("/_mock/health").status_code == 200
    close_app(app)
    close_app(app)
    assert not folder.exists()


def test_stop_during_a_stream_prints_no_traceback(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    before = _folders()
    server = LiveServer().start()
    (folder,) = _folders() - before
    stream = requests.post(
        f"{server.base_url}/chat/completions",
        json={**CHAT, "stream": True, "max_tokens": 20},
        headers={**KEY, "X-Mock-Chunk-Delay-Ms": "50"},
        stream=True,
        timeout=30,
    )
    frames = stream.iter_lines()
    assert next(frames).startswith(b"data:")
    server.stop()  # the stream is still being sent, by a request thread of the stopped server
    rest = b"\n".join(frames)  # read to its end: its entry is submitted after stop()
    assert rest.rstrip().endswith(b"data: [DONE]")
    stream.close()
    for thread in threading.enumerate():
        if "process_request_thread" in thread.name:  # werkzeug's, the stream's among them
            thread.join(timeout=5)
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err, captured.err
    assert "Error on request" not in captured.err, captured.err
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert not os.path.exists(folder)
