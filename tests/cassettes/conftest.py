"""Fixtures for the cassette tests: `harness record` as a subprocess, and cassette checks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.fixtures.servers import RunningServer, free_port, wait_until_healthy

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "cassettes"
# What the repository's hook looks for in cassettes/, and then some.
LEAK_PATTERNS = (re.compile(r"Bearer\s+\S{8,}"), re.compile(r"\bsk-[A-Za-z0-9_-]{6,}"))


def start_recorder(
    upstream: str,
    cassettes: Path,
    *,
    log_dir: Path,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> RunningServer:
    """`harness record` on a free port, once it answers its health check."""
    port = free_port()
    log_path = log_dir / f"record-{port}.log"
    command = [
        sys.executable,
        "-m",
        "harness",
        "record",
        "--upstream",
        upstream,
        "--cassettes",
        str(cassettes),
        "--port",
        str(port),
        *args,
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env or dict(os.environ)
        )
    server = RunningServer(f"http://127.0.0.1:{port}", process, log_path)
    return wait_until_healthy(server, "/_harness/health", "recorder")


def assert_no_secret(folder: Path, *secrets: str) -> None:
    """No cassette below ``folder`` holds any of ``secrets`` or a bearer/sk- key."""
    texts = {path: path.read_text(encoding="utf-8") for path in folder.rglob("*.yaml")}
    assert texts, f"no cassettes in {folder}"
    for path, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"{secret!r} leaked into {path}"
        for pattern in LEAK_PATTERNS:
            assert not pattern.search(text), f"{pattern.pattern} matches in {path}"
