"""The client matrix: `harness serve` in a subprocess, driven by the clients people use.

Run with `tox -e clients` (and `tox -e clients-instructor`); the default test run leaves this
folder out (`norecursedirs`), since it needs the pinned clients of `requirements*.txt`.

No client may reach the internet: every client is pointed at the mock, the libraries that
would fetch something at run time are told not to, and any HTTP client that honours the proxy
variables is sent to a closed local port for every host but the loopback one, so a stray call
fails loudly instead of leaving the machine.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.clients.expect import STRUCTURED_MODEL
from tests.fixtures.servers import API_KEY, RunningServer, start_server

# Set before any client library is imported (pytest imports this conftest first).
OFFLINE_ENV = {
    # litellm would download its model cost map at import.
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_TELEMETRY": "False",
    # openai-agents exports traces to the live API unless told not to (also set in code).
    "OPENAI_AGENTS_DISABLE_TRACING": "1",
    # LangChain sends runs to LangSmith only when these are on; keep them off explicitly.
    "LANGCHAIN_TRACING_V2": "false",
    "LANGSMITH_TRACING": "false",
    # A stray request to any host but the loopback one goes to the discard port and fails.
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "ALL_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
}
os.environ.update(OFFLINE_ENV)
for lower in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
    os.environ[lower] = OFFLINE_ENV[lower.upper()]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.clients)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One `harness serve` for the whole matrix, with a fixed key; clients get it by env too."""
    server = start_server(
        ["--api-key", API_KEY, "--workers", "2", "--model", STRUCTURED_MODEL],
        log_dir=tmp_path_factory.mktemp("server"),
    )
    saved = {name: os.environ.get(name) for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY")}
    # Clients that read the environment (the Node SDK, openai-agents' default client) find the
    # mock there; the Python tests also pass base_url explicitly, as apps configure them.
    os.environ["OPENAI_BASE_URL"] = server.base_url
    os.environ["OPENAI_API_KEY"] = API_KEY
    yield server
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_journal(request: pytest.FixtureRequest) -> Iterator[None]:
    """Clear the journal before each test, so a failure can show what its client sent."""
    if "mock" not in request.fixturenames:
        yield
        return
    server: RunningServer = request.getfixturevalue("mock")
    admin(server, "DELETE", "/_mock/requests")
    yield


def admin(server: RunningServer, method: str, path: str) -> Any:
    reply = requests.request(
        method, f"{server.url}{path}", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
    )
    reply.raise_for_status()
    return reply.json() if reply.content else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failure, add the journal (each request the client sent, with the mock's status)."""
    report = yield
    if report.when == "call" and report.failed and "mock" in getattr(item, "fixturenames", ()):
        server = item.funcargs.get("mock")  # type: ignore[attr-defined]
        if isinstance(server, RunningServer):
            try:
                journal = admin(server, "GET", "/_mock/requests")
            except requests.RequestException as error:
                journal = f"journal unavailable: {error}"
            report.sections.append(("requests the client sent", _journal_text(journal)))
    return report


def _journal_text(journal: Any) -> str:
    if not isinstance(journal, dict):
        return str(journal)
    lines = []
    for entry in journal.get("data", []):
        head = f"{entry.get('method')} {entry.get('path')} -> {entry.get('status')}"
        lines.append(head)
        lines.append("  body: " + json.dumps(entry.get("body"))[:4000])
        if entry.get("violations"):
            lines.append("  violations: " + json.dumps(entry["violations"])[:2000])
    return "\n".join(lines) or "(no request reached the mock)"
