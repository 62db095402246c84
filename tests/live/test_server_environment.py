"""A variable in the server's environment never reads as part of a request, under every server.

granian builds each WSGI environ on a copy of the worker's process environment, as CGI did,
and the request's own keys go over it. A variable named like a header a request did not
send (``HTTP_AUTHORIZATION``, ``HTTP_X_MOCK_FAULT``), or like the body's length and type
(``CONTENT_LENGTH``, ``CONTENT_TYPE``), then reads as the request's own: a key no client
sent let every request in, a fault no client asked for answered every request, and a chunked
body was cut at a length no client declared.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.fixtures.servers import SERVER_KINDS, RunningServer, server_of_kind

CHAT = b'{"model": "gpt-4", "messages": [{"role": "user", "content": "Hello there"}]}'
AUTH = {"Authorization": "Bearer sk-test"}


@pytest.fixture(params=SERVER_KINDS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningServer]:
    env = dict(
        os.environ,
        HTTP_AUTHORIZATION="Bearer sk-from-the-servers-env",
        HTTP_X_MOCK_FAULT="server_error",
        HTTP_ORIGIN="https://evil.example",
        CONTENT_LENGTH="5",
        CONTENT_TYPE="text/plain",
    )
    with server_of_kind(request.param, tmp_path, env) as running:
        yield running


def test_a_request_without_a_key_is_refused(server: RunningServer) -> None:
    answer = requests.post(
        f"{server.url}/v1/chat/completions",
        data=CHAT,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 401, answer.text
    assert "API key" in answer.json()["error"]["message"]


def test_no_fault_is_served_that_the_client_did_not_ask_for(server: RunningServer) -> None:
    answer = requests.post(
        f"{server.url}/v1/chat/completions",
        data=CHAT,
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"]
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_a_chunked_body_without_a_type_is_read_whole_as_json(server: RunningServer) -> None:
    # No Content-Length (chunked) and no Content-Type: the mock reads it whole, as JSON.
    answer = requests.post(
        f"{server.url}/v1/chat/completions",
        data=iter([CHAT[:20], CHAT[20:]]),
        headers=AUTH,
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["object"] == "chat.completion"


def test_the_admin_api_sees_no_origin_the_client_did_not_send(server: RunningServer) -> None:
    answer = requests.get(f"{server.url}/_mock/stubs", timeout=10)
    assert answer.status_code == 200, answer.text
