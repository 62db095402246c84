"""The Dockerfile, tested where no Docker daemon runs: parsed with Docker's own parser, its
command line and its health check run as the container would run them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dockerfile
import pytest

from tests.fixtures.servers import RunningServer, free_port, wait_until_healthy

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def commands() -> list[dockerfile.Command]:
    return list(dockerfile.parse_file(str(ROOT / "Dockerfile")))


def _final_stage(commands: list[dockerfile.Command]) -> list[dockerfile.Command]:
    starts = [i for i, command in enumerate(commands) if command.cmd == "FROM"]
    return commands[starts[-1] :]


def _one(commands: list[dockerfile.Command], name: str) -> dockerfile.Command:
    found = [command for command in commands if command.cmd == name]
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def _env(commands: list[dockerfile.Command]) -> dict[str, str]:
    values = [c.value for c in commands if c.cmd == "ENV"]
    return {pair[i]: pair[i + 1] for pair in values for i in range(0, len(pair), 2)}


def test_the_image_runs_as_an_unprivileged_user_with_a_small_base(
    commands: list[dockerfile.Command],
) -> None:
    final = _final_stage(commands)
    assert _one(final, "FROM").value[0].endswith("-slim")
    user = _one(final, "USER").value[0]
    assert user not in ("root", "0")
    # The health check, command line and port are exec (JSON) form, no shell in between.
    for name in ("ENTRYPOINT", "CMD"):
        assert _one(final, name).json, name
    health = _one(final, "HEALTHCHECK")
    assert health.value[0] == "CMD" and health.json


def test_the_build_context_holds_what_the_build_copies(
    commands: list[dockerfile.Command],
) -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    included = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "*" in ignore  # everything else stays out (the .venv, caches, cassettes)
    copied = {
        source.rstrip("/")
        for command in commands
        if command.cmd == "COPY" and not any(f.startswith("--from") for f in command.flags)
        for source in command.value[:-1]
    }
    assert copied <= included, copied - included
    for source in copied:
        assert (ROOT / source).exists(), source


@pytest.fixture
def container_like_server(
    commands: list[dockerfile.Command], tmp_path: Path
) -> Iterator[tuple[RunningServer, dict[str, str]]]:
    """The image's ENTRYPOINT + CMD, run here: bound to 0.0.0.0, asked on 127.0.0.1."""
    final = _final_stage(commands)
    entrypoint, cmd = _one(final, "ENTRYPOINT").value, _one(final, "CMD").value
    assert entrypoint == ("harness",)
    argv = [sys.executable, "-m", "harness", *cmd]
    assert "--host" in argv and argv[argv.index("--host") + 1] == "0.0.0.0"
    port = free_port()
    env = {**os.environ, **_env(final), "HARNESS_PORT": str(port), "HARNESS_WORKERS": "1"}
    log_path = tmp_path / "container.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
    server = RunningServer(f"http://127.0.0.1:{port}", process, log_path)
    try:
        yield wait_until_healthy(server, "/_mock/health", "the image's command"), env
    finally:
        server.stop()


def test_the_health_check_passes_on_the_served_mock_and_fails_without_it(
    commands: list[dockerfile.Command],
    container_like_server: tuple[RunningServer, dict[str, str]],
) -> None:
    server, env = container_like_server
    check = list(_one(_final_stage(commands), "HEALTHCHECK").value[1:])  # after CMD
    assert check[0] == "python"
    check[0] = sys.executable
    assert subprocess.run(check, env=env, timeout=10, capture_output=True).returncode == 0
    server.stop()
    failed = subprocess.run(check, env=env, timeout=10, capture_output=True)
    assert failed.returncode != 0
