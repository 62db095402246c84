"""Who may use the admin API under /_mock/: the key, JSON-only writes, Host and Origin checks.

A browser page can reach a loopback port: a `fetch` with a Blob body sends JSON with no
Content-Type and no preflight, and DNS rebinding makes a foreign name resolve to 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from harness.testing import LiveServer
from mockserver import MockConfig, create_app
from tests.fixtures.servers import API_KEY, RunningServer, serve_in_thread

AUTH = {"Authorization": f"Bearer {API_KEY}"}
STUB = {"match": {"last_user_message": "^admin-security$"}, "reply": {"text": "stubbed"}}


def assert_openai_error(response: requests.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, object] = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


@pytest.fixture
def url(live_server: RunningServer) -> Iterator[str]:
    yield live_server.url
    requests.post(f"{live_server.url}/_mock/reset", headers=AUTH, timeout=10)


def test_the_admin_api_needs_the_key_when_the_server_has_one(url: str) -> None:
    for method, path in [
        ("GET", "/_mock/stubs"),
        ("GET", "/_mock/requests"),
        ("DELETE", "/_mock/requests"),
        ("DELETE", "/_mock/stubs"),
        ("POST", "/_mock/reset"),
    ]:
        bare = requests.request(method, f"{url}{path}", timeout=10)
        assert_openai_error(bare, 401)
        wrong = requests.request(
            method, f"{url}{path}", headers={"Authorization": "Bearer nope-nope-nope"}, timeout=10
        )
        assert assert_openai_error(wrong, 401)["code"] == "invalid_api_key"
        assert requests.request(method, f"{url}{path}", headers=AUTH, timeout=10).ok
    refused = requests.post(f"{url}/_mock/stubs", json=STUB, timeout=10)
    assert_openai_error(refused, 401)
    listed = requests.get(f"{url}/_mock/stubs", headers=AUTH, timeout=10).json()["data"]
    assert listed == []
    # The health check stays open: process managers and readiness probes poll it bare.
    assert requests.get(f"{url}/_mock/health", timeout=10).status_code == 200


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_admin_writes_must_be_declared_json(url: str, content_type: str | None) -> None:
    # What a browser sends without a preflight: a Blob body has no Content-Type at all.
    headers = {**AUTH, **({"Content-Type": content_type} if content_type else {})}
    body = b'{"reply": {"text": "stubbed"}}'
    refused = requests.post(f"{url}/_mock/stubs", data=body, headers=headers, timeout=10)
    assert assert_openai_error(refused, 415)["message"]
    assert requests.get(f"{url}/_mock/stubs", headers=AUTH, timeout=10).json()["data"] == []
    accepted = requests.post(
        f"{url}/_mock/stubs",
        data=body,
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=10,
    )
    assert accepted.status_code == 201, accepted.text


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.evil.example"])
def test_a_foreign_host_is_refused(url: str, host: str) -> None:
    # DNS rebinding: the page's own name now resolves to 127.0.0.1; its Host header tells.
    for method, path in [("GET", "/_mock/requests"), ("POST", "/_mock/reset")]:
        response = requests.request(
            method, f"{url}{path}", headers={**AUTH, "Host": host}, timeout=10
        )
        assert assert_openai_error(response, 403)["param"] == "Host"


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:1234", "app.localhost", "[::1]:9"])
def test_loopback_names_are_accepted(url: str, host: str) -> None:
    response = requests.get(f"{url}/_mock/stubs", headers={**AUTH, "Host": host}, timeout=10)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", "http://localhost:1", "https://127.0.0.1"]
)
def test_a_foreign_origin_is_refused(url: str, origin: str) -> None:
    response = requests.post(
        f"{url}/_mock/stubs", json=STUB, headers={**AUTH, "Origin": origin}, timeout=10
    )
    assert assert_openai_error(response, 403)["param"] == "Origin"
    assert requests.get(f"{url}/_mock/stubs", headers=AUTH, timeout=10).json()["data"] == []


def test_a_same_origin_page_and_clients_without_origin_pass(url: str) -> None:
    same = requests.post(f"{url}/_mock/stubs", json=STUB, headers={**AUTH, "Origin": url})
    assert same.status_code == 201, same.text


def test_a_cross_site_fetch_without_origin_is_refused(url: str) -> None:
    # A no-cors GET (an <img> or <script> tag) carries no Origin, but Sec-Fetch-Site tells.
    response = requests.get(
        f"{url}/_mock/requests", headers={**AUTH, "Sec-Fetch-Site": "cross-site"}, timeout=10
    )
    assert assert_openai_error(response, 403)["param"] == "Origin"


def test_on_all_interfaces_any_host_but_still_no_foreign_origin() -> None:
    # Listening on 0.0.0.0 the mock cannot know the names it is reached by (a compose service
    # name, a LAN address): any Host passes, the key and the Origin check still hold.
    app = create_app(MockConfig(api_key=API_KEY, listen_host="0.0.0.0"))
    with serve_in_thread(app) as url:
        listed = requests.get(
            f"{url}/_mock/stubs", headers={**AUTH, "Host": "mock:8080"}, timeout=10
        )
        assert listed.status_code == 200, listed.text
        foreign = requests.post(
            f"{url}/_mock/reset",
            headers={**AUTH, "Host": "mock:8080", "Origin": "http://evil.example"},
            timeout=10,
        )
        assert assert_openai_error(foreign, 403)["param"] == "Origin"
        bare = requests.get(f"{url}/_mock/stubs", headers={"Host": "mock:8080"}, timeout=10)
        assert_openai_error(bare, 401)


def test_the_bound_host_is_accepted() -> None:
    app = create_app(MockConfig(listen_host="mock.internal"))
    with serve_in_thread(app) as url:
        response = requests.get(
            f"{url}/_mock/stubs", headers={"Host": "mock.internal:8080"}, timeout=10
        )
        assert response.status_code == 200, response.text
        other = requests.get(f"{url}/_mock/stubs", headers={"Host": "evil.example"}, timeout=10)
        assert_openai_error(other, 403)


def test_without_a_key_the_admin_api_is_open_to_local_clients() -> None:
    with LiveServer() as server:
        server.stub(match={"last_user_message": "x"}, reply={"text": "y"})
        assert requests.get(f"{server.url}/_mock/stubs", timeout=10).json()["data"]


def test_live_server_sends_the_key_of_its_config() -> None:
    with LiveServer(MockConfig(api_key=API_KEY)) as server:
        created = server.stub(match={"last_user_message": "^k$"}, reply={"text": "keyed"})
        assert created["reply"] == {"text": "keyed"}
        answer = requests.post(
            f"{server.base_url}/chat/completions",
            json={"model": "gpt-4", "messages": [{"role": "user", "content": "k"}]},
            headers=AUTH,
            timeout=10,
        )
        assert answer.json()["choices"][0]["message"]["content"] == "keyed"
        assert [entry["path"] for entry in server.requests] == ["/v1/chat/completions"]
        server.reset()
        assert requests.get(f"{server.url}/_mock/stubs", timeout=10).status_code == 401
