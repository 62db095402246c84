"""``DELETE /_mock/responses`` and ``POST /_mock/reset``: stored responses are cleared too.

What ``store: true`` keeps is most of what fills a state file; the admin API must be able to
clear it, behind the same access rules as the other clears.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from mockserver import MockConfig, create_app
from tests.fixtures.servers import API_KEY, serve_in_thread

AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def url() -> Iterator[str]:
    with serve_in_thread(create_app(MockConfig(api_key=API_KEY))) as served:
        yield served


def store(url: str, text: str, **body: Any) -> str:
    answer = requests.post(
        f"{url}/v1/responses",
        json={"model": "gpt-4", "input": text, "store": True, **body},
        headers=AUTH,
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    response_id: str = answer.json()["id"]
    return response_id


def retrieved(url: str, response_id: str) -> int:
    return requests.get(f"{url}/v1/responses/{response_id}", headers=AUTH, timeout=10).status_code


def test_every_stored_response_is_cleared_with_a_count(url: str) -> None:
    first = store(url, "first")
    second = store(url, "second", previous_response_id=first)
    alone = store(url, "alone")
    deleted = requests.delete(f"{url}/v1/responses/{first}", headers=AUTH, timeout=10)
    assert deleted.status_code == 200  # hidden: the second continues it
    cleared = requests.delete(f"{url}/_mock/responses", headers=AUTH, timeout=10)
    assert cleared.status_code == 200, cleared.text
    assert cleared.json() == {"deleted": 2}
    assert [retrieved(url, i) for i in (first, second, alone)] == [404, 404, 404]
    continued = requests.post(
        f"{url}/v1/responses",
        json={"model": "gpt-4", "input": "more", "previous_response_id": second},
        headers=AUTH,
        timeout=10,
    )
    assert continued.status_code == 404, continued.text
    again = requests.delete(f"{url}/_mock/responses", headers=AUTH, timeout=10)
    assert again.json() == {"deleted": 0}
    # Storing goes on as before.
    assert retrieved(url, store(url, "after")) == 200


def test_clearing_responses_follows_the_admin_access_rules(url: str) -> None:
    kept = store(url, "kept")
    refused = [
        requests.delete(f"{url}/_mock/responses", timeout=10),
        requests.delete(
            f"{url}/_mock/responses", headers={"Authorization": "Bearer wrong-key"}, timeout=10
        ),
        requests.delete(
            f"{url}/_mock/responses", headers={**AUTH, "Host": "evil.example"}, timeout=10
        ),
        requests.delete(
            f"{url}/_mock/responses",
            headers={**AUTH, "Origin": "http://evil.example"},
            timeout=10,
        ),
    ]
    assert [answer.status_code for answer in refused] == [401, 401, 403, 403]
    for answer in refused:
        assert set(answer.json()["error"]) == {"message", "type", "param", "code"}
    assert retrieved(url, kept) == 200


def test_without_a_key_the_route_is_open_on_loopback() -> None:
    with serve_in_thread(create_app(MockConfig())) as url:
        stored = requests.post(
            f"{url}/v1/responses",
            json={"model": "gpt-4", "input": "x", "store": True},
            headers={"Authorization": "Bearer any"},
            timeout=10,
        ).json()["id"]
        cleared = requests.delete(f"{url}/_mock/responses", timeout=10)
        assert cleared.status_code == 200 and cleared.json() == {"deleted": 1}
        gone = requests.get(
            f"{url}/v1/responses/{stored}", headers={"Authorization": "Bearer any"}, timeout=10
        )
        assert gone.status_code == 404


def test_reset_clears_stored_responses_and_counts_each_kind(url: str) -> None:
    stored = store(url, "from an earlier test")
    stub = {"match": {"last_user_message": "^never$"}, "reply": {"text": "x"}}
    assert requests.post(f"{url}/_mock/stubs", json=stub, headers=AUTH, timeout=10).ok
    reset = requests.post(f"{url}/_mock/reset", headers=AUTH, timeout=10)
    assert reset.status_code == 200, reset.text
    counts = reset.json()
    assert counts["stubs_deleted"] == 1 and counts["responses_deleted"] == 1
    assert counts["requests_deleted"] == 1  # the store (admin calls are not journaled)
    assert retrieved(url, stored) == 404
