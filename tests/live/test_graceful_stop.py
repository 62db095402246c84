"""A worker stopped gracefully finishes what it was still holding: the access line and the
journal entry of a request answered just before the stop.

granian's workers are multiprocessing children, which leave without running ``atexit``
handlers; both were lost there (3 stops in 3) before ``mockserver.process_exit``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import requests

from tests.fixtures.servers import start_server

CHAT = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]}


@pytest.mark.parametrize("server", ["granian", "granian-rsgi", "gthread"])
def test_the_last_request_before_a_stop_is_logged_and_journaled(
    server: str, tmp_path: Path
) -> None:
    state = tmp_path / "state.sqlite3"
    running = start_server(
        ["--server", server, "--workers", "1", "--state", str(state)], log_dir=tmp_path
    )
    try:
        answer = requests.post(
            f"{running.base_url}/chat/completions",
            json=CHAT,
            headers={"Authorization": "Bearer sk-stop"},
            timeout=10,
        )
        assert answer.status_code == 200
    finally:
        assert running.stop() == 0  # at once: the line and the entry are still held
    assert "POST /v1/chat/completions 200" in running.log()
    with sqlite3.connect(state) as connection:
        paths = [path for (path,) in connection.execute("SELECT path FROM journal")]
    assert paths == ["/v1/chat/completions"]
