"""The journal records the headers a client sent, and only those, under every server.

granian builds each WSGI environ on a copy of the server's own process environment (a CGI
habit): a variable named like a header (``HTTP_PROXY``, often a proxy URL with its
credentials) then reads as one. Every entry recorded a ``Proxy`` header no client sent,
with the server's secret in it; and a CI runner's 150 variables were scanned on every
request.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.fixtures.servers import SERVER_KINDS, RunningServer, server_of_kind

SECRET = "s3cret-in-the-servers-env"
PROXY = f"http://ci-user:{SECRET}@proxy.invalid:3128"
AUTH = {"Authorization": "Bearer sk-test"}
CHAT = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]}


@pytest.fixture(params=SERVER_KINDS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningServer]:
    env = dict(os.environ, HTTP_PROXY=PROXY, HTTP_X_CI_TOKEN=SECRET)
    env.update({f"RUNNER_VARIABLE_{n}": f"value {n}" for n in range(150)})
    with server_of_kind(request.param, tmp_path, env) as running:
        yield running


def _last_entry(server: RunningServer) -> tuple[dict[str, str], str]:
    listing = requests.get(f"{server.url}/_mock/requests", params={"limit": 1}, timeout=10)
    assert listing.ok, listing.text
    return listing.json()["data"][0]["request_headers"], listing.text


def test_the_servers_environment_is_never_recorded_as_a_header(server: RunningServer) -> None:
    sent = {**AUTH, "X-First": "1", "X-Second": "2", "X-Third": "3"}
    answer = requests.post(f"{server.url}/v1/chat/completions", json=CHAT, headers=sent, timeout=10)
    assert answer.ok, answer.text
    headers, listing = _last_entry(server)
    assert SECRET not in listing
    assert "Proxy" not in headers and "X-Ci-Token" not in headers
    assert not any(name.startswith("Runner") for name in headers)
    # What the client sent is all there, in the order it was sent.
    names = [name for name in headers if name.startswith("X-")]
    assert names == ["X-First", "X-Second", "X-Third"]
    assert {"Host", "Content-Type", "Content-Length"} <= set(headers)


def test_a_header_named_as_a_server_variable_is_recorded_as_sent(server: RunningServer) -> None:
    sent = {**AUTH, "Proxy": "the-clients-own", "X-Ci-Token": "abc"}
    answer = requests.post(f"{server.url}/v1/chat/completions", json=CHAT, headers=sent, timeout=10)
    assert answer.ok, answer.text
    headers, listing = _last_entry(server)
    assert headers["Proxy"] == "the-clients-own"
    assert headers["X-Ci-Token"] == "***"  # named for a token: masked, as any secret header
    assert SECRET not in listing
