"""``harness serve --no-journal``: a mock for load tests that never read the journal.

Keeping the journal (an entry per request: its bodies, headers and the stream's text, written
to the state file) is about a third of a streamed answer's CPU under load; a load test that
never reads it can turn it off, as WireMock's ``--no-request-journal`` does. The answers are
the same; the journal's reads say plainly that it is off.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
import requests

from tests.fixtures.servers import RunningServer, start_server

HELLO = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]}


@pytest.fixture
def unjournaled(tmp_path: Path) -> Iterator[RunningServer]:
    state = tmp_path / "state.sqlite3"
    server = start_server(
        ["--no-journal", "--workers", "2", "--state", str(state), "--log-level", "info"],
        log_dir=tmp_path,
    )
    yield server
    server.stop()


def test_answers_are_served_and_nothing_is_journaled(
    unjournaled: RunningServer, tmp_path: Path
) -> None:
    client = openai.OpenAI(base_url=unjournaled.base_url, api_key="sk-test", max_retries=0)
    reply = client.chat.completions.create(**HELLO)
    assert reply.choices[0].message.content
    stream = client.chat.completions.create(**HELLO, stream=True)
    assert "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    stored = client.responses.create(model="gpt-4", input="Hello", store=True)
    assert client.responses.retrieve(stored.id).id == stored.id  # stored responses still kept
    # Stubs still answer, and the access log still names them.
    stub = {"match": {"last_user_message": "^Hello$"}, "reply": {"text": "Hi!"}}
    created = requests.post(f"{unjournaled.url}/_mock/stubs", json=stub, timeout=10)
    assert created.ok, created.text
    assert client.chat.completions.create(**HELLO).choices[0].message.content == "Hi!"

    listing = requests.get(f"{unjournaled.url}/_mock/requests", timeout=10)
    assert listing.status_code == 409
    error = listing.json()["error"]
    assert error["code"] == "journal_off" and "--no-journal" in error["message"]
    misses = requests.get(f"{unjournaled.url}/_mock/near-misses", timeout=10)
    assert misses.status_code == 409 and misses.json()["error"]["code"] == "journal_off"
    page = requests.get(f"{unjournaled.url}/_mock/ui/requests", timeout=10)
    assert page.status_code == 409 and page.json()["error"]["code"] == "journal_off"
    # Clearing and resetting work as on any mock: there is just nothing to delete.
    cleared = requests.delete(f"{unjournaled.url}/_mock/requests", timeout=10)
    assert cleared.json() == {"deleted": 0}
    assert requests.post(f"{unjournaled.url}/_mock/reset", timeout=10).ok

    with sqlite3.connect(tmp_path / "state.sqlite3") as connection:
        assert connection.execute("SELECT COUNT(*) FROM journal").fetchone() == (0,)
    unjournaled.stop()
    log = unjournaled.log()
    assert "POST /v1/chat/completions 200" in log and "stub=stub_" in log
    assert "Request journal off (--no-journal)" in log  # said at start


def test_the_option_is_in_the_help() -> None:
    from click.testing import CliRunner

    from harness.cli import main

    result = CliRunner().invoke(main, ["serve", "--help"])
    assert "--no-journal" in result.output and "HARNESS_NO_JOURNAL" in result.output
