"""A bad journal query is a 400 naming the parameter that is wrong (it used to name `status`)."""

from __future__ import annotations

import pytest
import requests

from tests.fixtures.servers import API_KEY, RunningServer

AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("valid=maybe", "valid"),
        ("limit=abc", "limit"),
        ("limit=-1", "limit"),
        ("status=x", "status"),
    ],
)
def test_a_bad_journal_query_names_its_parameter(
    live_server: RunningServer, query: str, param: str
) -> None:
    answer = requests.get(f"{live_server.url}/_mock/requests?{query}", headers=AUTH, timeout=10)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["param"] == param
    assert param in error["message"]


def test_good_journal_queries_are_answered(live_server: RunningServer) -> None:
    for query in ("valid=true", "valid=False", "limit=0", "limit=3", "status=200"):
        answer = requests.get(f"{live_server.url}/_mock/requests?{query}", headers=AUTH, timeout=10)
        assert answer.status_code == 200, (query, answer.text)
