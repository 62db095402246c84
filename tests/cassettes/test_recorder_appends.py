"""`harness record` appending: one lock per cassette file, and no re-reading of what it wrote.

A fake upstream on a free loopback port answers plain JSON; the recorder runs as its app under
a real server in a thread, or as `harness record` subprocesses sharing one folder.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from flask import Flask, Response, request

from harness.cassettes import cassette as cassette_module
from harness.cassettes import read_cassette
from harness.cassettes.cassette import RecordedRequest, RecordedResponse, write_cassette
from harness.cassettes.recorder import RecorderConfig, create_recorder_app
from tests.cassettes.conftest import start_recorder
from tests.fixtures.servers import serve_in_thread


def echo_upstream() -> Flask:
    app = Flask("echo-upstream")

    @app.post("/v1/chat/completions")
    def answer() -> Response:
        asked = request.get_json(force=True)
        body = {"object": "chat.completion", "echo": asked["messages"][0]["content"]}
        return Response(json.dumps(body), content_type="application/json")

    return app


@pytest.fixture
def upstream() -> Iterator[str]:
    with serve_in_thread(echo_upstream()) as url:
        yield url


def ask(base: str, cassette: str, content: str) -> float:
    started = time.monotonic()
    answer = httpx.post(
        f"{base}/v1/chat/completions",
        json={"model": "gpt-4", "messages": [{"role": "user", "content": content}]},
        headers={"X-Harness-Cassette": cassette},
        timeout=60,
    )
    answer.raise_for_status()
    return time.monotonic() - started


def big_cassette(path: Path, count: int) -> None:
    """A cassette whose reading takes the recorder a good while."""
    filler = "word " * 400
    interactions = [
        (
            RecordedRequest("POST", "http://up/v1/chat/completions", b"{}", {}),
            RecordedResponse(
                200,
                "OK",
                {"Content-Type": ["application/json"]},
                json.dumps({"n": n, "text": filler}).encode(),
            ),
        )
        for n in range(count)
    ]
    write_cassette(path, interactions, {"source": "recorded"})


def test_an_append_to_a_small_cassette_does_not_wait_behind_a_big_one(
    upstream: str, tmp_path: Path
) -> None:
    folder = tmp_path / "c"
    # Large enough that the big append outlasts the small ones by far: while it parses, the
    # small appends share the GIL with it (each of their I/O waits costs them a switch
    # interval), which with 1,500 interactions took the first of them 0.7 s against 1.2.
    big_cassette(folder / "big.yaml", 3000)
    app = create_recorder_app(RecorderConfig(upstream=upstream, cassettes_dir=folder))
    with serve_in_thread(app) as url, ThreadPoolExecutor(2) as pool:
        into_big = pool.submit(ask, url, "big", "into the big one")
        time.sleep(0.05)  # the big append has the cassette's lock by now
        small = [ask(url, f"small{n}", "into a small one") for n in range(3)]
        big = into_big.result()
    assert big > 0.4, f"the big cassette was appended to too fast ({big:.2f}s) to show anything"
    assert max(small) < big / 2, (small, big)
    assert len(read_cassette(folder / "big.yaml").interactions) == 3001


def test_appends_reuse_what_this_process_wrote_and_reread_what_another_wrote(
    upstream: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "c"
    reads: list[Path] = []
    real_read = cassette_module._read_document

    def counted(path: Path) -> object:
        reads.append(path)
        return real_read(path)

    monkeypatch.setattr(cassette_module, "_read_document", counted)
    app = create_recorder_app(RecorderConfig(upstream=upstream, cassettes_dir=folder))
    with serve_in_thread(app) as url:
        for n in range(3):
            ask(url, "one", f"first {n}")
        assert reads == [], "the recorder re-read the cassette it had just written"
        # Another process appends to the same cassette ...
        script = (
            "import sys; from pathlib import Path;"
            "from harness.cassettes.cassette import RecordedRequest, RecordedResponse,"
            " append_interaction;"
            "append_interaction(Path(sys.argv[1]),"
            " RecordedRequest('POST', 'http://up/v1/chat/completions'),"
            " RecordedResponse(200, 'OK', {}, b'{\"echo\": \"other process\"}'))"
        )
        subprocess.run([sys.executable, "-c", script, str(folder / "one.yaml")], check=True)
        # ... so the next append reads the file again and keeps that interaction.
        ask(url, "one", "after the other process")
    assert len(reads) == 1
    recorded = [
        json.loads(interaction.response.body)["echo"]
        for interaction in read_cassette(folder / "one.yaml").interactions
    ]
    assert recorded == ["first 0", "first 1", "first 2", "other process", "after the other process"]


@pytest.mark.slow
def test_two_recorder_processes_on_one_folder_lose_nothing(upstream: str, tmp_path: Path) -> None:
    folder = tmp_path / "c"
    recorders = [start_recorder(upstream, folder, log_dir=tmp_path) for _ in range(2)]
    try:
        jobs = [(recorders[n % 2].url, f"call {n}") for n in range(40)]
        with ThreadPoolExecutor(10) as pool:
            list(pool.map(lambda job: ask(job[0], "shared", job[1]), jobs))
    finally:
        for recorder in recorders:
            recorder.stop()
    recorded = [
        json.loads(interaction.response.body)["echo"]
        for interaction in read_cassette(folder / "shared.yaml").interactions
    ]
    assert sorted(recorded) == sorted(content for _, content in jobs)


def test_appends_from_threads_into_one_cassette_lose_nothing(upstream: str, tmp_path: Path) -> None:
    folder = tmp_path / "c"
    app = create_recorder_app(RecorderConfig(upstream=upstream, cassettes_dir=folder))
    contents = [f"thread call {n}" for n in range(20)]
    with serve_in_thread(app) as url, ThreadPoolExecutor(10) as pool:
        list(pool.map(lambda content: ask(url, "threads", content), contents))
    recorded = [
        json.loads(interaction.response.body)["echo"]
        for interaction in read_cassette(folder / "threads.yaml").interactions
    ]
    assert sorted(recorded) == sorted(contents)
    assert threading.active_count() >= 1
