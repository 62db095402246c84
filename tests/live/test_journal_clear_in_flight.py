"""A request still being answered when the journal is cleared is not written after the clear.

The pytest plugin clears the journal before each test. A request of the previous test that
the client had given up on (a latency fault longer than its timeout, a held `timeout` fault)
was still being answered, and its entry was written after the clear: the next test's
journal held the previous test's request.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.fixtures.servers import SERVER_KINDS, RunningServer, server_of_kind

AUTH = {"Authorization": "Bearer k"}
CHAT = {"model": "gpt-4", "messages": [{"role": "user", "content": "slow one"}]}


@pytest.fixture(params=SERVER_KINDS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningServer]:
    with server_of_kind(request.param, tmp_path) as running:
        yield running


def _journal(server: RunningServer) -> list[dict[str, object]]:
    listing = requests.get(f"{server.url}/_mock/requests", timeout=10)
    assert listing.ok, listing.text
    return list(listing.json()["data"])


@pytest.mark.parametrize("clear", ["reset", "delete"])
def test_an_answer_in_flight_at_a_clear_is_not_journaled_after_it(
    server: RunningServer, clear: str
) -> None:
    with pytest.raises(requests.Timeout):  # the client gives up; the server goes on
        requests.post(
            f"{server.url}/v1/chat/completions",
            json=CHAT,
            headers={**AUTH, "X-Mock-Latency-Ms": "1500"},
            timeout=0.3,
        )
    json_headers = {"Content-Type": "application/json"}
    if clear == "reset":
        cleared = requests.post(f"{server.url}/_mock/reset", headers=json_headers, timeout=10)
    else:
        cleared = requests.delete(f"{server.url}/_mock/requests", headers=json_headers, timeout=10)
    assert cleared.ok, cleared.text
    time.sleep(2)  # the held answer ends, and its entry would be written
    after = requests.post(
        f"{server.url}/v1/chat/completions",
        json={**CHAT, "messages": [{"role": "user", "content": "the next test"}]},
        headers=AUTH,
        timeout=10,
    )
    assert after.ok, after.text
    contents = [entry["body"]["messages"][0]["content"] for entry in _journal(server)]  # type: ignore[index]
    assert contents == ["the next test"], contents
