"""`harness contract` as a newcomer meets it: a first run against `harness serve` is green,
a wrong key stops the run at once, and progress shows as a bar or as plain lines."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from harness.cli.contract import LiveProgress, _show_progress
from harness.contract import Progress, run_contract
from harness.contract.runner import IGNORED_AUTH, target_accepts_any_key
from harness.testing import LiveServer
from mockserver import MockConfig, create_app
from tests.fixtures.servers import RunningServer, serve_in_thread, wait_until_healthy

pytestmark = pytest.mark.slow


@pytest.fixture
def newcomer_server(tmp_path: Path) -> Iterator[RunningServer]:
    """`harness serve --port 0`, as the README's first command starts it (no --api-key)."""
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "harness", "serve", "--port", "0", "--workers", "1"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = RunningServer("", process, log_path)
    try:
        deadline = time.monotonic() + 30
        while True:  # the URL line names the port --port 0 chose
            found = re.search(r"http://127\.0\.0\.1:(\d+)/v1", server.log())
            if found or process.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert found, server.log()
        server.url = f"http://127.0.0.1:{found.group(1)}"
        yield wait_until_healthy(server, "/_mock/health", "harness serve")
    finally:
        server.stop()


def test_a_newcomers_first_serve_and_contract_are_green(newcomer_server: RunningServer) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "contract",
            "--base-url",
            newcomer_server.url,
            "--api-key",
            "anything",
            "--max-examples",
            "3",
            "--seed",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"note: {IGNORED_AUTH} not checked" in result.stderr
    assert "--api-key KEY" in result.stderr
    assert "OK: 0 new failure(s)" in result.stdout
    # Not a TTY: plain lines, each batch numbered out of the run's total.
    assert re.search(r"\[\d+/9\] (examples|coverage|fuzzing)", result.stderr), result.stderr


def test_the_mock_with_a_key_keeps_the_auth_check() -> None:
    with LiveServer(MockConfig(api_key="right-key")) as server:
        assert not target_accepts_any_key(server.url)
        report = run_contract(server.url, api_key="right-key", max_examples=2, seed=2)
    assert report.ok, (report.new_failures, report.errors)
    assert not report.notes
    checked = {name for stats in report.operations.values() for name in stats.checks}
    assert IGNORED_AUTH in checked


def _real_target_ignoring_credentials() -> Any:
    """The mock without a key, dressed as another server: no /_mock/ routes at all."""
    app = create_app(MockConfig())
    inner = app.wsgi_app

    def no_admin(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith("/_mock/"):
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"error": {"message": "not found"}}']
        return inner(environ, start_response)

    app.wsgi_app = no_admin  # type: ignore[method-assign]
    return app


def test_a_real_target_that_ignores_credentials_still_fails() -> None:
    with serve_in_thread(_real_target_ignoring_credentials()) as url:
        assert not target_accepts_any_key(url)
        report = run_contract(url, api_key="anything", max_examples=2, seed=2)
    assert not report.notes
    assert IGNORED_AUTH in {failure.check for failure in report.new_failures}
    assert not report.ok


def test_a_refused_key_stops_the_run_early() -> None:
    with LiveServer(MockConfig(api_key="right-key")) as server:
        report = run_contract(server.url, api_key="wrong-key", max_examples=25, seed=4)
        sent = len(server.requests)  # what reached the mock, from its journal
    assert not report.ok
    stopped = [error for error in report.errors if error.startswith("stopped early")]
    assert stopped, report.errors
    assert "401×3" in stopped[0] and "--api-key" in stopped[0]
    # A full run sends hundreds (226 in the issue); the stop comes after the first few.
    assert sent < 10, f"{sent} requests sent before stopping"


def test_the_live_bar_shows_counts_and_the_estimate() -> None:
    output = io.StringIO()
    bar = LiveProgress(Console(file=output, force_terminal=True, width=160))
    with bar:
        for step in (1, 2, 3):
            bar.update(
                Progress(
                    "coverage", "POST /v1/chat/completions", 40, 20, "ok", step, 9, step * 40, 1
                )
            )
    text = output.getvalue()
    assert "3/9" in text and "120 requests, 1 failure" in text
    assert "left" in text


def test_plain_progress_lines_number_the_batches(capsys: pytest.CaptureFixture[str]) -> None:
    _show_progress(Progress("examples", "POST /v1/responses", 3, 1, "ok", 2, 9, 5, 0))
    _show_progress(Progress("examples", "POST /chat/completions", 0, 0, "skipped", 3, 9, 5, 0))
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and "[2/9] examples" in lines[0] and "3 requests" in lines[0]
