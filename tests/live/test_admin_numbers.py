"""Numbers in admin queries past what SQLite stores (2**63 - 1) are the caller's error or a
plain answer, never a 500.

A limit, a status filter or an entry number of 20 digits reached SQLite as they were, and
its ``OverflowError`` (Python int too large to convert to SQLite INTEGER) was answered 500
with a traceback in the log.
"""

from __future__ import annotations

import pytest
import requests

from tests.fixtures.servers import API_KEY, RunningServer

AUTH = {"Authorization": f"Bearer {API_KEY}"}
HUGE = "1" + "0" * 20


def _get(server: RunningServer, path: str, **params: str) -> requests.Response:
    return requests.get(f"{server.url}{path}", params=params, headers=AUTH, timeout=10)


def test_a_huge_limit_reads_the_whole_journal(live_server: RunningServer) -> None:
    answer = _get(live_server, "/_mock/requests", limit=HUGE)
    assert answer.status_code == 200, answer.text
    assert answer.json()["object"] == "list"


@pytest.mark.parametrize("path", ["/_mock/requests", "/_mock/ui/requests"])
def test_a_huge_status_filter_is_a_400_naming_it(live_server: RunningServer, path: str) -> None:
    answer = _get(live_server, path, status=HUGE)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == "status"


def test_a_huge_entry_number_is_not_found(live_server: RunningServer) -> None:
    answer = _get(live_server, f"/_mock/ui/requests/{HUGE}")
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"] == "application/json"
