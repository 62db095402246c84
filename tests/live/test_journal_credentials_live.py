"""An mcp tool's credentials (its headers, its token, a key in its server's URL), sent by
the official SDK to `harness serve` with a state file on disk, are masked in the journal it
serves and never written to that file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from openai import OpenAI

from tests.fixtures.servers import API_KEY, RunningServer, start_server

TOKEN = "mcp-live-Tk12Ab34Cd56"
OAUTH = "oauth-live-Ef78Gh90Ij12"
URL_KEY = "zap-live-Kl34Mn56Op78"  # in the server's URL, as Zapier's MCP URLs carry one


@pytest.fixture
def server_with_state(tmp_path: Path) -> Iterator[tuple[RunningServer, Path]]:
    state = tmp_path / "state.sqlite3"
    args = ["--api-key", API_KEY, "--workers", "2", "--state", str(state)]
    server = start_server(args, log_dir=tmp_path)
    try:
        yield server, state
    finally:
        server.stop()


@pytest.mark.parametrize("stream", [False, True])
def test_the_sdks_mcp_credentials_stay_out_of_the_journal_and_the_state_file(
    server_with_state: tuple[RunningServer, Path], stream: bool
) -> None:
    server, state = server_with_state
    client = OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0)
    tool = {
        "type": "mcp",
        "server_label": "docs",
        "server_url": f"https://example.invalid/s/{URL_KEY}/mcp",
        "headers": {"Authorization": f"Bearer {TOKEN}"},
        "authorization": OAUTH,
        "require_approval": "never",
    }
    if stream:
        with client.responses.create(
            model="gpt-4",
            input="What do the docs say?",
            tools=[tool],
            stream=True,  # type: ignore[list-item]
        ) as events:
            assert [event.type for event in events][-1] == "response.completed"
    else:
        reply = client.responses.create(model="gpt-4", input="What do the docs say?", tools=[tool])  # type: ignore[list-item]
        assert reply.output_text
    journal = requests.get(
        f"{server.url}/_mock/requests",
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=10,
    )
    assert journal.status_code == 200
    assert "mcp" in journal.text and "Bearer ***" in journal.text
    assert TOKEN not in journal.text and OAUTH not in journal.text and URL_KEY not in journal.text
    server.stop()  # the workers write what they hold before they exit
    stored = b"".join(path.read_bytes() for path in state.parent.glob(state.name + "*"))
    assert b"Bearer ***" in stored
    assert TOKEN.encode() not in stored and OAUTH.encode() not in stored
    assert URL_KEY.encode() not in stored
