"""`/_mock/near-misses` on `harness serve`: why no stub answered, and who may ask."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.fixtures.admin import Admin
from tests.fixtures.servers import API_KEY, RunningServer

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def chat(server: RunningServer, text: str, **body: Any) -> requests.Response:
    return requests.post(
        f"{server.url}/v1/chat/completions",
        json={"model": "gpt-4", "messages": [{"role": "user", "content": text}], **body},
        headers=AUTH,
        timeout=10,
    )


def near_misses(server: RunningServer, **params: Any) -> requests.Response:
    return requests.get(f"{server.url}/_mock/near-misses", params=params, headers=AUTH, timeout=10)


def test_a_used_up_stub_says_so(admin: Admin, live_server: RunningServer) -> None:
    admin.stub(id="once", match={"last_user_message": "hi"}, reply={"text": "first"}, times=1)
    assert chat(live_server, "hi").json()["choices"][0]["message"]["content"] == "first"
    assert chat(live_server, "hi").json()["choices"][0]["message"]["content"] != "first"
    (report,) = near_misses(live_server).json()["data"]
    (miss,) = report["near_misses"]
    assert miss["stub_id"] == "once"
    assert miss["mismatches"] == [
        {
            "field": "times",
            "expected": 1,
            "actual": 1,
            "reason": "the stub was used up: 1 of 1 uses",
        }
    ]


def test_a_request_refused_before_stubs_were_tried_shows_a_stub_that_fits(
    admin: Admin, live_server: RunningServer
) -> None:
    admin.stub(id="fits", match={"last_user_message": "hi"}, reply={"text": "x"})
    assert chat(live_server, "hi", temperature=5).status_code == 400
    (report,) = near_misses(live_server).json()["data"]
    assert report["request"]["status"] == 400
    assert report["near_misses"][0]["stub_id"] == "fits"
    assert report["near_misses"][0]["mismatches"] == []
    assert report["near_misses"][0]["distance"] == 0


def test_responses_requests_are_searched_in_their_input(
    admin: Admin, live_server: RunningServer
) -> None:
    admin.stub(
        id="r",
        match={"endpoint": "/v1/responses", "last_user_message": "^bye$"},
        reply={"text": "x"},
    )
    requests.post(
        f"{live_server.url}/v1/responses",
        json={"model": "gpt-4", "input": "bye now"},
        headers=AUTH,
        timeout=10,
    )
    (report,) = near_misses(live_server, path="/v1/responses").json()["data"]
    assert report["request"]["last_user_message"] == "bye now"
    (mismatch,) = report["near_misses"][0]["mismatches"]
    assert (mismatch["field"], mismatch["actual"]) == ("match.last_user_message", "bye now")


def test_answered_requests_and_get_routes_are_left_out(
    admin: Admin, live_server: RunningServer
) -> None:
    admin.stub(match={"last_user_message": "hi"}, reply={"text": "x"})
    chat(live_server, "hi")
    requests.get(f"{live_server.url}/v1/models", headers=AUTH, timeout=10)
    assert near_misses(live_server).json()["data"] == []


def test_limit_keeps_the_last_requests(admin: Admin, live_server: RunningServer) -> None:
    admin.stub(match={"model": "gpt-4o"}, reply={"text": "x"})
    for text in ("one", "two", "three"):
        chat(live_server, text)
    reports = near_misses(live_server, limit=2).json()["data"]
    # The journal's last two, in its order (two workers write it as their answers end).
    last_two = [entry["seq"] for entry in admin.requests()][-2:]
    assert [report["request"]["seq"] for report in reports] == last_two


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "lots"}, "limit"),
        ({"status": "200"}, "status"),
    ],
)
def test_bad_queries_are_a_400_naming_the_parameter(
    admin: Admin, live_server: RunningServer, params: dict[str, str], param: str
) -> None:
    response = near_misses(live_server, **params)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


@pytest.mark.parametrize(
    ("given", "param"),
    [
        ({"path": "v1/chat/completions", "body": {}}, "path"),
        ({"path": "/v1/chat/completions"}, "body"),
        ({"path": "/v1/chat/completions", "body": []}, "body"),
        ([], "path"),
    ],
)
def test_a_bad_request_to_explain_is_a_400(
    admin: Admin, live_server: RunningServer, given: Any, param: str
) -> None:
    response = requests.post(
        f"{live_server.url}/_mock/near-misses", json=given, headers=AUTH, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_admin_access_rules_apply(admin: Admin, live_server: RunningServer) -> None:
    url = f"{live_server.url}/_mock/near-misses"
    assert requests.get(url, timeout=10).status_code == 401  # the server's key is needed
    foreign = {**AUTH, "Origin": "http://evil.example"}
    assert requests.get(url, headers=foreign, timeout=10).status_code == 403
    rebound = {**AUTH, "Host": "evil.example"}
    assert requests.get(url, headers=rebound, timeout=10).status_code == 403
    plain = {**AUTH, "Content-Type": "text/plain"}
    body = '{"path": "/v1/chat/completions", "body": {}}'
    assert requests.post(url, data=body, headers=plain, timeout=10).status_code == 415
