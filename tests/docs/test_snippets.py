"""Every code block of the documentation runs (see tests/docs/snippets.py for the markers).

Python and shell snippets run against one `harness serve` for the session: the documented
address `http://127.0.0.1:8080` is replaced by the live one, and the mock is reset before each
snippet. They run in a folder that holds the repository's `cassettes`, `specs` and `tests`, as
a reader's checkout would, so relative paths in the examples resolve and nothing is written
into the repository.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.docs.snippets import REPO, Snippet, all_snippets
from tests.fixtures.servers import RunningServer, free_port, start_server

DOCUMENTED_URL = "http://127.0.0.1:8080"
DOCUMENTED_KEY = "test-key"
CHECKOUT_PARTS = ("cassettes", "specs", "tests", "scripts", "benchmarks")
SHELL_TIMEOUT_S = 120.0
SLOW_SHELL_TIMEOUT_S = 300.0
SERVER_START_S = 30.0
ELLIPSES = ("...", "…")


def _params() -> list[object]:
    params: list[object] = []
    for snippet in all_snippets():
        marks = []
        # Snippets that start processes (servers, pytest runs) take seconds each.
        if snippet.kinds & {"slow", "server", "pytest"}:
            marks.append(pytest.mark.slow)
        params.append(pytest.param(snippet, id=snippet.id, marks=marks))
    return params


@pytest.fixture(scope="session")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The mock the snippets call: `harness serve` without --api-key (any key is accepted)."""
    server = start_server(["--workers", "1"], log_dir=tmp_path_factory.mktemp("docs-server"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder that looks like the reader's checkout (links to the repository's data)."""
    folder = tmp_path_factory.mktemp("checkout")
    for part in CHECKOUT_PARTS:
        (folder / part).symlink_to(REPO / part, target_is_directory=True)
    return folder


@pytest.fixture(scope="session")
def keyed_docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """For snippets marked ``key=KEY``: `harness serve --api-key KEY`, as their text starts it."""
    server = start_server(
        ["--workers", "1", "--api-key", DOCUMENTED_KEY],
        log_dir=tmp_path_factory.mktemp("docs-keyed-server"),
    )
    yield server
    server.stop()


@pytest.fixture
def live(snippet: Snippet, request: pytest.FixtureRequest) -> RunningServer:
    key = snippet.options.get("key")
    if key is not None:
        assert key == DOCUMENTED_KEY, f"the runner's keyed server uses {DOCUMENTED_KEY!r}"
        server: RunningServer = request.getfixturevalue("keyed_docs_server")
        headers = {"Authorization": f"Bearer {key}"}
    else:
        server = request.getfixturevalue("docs_server")
        headers = {}
    requests.post(f"{server.url}/_mock/reset", headers=headers, timeout=10).raise_for_status()
    return server


def _on_live(code: str, server: RunningServer) -> str:
    return code.replace(DOCUMENTED_URL, server.url)


def _shell_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    # The `harness` and `python` of this interpreter, as an activated venv has them.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["TMPDIR"] = str(tmp_path)
    return env


@pytest.mark.parametrize("snippet", _params())
def test_snippet_runs(
    snippet: Snippet,
    live: RunningServer,
    checkout: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    if snippet.language == "python":
        compile(snippet.code, snippet.id, "exec")  # even a skipped snippet must be Python
    if "skip" in snippet.kinds:
        pytest.skip(f"not run: {snippet.options['reason']}")
    if "file" in snippet.kinds:
        return  # compiled above; it runs with the pytest snippet that follows it
    if "pytest" in snippet.kinds:
        _run_pytest_snippet(snippet, live, request.getfixturevalue("pytester"))
    elif "server" in snippet.kinds:
        _run_server_snippet(snippet, checkout, tmp_path)
    elif snippet.language == "python":
        monkeypatch.chdir(checkout)
        namespace = {"__name__": "__snippet__"}
        exec(compile(_on_live(snippet.code, live), snippet.id, "exec"), namespace)
    elif snippet.language == "shell":
        _run_shell_snippet(snippet, live, checkout, tmp_path)
    else:
        _run_console_snippet(snippet, live, checkout, tmp_path)


def _run_pytest_snippet(snippet: Snippet, live: RunningServer, pytester: pytest.Pytester) -> None:
    for part in CHECKOUT_PARTS[:1]:  # cassettes: the paths the examples name
        (pytester.path / part).symlink_to(REPO / part, target_is_directory=True)
    for extra in snippet.files:
        (pytester.path / extra.options["name"]).write_text(_on_live(extra.code, live))
    (pytester.path / "test_snippet.py").write_text(_on_live(snippet.code, live))
    # A user's project: the plugin loads from its entry point, no configuration of ours.
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", timeout=SHELL_TIMEOUT_S)
    outcomes = result.parseoutcomes()
    assert result.ret == 0 and outcomes.get("passed", 0) >= 1, result.stdout.str()


def _run_shell_snippet(snippet: Snippet, live: RunningServer, cwd: Path, tmp_path: Path) -> None:
    timeout = SLOW_SHELL_TIMEOUT_S if "slow" in snippet.kinds else SHELL_TIMEOUT_S
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _on_live(snippet.code, live)],
        cwd=cwd,
        env=_shell_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"


def _console_steps(code: str) -> list[tuple[str, list[str]]]:
    """``$ command`` lines with the output lines shown after each."""
    steps: list[tuple[str, list[str]]] = []
    for line in code.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line.rstrip())
        elif line.strip():
            raise AssertionError(f"a console snippet starts with a `$ ` command, not {line!r}")
    return steps


def _expected_line(line: str) -> re.Pattern[str]:
    """A shown output line as a pattern: an ellipsis stands for anything."""
    parts = re.split(r"\.\.\.|…", line)
    return re.compile(".*".join(re.escape(part) for part in parts))


def _run_console_snippet(snippet: Snippet, live: RunningServer, cwd: Path, tmp_path: Path) -> None:
    for command, shown in _console_steps(_on_live(snippet.code, live)):
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=cwd,
            env=_shell_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=SHELL_TIMEOUT_S,
            check=False,
        )
        output = (done.stdout + done.stderr).splitlines()
        expected = [line for line in shown if line.strip() and line.strip() not in ELLIPSES]
        if not expected:  # nothing shown: the command succeeds
            assert done.returncode == 0, f"$ {command}: exit {done.returncode}\n{done.stderr}"
        for line in expected:
            pattern = _expected_line(line)
            assert any(pattern.fullmatch(out.rstrip()) for out in output), (
                f"$ {command}: no output line matches {line!r}; the output was:\n"
                + "\n".join(output)
            )


def _run_server_snippet(snippet: Snippet, cwd: Path, tmp_path: Path) -> None:
    """Start the documented server on a free port, wait until it answers, stop it."""
    port = free_port()
    env = _shell_env(tmp_path)
    env["HARNESS_PORT"] = str(port)
    command = re.sub(r"--port \d+", f"--port {port}", snippet.code)
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "-c", command],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + SERVER_START_S
        while not _answers(port):
            assert process.poll() is None, f"exited {process.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no answer on {port}:\n{log.read_text()}"
            time.sleep(0.1)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def _answers(port: int) -> bool:
    """The server answers HTTP (any status: a replay server has no health route)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            pass
        requests.get(f"http://127.0.0.1:{port}/v1/models", timeout=2)
    except (OSError, requests.RequestException):
        return False
    return True
