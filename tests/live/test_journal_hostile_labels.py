"""What a request names itself (its model) cannot cost other requests their journal entries,
nor make every page of the dashboard as large as itself."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.fixtures.admin import Admin
from tests.fixtures.servers import API_KEY, RunningServer

HEADERS = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
GOOD = b'{"model":"gpt-4","messages":[{"role":"user","content":"good"}]}'
# A lone surrogate is valid JSON (RFC 8259 allows the escape); the model is then not served.
SURROGATE = b'{"model":"gpt-4\\udc00","messages":[{"role":"user","content":"bad"}]}'


def _post(url: str, body: bytes) -> int:
    answer = requests.post(f"{url}/v1/chat/completions", data=body, headers=HEADERS, timeout=30)
    return answer.status_code


@pytest.mark.usefixtures("admin")
def test_a_model_with_a_lone_surrogate_costs_no_other_entry(live_server: RunningServer) -> None:
    bodies = [GOOD] * 8 + [SURROGATE] + [GOOD] * 8
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda body: _post(live_server.url, body), bodies))
    assert statuses.count(200) == 16 and statuses.count(404) == 1
    admin = Admin(live_server.url)
    entries = admin.requests()
    assert len(entries) == len(bodies)
    (odd,) = [entry for entry in entries if entry["status"] == 404]
    assert odd["body"]["model"].startswith("gpt-4")


@pytest.mark.usefixtures("admin")
def test_a_huge_model_name_is_bounded_in_the_lists(live_server: RunningServer) -> None:
    model = "m" * 200_000
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    answer = requests.post(
        f"{live_server.url}/v1/chat/completions", json=body, headers=HEADERS, timeout=30
    )
    assert answer.status_code == 404
    page = requests.get(f"{live_server.url}/_mock/ui/requests", headers=HEADERS, timeout=30)
    assert page.status_code == 200
    assert len(page.content) < 10_000, len(page.content)
