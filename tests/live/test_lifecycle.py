"""`harness serve`'s process lifecycle: it owns its port alone and leaves nothing behind.

A killed master must not leave workers serving the port (they would answer with a stale
configuration, unseen, until the machine restarts), and a second server on a taken port
must refuse to start rather than silently take part of the traffic.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from mockserver.serving import GRACEFUL_TIMEOUT_S
from tests.fixtures.servers import RunningServer, free_port, start_server

pytestmark = pytest.mark.slow

SERVERS = ["granian", "granian-rsgi", "gthread"]
# Long enough for a loaded CI machine; a worker that outlives its master does so for good.
GONE_WITHIN_S = 5.0


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (Linux: every thread's children file)."""
    found: set[int] = set()
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        found.update(int(child) for child in children.read_text().split())
    return found


def _workers_of(pid: int, count: int) -> set[int]:
    """The master's ``count`` workers, once all have started (the first may answer alone)."""
    deadline = time.monotonic() + GONE_WITHIN_S
    while len(workers := _children(pid)) < count:
        assert time.monotonic() < deadline, f"{count} workers never appeared under {pid}"
        time.sleep(0.05)
    return workers


def _alive(pid: int) -> bool:
    """Running and not a zombie (a zombie serves nothing; its reaper may be slow)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    state = next(line for line in status.splitlines() if line.startswith("State:"))
    return "zombie" not in state


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _listeners(port: int) -> str:
    """Who listens on ``port`` (for a failure's message)."""
    found = subprocess.run(
        ["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, check=False
    )
    return found.stdout.strip() or found.stderr.strip()


def _port(server: RunningServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("server_kind", SERVERS)
def test_workers_exit_when_the_master_is_killed(server_kind: str, tmp_path: Path) -> None:
    server = start_server(["--workers", "2", "--server", server_kind], log_dir=tmp_path)
    workers: set[int] = set()
    try:
        workers = _workers_of(server.process.pid, count=2)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=5)
        deadline = time.monotonic() + GONE_WITHIN_S
        while time.monotonic() < deadline:
            if not any(_alive(pid) for pid in workers) and not _listening(_port(server)):
                break
            time.sleep(0.1)
        survivors = [pid for pid in workers if _alive(pid)]
        assert not survivors, f"workers {survivors} outlived their killed master"
        assert not _listening(_port(server)), (
            f"the port still answers after the master died: {_listeners(_port(server))}"
        )
    finally:
        server.stop()
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(
    ("server_kind", "stop"),
    [
        ("granian", signal.SIGKILL),
        ("gthread", signal.SIGKILL),
        ("granian", signal.SIGTERM),
        ("granian-rsgi", signal.SIGKILL),
        ("granian-rsgi", signal.SIGTERM),
    ],
)
def test_a_held_request_delays_the_stop_by_the_graceful_timeout_only(
    server_kind: str, stop: signal.Signals, tmp_path: Path
) -> None:
    """A request the `timeout` fault holds (30 s) must not keep a stopping worker alive."""
    server = start_server(["--workers", "1", "--server", server_kind], log_dir=tmp_path)
    workers: set[int] = set()
    try:
        workers = _workers_of(server.process.pid, count=1)
        held = threading.Thread(target=_held_request, args=(server,), daemon=True)
        held.start()
        time.sleep(0.5)  # the request reaches the worker
        started = time.monotonic()
        server.process.send_signal(stop)
        server.process.wait(timeout=GRACEFUL_TIMEOUT_S + GONE_WITHIN_S)
        while alive := [pid for pid in workers if _alive(pid)]:
            elapsed = time.monotonic() - started
            assert elapsed < GRACEFUL_TIMEOUT_S + GONE_WITHIN_S, (
                f"workers {alive} still alive {elapsed:.1f}s after the stop:\n{server.log()}"
            )
            time.sleep(0.1)
        assert not _listening(_port(server)), server.log()
    finally:
        server.stop()
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _held_request(server: RunningServer) -> None:
    with contextlib.suppress(requests.RequestException):
        requests.post(
            f"{server.base_url}/chat/completions",
            json={"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]},
            headers={"Authorization": "Bearer k", "X-Mock-Fault": "timeout"},
            timeout=60,
        )


@pytest.mark.parametrize("server_kind", SERVERS)
def test_a_second_server_on_a_taken_port_refuses_to_start(server_kind: str, tmp_path: Path) -> None:
    first = start_server(
        ["--workers", "2", "--server", server_kind, "--api-key", "first-key"], log_dir=tmp_path
    )
    try:
        port = _port(first)
        started = time.monotonic()
        second = _serve(
            ["--port", str(port), "--server", server_kind, "--api-key", "second-key"], timeout=15
        )
        elapsed = time.monotonic() - started
        assert second.returncode == 1, second.stderr
        assert f"port {port} is in use" in second.stderr
        assert "Traceback" not in second.stderr
        assert elapsed < 10, f"the refusal took {elapsed:.1f}s"
        # The first server still answers every request, with its own key.
        headers = {"Authorization": "Bearer first-key"}
        statuses = [
            requests.get(f"{first.base_url}/models", headers=headers, timeout=5).status_code
            for _ in range(30)
        ]
        assert statuses == [200] * 30
    finally:
        first.stop()


def _serve(
    args: list[str], timeout: float = 30, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a `harness serve` expected to exit; one that serves instead is killed, whole."""
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "serve", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so its workers die with it
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _serve_with_state(state: Path) -> subprocess.CompletedProcess[str]:
    return _serve(["--port", str(free_port()), "--state", str(state)])


def test_a_state_path_under_a_file_is_a_one_line_error(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "plain-file"
    not_a_folder.write_text("x")
    result = _serve_with_state(not_a_folder / "state.sqlite3")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"cannot use the state file {not_a_folder / 'state.sqlite3'}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_state_file_that_is_not_sqlite_is_a_one_line_error(tmp_path: Path) -> None:
    garbage = tmp_path / "state.sqlite3"
    garbage.write_bytes(b"this is not a database file, whatever its name says" * 100)
    result = _serve_with_state(garbage)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"cannot use the state file {garbage}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize(
    ("state", "named"),
    [
        ("Redis://127.0.0.1:6379/0", "redis:// or rediss://"),
        ("http://127.0.0.1:6379/0", "redis:// or rediss://"),
        ("redis://127.0.0.1:6379/abc", "database"),
    ],
)
def test_a_state_url_that_is_not_a_redis_url_is_a_one_line_error(
    tmp_path: Path, state: str, named: str
) -> None:
    # It was taken as a file path: folders named "Redis:" appeared, and each instance kept
    # its own state where they were meant to share one.
    result = _serve(["--port", str(free_port()), "--state", state], cwd=tmp_path)
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr
    assert named in result.stderr and state in result.stderr, result.stderr
    assert not list(tmp_path.iterdir())


_MAKE_STATE = """
import sys
from pathlib import Path
from mockserver import MockConfig, create_app
create_app(MockConfig(state_path=Path(sys.argv[1])))
"""


def test_a_state_file_that_cannot_be_written_is_a_one_line_error(tmp_path: Path) -> None:
    # It started, then answered every write (a stub, a stored response, a reset) with a 500
    # and lost every journal entry.
    state = tmp_path / "state.sqlite3"
    made = subprocess.run(  # a state file the mock made, as a server left it
        [sys.executable, "-c", _MAKE_STATE, str(state)], capture_output=True, text=True
    )
    assert made.returncode == 0 and state.exists(), made.stderr
    if os.geteuid() != 0:
        state.chmod(0o444)
    elif subprocess.run(["chattr", "+i", str(state)], capture_output=True).returncode != 0:
        pytest.skip("root here, and chattr +i (to make the file unwritable) is refused")
    try:
        result = _serve_with_state(state)
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(state)], capture_output=True)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"cannot use the state file {state}" in result.stderr
    assert "readonly" in result.stderr, result.stderr
