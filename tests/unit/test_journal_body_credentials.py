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
        # The answer shows the tool without them, as the live API does (specs/README.md).
        assert TOKEN not in answer.text and OAUTH not in answer.text
        [entry] = client.get("/_mock/requests").get_json()["data"]
        kept = json.dumps(entry)
        assert TOKEN not in kept and OAUTH not in kept
        [tool] = entry["body"]["tools"]
        assert tool["headers"] == {"Authorization": "Bearer ***", "X-Trace": "kept-as-sent"}
        assert tool["authorization"] == "***"
        answered = entry["response_body"]  # a stream's text, or the JSON body
        if not isinstance(answered, str):
            answered = json.dumps(answered, separators=(",", ":"))
        assert '"headers":null' in answered
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


def _journaled(tmp_path: Path, body: dict[str, Any], **config: Any) -> dict[str, Any]:
    """The one entry the journal keeps of ``body``, sent as ``json.dumps`` writes it (the
    answer's status checked by callers)."""
    app = create_app(MockConfig(state_path=tmp_path / "state.sqlite3", **config))
    try:
        client = app.test_client()
        raw = json.dumps(body)
        client.post("/v1/responses", data=raw, content_type="application/json", headers=AUTH)
        answer = client.get("/_mock/requests")
        assert answer.status_code == 200, answer.text  # every entry still parses
        [entry] = answer.get_json()["data"]
        return entry  # type: ignore[no-any-return]
    finally:
        close_app(app)


@pytest.mark.parametrize("stream", [False, True])
def test_a_credential_with_other_than_ascii_letters_is_masked(tmp_path: Path, stream: bool) -> None:
    """The entry is written by orjson, which keeps "ö" as it is; the standard library's
    form (``\\u00f6``) alone was searched for, and such a credential was kept whole."""
    body = _mcp_request(stream)
    body["tools"][0]["authorization"] = "tökén-Qw12Er34Ty56"
    kept = json.dumps(_journaled(tmp_path, body), ensure_ascii=False)
    assert "tökén-Qw12Er34Ty56" not in kept and "***" in kept


@pytest.mark.parametrize("stream", [False, True])
def test_a_credential_cut_by_the_journals_limit_leaves_no_start_behind(
    tmp_path: Path, stream: bool
) -> None:
    body = _mcp_request(stream)
    raw = json.dumps(body)
    cut = raw.index(TOKEN) + 8  # the journal keeps the body up to the middle of the token
    entry = _journaled(tmp_path, body, journal_body_max_bytes=cut)
    assert entry["body_truncated"] is True
    kept = json.dumps(entry)
    assert TOKEN[:6] not in kept and OAUTH[:6] not in kept


def test_an_escaped_character_before_a_credentials_letters_is_left_alone(tmp_path: Path) -> None:
    """In ``"x\\nabc..."`` the ``n`` belongs to the escape: masking from it broke the entry's
    JSON (the read of the whole journal failed)."""
    body = _mcp_request(stream=False)
    body["tools"][0]["authorization"] = "nabc123456789xyz"
    body["input"] = "x\nabc123456789xyz"
    entry = _journaled(tmp_path, body)
    assert entry["body"]["input"] == "x\nabc123456789xyz"
    assert entry["body"]["tools"][0]["authorization"] == "***"


def test_a_body_with_more_credentials_than_searched_keeps_neither_body(tmp_path: Path) -> None:
    """Each credential is a pass over the entry's text: past MAX_BODY_CREDENTIALS the
    bodies are not kept (300,000 such tools took 15 s to journal)."""
    from mockserver.journal_capture import MAX_BODY_CREDENTIALS

    tools = [
        {"type": "mcp", "server_label": f"s{n}", "authorization": f"a{n:011d}x"}
        for n in range(MAX_BODY_CREDENTIALS + 1)
    ]
    entry = _journaled(tmp_path, {"model": "gpt-4", "input": "Hi", "tools": tools})
    assert entry["status"] == 400  # past the live API's 128 tools
    kept = json.dumps(entry)
    assert "a00000000001x" not in kept and "not kept" in entry["body"]


def test_the_keys_in_an_mcp_server_url_stay_out_of_the_journal_and_its_file(
    tmp_path: Path,
) -> None:
    """A key in the URL of an MCP server (its user info, path or query) was kept as sent:
    in the admin API, the dashboard and the state file. The live API echoes only the host."""
    password, path_key, query_key = "pw-Lm34Nb56Vc78", "zap9Kq27Lm35Wp41", "key-Ab12Cd34Ef56"
    body = _mcp_request(stream=False)
    body["tools"][0]["server_url"] = (
        f"https://robot:{password}@mcp.example.com/api/s/{path_key}/mcp"
        f"?api_key={query_key}&version=2024-11-05"
    )
    entry = _journaled(tmp_path, body)
    kept = json.dumps(entry)
    for secret in (password, path_key, query_key):
        assert secret not in kept
        assert secret.encode() not in _state_bytes(tmp_path / "state.sqlite3")
    assert entry["body"]["tools"][0]["server_url"] == (
        "https://***@mcp.example.com/api/s/***/mcp?api_key=***&version=2024-11-05"
    )
