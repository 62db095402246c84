"""Credentials a request body carries (a Responses ``mcp`` tool's ``headers`` and
``authorization``) are masked in the journal, in the request body and wherever the answer
echoes them (the response body, a stream's events), and never reach the state file.

The journal masks secret-named headers already; before this, it kept a body's own
credentials as sent, in the admin API, the dashboard and the SQLite file a ``--state``
path keeps on disk.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mockserver import MockConfig, close_app, create_app

TOKEN = "mcp-tok-Qw12Er34Ty56"
OAUTH = "oauth-Zx98Cv76Bn54"
AUTH = {"Authorization": "Bearer sk-journal-body-credentials"}


def _mcp_request(stream: bool) -> dict[str, Any]:
    tool = {
        "type": "mcp",
        "server_label": "docs",
        "server_url": "https://example.invalid/mcp",
        "headers": {"Authorization": f"Bearer {TOKEN}", "X-Trace": "kept-as-sent"},
        "authorization": OAUTH,
        "require_approval": "never",
    }
    return {"model": "gpt-4", "input": "What do the docs say?", "tools": [tool], "stream": stream}


def _state_bytes(state: Path) -> bytes:
    return b"".join(path.read_bytes() for path in state.parent.glob(state.name + "*"))


@pytest.mark.parametrize("stream", [False, True])
def test_an_mcp_tools_credentials_are_masked_in_the_journal_and_its_file(
    tmp_path: Path, stream: bool
) -> None:
    state = tmp_path / "state.sqlite3"
    app = create_app(MockConfig(state_path=state))
    try:
        client = app.test_client()
        answer = client.post("/v1/responses", json=_mcp_request(stream), headers=AUTH)
        assert answer.status_code == 200, answer.text
        assert TOKEN in answer.text  # the answer echoes the tool as sent, as the API does
        [entry] = client.get("/_mock/requests").get_json()["data"]
        kept = json.dumps(entry)
        assert TOKEN not in kept and OAUTH not in kept
        [tool] = entry["body"]["tools"]
        assert tool["headers"] == {"Authorization": "Bearer ***", "X-Trace": "kept-as-sent"}
        assert tool["authorization"] == "***"
        assert "***" in json.dumps(entry["response_body"])
    finally:
        close_app(app)
    stored = _state_bytes(state)
    assert TOKEN.encode() not in stored and OAUTH.encode() not in stored


def test_bodies_without_credentials_are_kept_as_sent(tmp_path: Path) -> None:
    """Only credential-shaped values under the tools' secret names are masked: a short
    flag, a word, and the rest of the body stay as sent."""
    body = _mcp_request(stream=False)
    [tool] = body["tools"]
    tool["headers"] = {"Authorization": "Bearer short", "X-Api-Version": "2024-10-01-preview"}
    del tool["authorization"]
    app = create_app(MockConfig(state_path=tmp_path / "state.sqlite3"))
    try:
        client = app.test_client()
        assert client.post("/v1/responses", json=body, headers=AUTH).status_code == 200
        [entry] = client.get("/_mock/requests").get_json()["data"]
        assert entry["body"] == body
    finally:
        close_app(app)
