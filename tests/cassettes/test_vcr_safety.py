"""The vcrpy path (`create_vcr`, `register_matchers`) reads and writes cassettes as safely as
the harness's own readers and `harness record` do.

- A save that fails half-way (here: the file size limit, as on a full disk) leaves the cassette
  as it was; vcrpy's own persister truncates it first and leaves half a file.
- A "billion laughs" cassette is refused with the alias limit named.

Each case runs in a child process with a timeout: the size limit must not touch the test run,
and a regression must fail, not hang.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, Response

from harness.cassettes import read_cassette
from tests.cassettes.test_hostile_yaml import HOSTILE
from tests.fixtures.servers import serve_in_thread

CHILD_TIMEOUT_S = 30
# The child may write files up to this size; the second answer is far larger.
FILE_SIZE_LIMIT = 64 * 1024

RECORD = """
import resource, signal, sys
import httpx
from harness.cassettes import create_vcr

path, url, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
if limit:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
with create_vcr(record_mode="all").use_cassette(path):
    httpx.post(url, json={"model": "gpt-4"}, timeout=10)
"""

REPLAY = """
import sys
import httpx
from harness.cassettes import create_vcr

try:
    with create_vcr(record_mode="none").use_cassette(sys.argv[1]):
        httpx.post("http://127.0.0.1:9/v1/chat/completions", json={}, timeout=5)
except Exception as exc:
    print(type(exc).__name__, exc)
"""


def run_child(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )


@pytest.fixture
def upstream() -> Iterator[str]:
    """Answers small once, then far past the child's file size limit."""
    answers = iter(["small", "x" * (FILE_SIZE_LIMIT * 4)])
    app = Flask("sized-upstream")

    @app.post("/v1/chat/completions")
    def answer() -> Response:
        text = next(answers)
        return Response(f'{{"echo": "{text}"}}', content_type="application/json")

    with serve_in_thread(app) as url:
        yield f"{url}/v1/chat/completions"


def test_a_save_that_fails_half_way_leaves_the_cassette_whole(
    upstream: str, tmp_path: Path
) -> None:
    path = tmp_path / "chat.yaml"
    first = run_child(RECORD, str(path), upstream, "0")
    assert first.returncode == 0, first.stderr
    before = path.read_bytes()
    assert read_cassette(path).interactions[0].response.body == b'{"echo": "small"}'
    second = run_child(RECORD, str(path), upstream, str(FILE_SIZE_LIMIT))
    assert second.returncode != 0, "the save past the size limit should have failed"
    assert "File too large" in second.stderr, second.stderr
    assert path.read_bytes() == before
    assert not [item for item in tmp_path.iterdir() if item.name != "chat.yaml"]


@pytest.mark.parametrize("where", sorted(HOSTILE))
def test_create_vcr_refuses_a_billion_laughs(where: str, tmp_path: Path) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(HOSTILE[where], encoding="utf-8")
    done = run_child(REPLAY, str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("AliasExpansionError"), done.stdout
    assert "100,000" in done.stdout
