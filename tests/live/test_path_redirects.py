"""A path werkzeug's router would merge (``/v1//chat/completions``) is redirected in JSON.

The router answers such a path with a 308 to the merged one. Its body was werkzeug's HTML
"Redirecting..." page: a client that does not follow redirects (httpx's default, curl
without ``-L``) got HTML from an API. The 308 stays (clients that follow it get their
answer) and carries the OpenAI error envelope naming where to go.
"""

from __future__ import annotations

import httpx

from tests.fixtures.servers import API_KEY, RunningServer

AUTH = {"Authorization": f"Bearer {API_KEY}"}
CHAT = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]}


def test_a_doubled_slash_is_a_json_redirect(live_server: RunningServer) -> None:
    url = f"{live_server.url}/v1//chat/completions"
    answer = httpx.post(url, json=CHAT, headers=AUTH, timeout=10)
    assert answer.status_code == 308, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["location"].endswith("/v1/chat/completions")
    error = answer.json()["error"]
    assert "/v1/chat/completions" in error["message"]
    followed = httpx.post(url, json=CHAT, headers=AUTH, timeout=10, follow_redirects=True)
    assert followed.status_code == 200, followed.text
    assert followed.json()["object"] == "chat.completion"


def test_a_doubled_slash_in_an_admin_path_is_a_json_404(live_server: RunningServer) -> None:
    answer = httpx.get(f"{live_server.url}/_mock//health", timeout=10)
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert "/_mock//health" in answer.json()["error"]["message"]
