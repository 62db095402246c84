"""Many mock instances, one address: two `harness serve` sharing one real Redis.

A response stored through one instance is continued through the other, a stub posted to one
is used (once, for ``times: 1``) by the other, and either reads the one journal. When Redis
goes away, plain requests are still answered, stateful ones get a 503 naming the store, and
the mock carries on once Redis is back.
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fixtures.admin import Admin
from tests.fixtures.redis_server import RedisServer, redis_prefix, redis_server
from tests.fixtures.servers import API_KEY, RunningServer, free_port, start_server

__all__ = ["redis_prefix", "redis_server"]  # fixtures this module uses

pytestmark = pytest.mark.slow
HEADERS = {"Authorization": f"Bearer {API_KEY}"}
STORED = {"model": "gpt-4", "input": "hi", "store": True}
CHAT = {"model": "gpt-4", "messages": [{"role": "user", "content": "hello"}]}


def serve_on_redis(url: str, prefix: str, log_dir: Path, workers: int = 1) -> RunningServer:
    return start_server(
        ["--api-key", API_KEY, "--workers", str(workers), "--state", url, "--redis-prefix", prefix],
        log_dir=log_dir,
    )


@pytest.fixture(scope="module")
def instance_pair(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, RunningServer]]:
    """Two instances on one Redis (the first with two workers), for the whole module."""
    prefix = f"test-{uuid.uuid4().hex[:12]}:"
    log_dir = tmp_path_factory.mktemp("instances")
    first = serve_on_redis(redis_server.url, prefix, log_dir, workers=2)
    second = serve_on_redis(redis_server.url, prefix, log_dir)
    yield first, second
    first.stop()
    second.stop()


@pytest.fixture
def instances(
    instance_pair: tuple[RunningServer, RunningServer],
) -> tuple[RunningServer, RunningServer]:
    """The two instances, their stubs and journal cleared (through the first: one state)."""
    reset = requests.post(f"{instance_pair[0].url}/_mock/reset", headers=HEADERS, timeout=10)
    assert reset.status_code == 200, reset.text
    return instance_pair


def post(server: RunningServer, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{server.base_url}{path}", json=body, headers=HEADERS, timeout=10)


def get(server: RunningServer, path: str) -> requests.Response:
    return requests.get(f"{server.base_url}{path}", headers=HEADERS, timeout=10)


def test_a_response_stored_through_one_is_continued_through_the_other(
    instances: tuple[RunningServer, RunningServer],
) -> None:
    a, b = instances
    first = post(
        a, "/responses", {"model": "gpt-4", "input": "Remember the word kiwi.", "store": True}
    )
    assert first.status_code == 200, first.text
    first_id = first.json()["id"]
    assert get(b, f"/responses/{first_id}").json() == first.json()
    second = post(
        b,
        "/responses",
        {
            "model": "gpt-4",
            "input": "Which word?",
            "previous_response_id": first_id,
            "store": True,
        },
    )
    assert second.status_code == 200, second.text
    # The continuation's prompt holds the first turn: more input tokens than its own text.
    alone = post(a, "/responses", {"model": "gpt-4", "input": "Which word?"}).json()
    assert second.json()["usage"]["input_tokens"] > alone["usage"]["input_tokens"]
    third = post(
        a,
        "/responses",
        {
            "model": "gpt-4",
            "input": "Again?",
            "previous_response_id": second.json()["id"],
            "store": True,
        },
    )
    assert third.status_code == 200, third.text
    deleted = requests.delete(f"{b.base_url}/responses/{first_id}", headers=HEADERS, timeout=10)
    assert deleted.json()["deleted"] is True
    assert get(a, f"/responses/{first_id}").status_code == 404


def test_a_stub_posted_to_one_is_used_once_by_the_other(
    instances: tuple[RunningServer, RunningServer],
) -> None:
    a, b = instances
    for server in (a, b):  # each builds its stub index before the stub exists
        assert post(server, "/chat/completions", CHAT).status_code == 200
    stub = Admin(a.url).stub(
        id="only-once", match={"last_user_message": "hello"}, reply={"text": "stubbed"}, times=1
    )
    assert stub["times"] == 1
    answers = [
        post(server, "/chat/completions", CHAT).json()["choices"][0]["message"]["content"]
        for server in (b, a, b, a)
    ]
    assert answers.count("stubbed") == 1 and answers[0] == "stubbed", answers
    (listed,) = Admin(b.url).stubs()
    assert listed["id"] == "only-once" and listed["used"] == 1


def test_many_requests_on_both_use_a_stub_exactly_its_times(
    instances: tuple[RunningServer, RunningServer],
) -> None:
    a, b = instances
    Admin(b.url).stub(match={"last_user_message": "hello"}, reply={"text": "stubbed"}, times=5)

    def ask(server: RunningServer) -> str:
        reply = post(server, "/chat/completions", CHAT).json()
        return str(reply["choices"][0]["message"]["content"])

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, [a, b] * 20))
    assert answers.count("stubbed") == 5


def test_either_instance_reads_the_one_journal(
    instances: tuple[RunningServer, RunningServer],
) -> None:
    a, b = instances
    for server, model_path in ((a, "/chat/completions"), (b, "/responses")):
        body = CHAT if model_path == "/chat/completions" else {"model": "gpt-4", "input": "hi"}
        assert post(server, model_path, body).status_code == 200
        # Read after each: each instance writes its entries in batches up to 20 ms apart, so
        # two answered within that window may be listed in either order; a read makes every
        # writer write at once (docs/reference/http.md).
        assert Admin(server.url).requests()
    views = [Admin(server.url).requests() for server in (a, b)]
    assert views[0] == views[1]
    assert [entry["path"] for entry in views[0]] == ["/v1/chat/completions", "/v1/responses"]
    assert Admin(b.url).requests(path="/v1/responses", limit=1)[0]["path"] == "/v1/responses"


def test_a_request_answered_by_one_is_in_the_journal_read_at_once_from_the_other(
    instances: tuple[RunningServer, RunningServer],
) -> None:
    # No polling: a test that asks the journal right after its request, through a load
    # balancer that sends the read to another replica, must find its entry.
    a, b = instances
    for turn in range(10):
        body = {**CHAT, "messages": [{"role": "user", "content": f"turn {turn}"}]}
        assert post(b, "/chat/completions", body).status_code == 200
        (last,) = Admin(a.url).requests(limit=1)
        assert last["body"]["messages"][0]["content"] == f"turn {turn}"


# --- Redis going away -------------------------------------------------------------------


@pytest.fixture
def own_redis(redis_server: RedisServer, tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, to stop and start again without disturbing the others."""
    server = RedisServer(redis_server.binary, tmp_path)
    server.start()
    yield server
    server.stop()


def until(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_redis_going_away_stops_only_the_stateful_requests(
    own_redis: RedisServer, redis_prefix: str, tmp_path: Path
) -> None:
    mock = serve_on_redis(own_redis.url, redis_prefix, tmp_path)
    try:
        assert post(mock, "/responses", STORED).status_code == 200
        own_redis.stop()
        # Plain chat under load while Redis is down: every request answered, none slow.
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            statuses = list(
                pool.map(lambda _: post(mock, "/chat/completions", CHAT).status_code, range(80))
            )
        assert statuses == [200] * 80
        assert time.monotonic() - started < 20
        stored = post(mock, "/responses", STORED)
        assert stored.status_code == 503, stored.text
        error = stored.json()["error"]
        assert error["code"] == "state_unavailable"
        assert f"Redis at 127.0.0.1:{own_redis.port}/0" in error["message"]
        journal = requests.get(f"{mock.url}/_mock/requests", headers=HEADERS, timeout=10)
        assert journal.status_code == 503 and journal.json()["error"]["code"] == (
            "state_unavailable"
        )
        own_redis.start()  # the same port, empty: the mock reconnects by itself

        def stores() -> bool:
            return post(mock, "/responses", STORED).status_code == 200

        assert until(stores, 10)
        stub = Admin(mock.url).stub(reply={"text": "back"}, times=1)
        assert until(
            lambda: (
                post(mock, "/chat/completions", CHAT).json()["choices"][0]["message"]["content"]
                == "back"
            ),
            5,
        ), stub
    finally:
        mock.stop()


def test_a_redis_that_stops_answering_holds_no_request_long(
    own_redis: RedisServer, redis_prefix: str, tmp_path: Path
) -> None:
    # SIGSTOP: connections are still accepted (by the kernel) but nothing is answered, as
    # with a Redis behind a network partition; only the socket timeouts bound the wait.
    mock = serve_on_redis(own_redis.url, redis_prefix, tmp_path)
    process = own_redis.process
    assert process is not None
    try:
        assert post(mock, "/responses", STORED).status_code == 200
        process.send_signal(signal.SIGSTOP)

        def timed(path: str, body: dict[str, Any]) -> tuple[int, float]:
            started = time.monotonic()
            status = post(mock, path, body).status_code
            return status, time.monotonic() - started

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            plain = list(pool.map(lambda _: timed("/chat/completions", CHAT), range(40)))
        assert {status for status, _ in plain} == {200}
        assert max(seconds for _, seconds in plain) < 3, plain
        status, seconds = timed("/responses", STORED)
        assert status == 503 and seconds < 3, (status, seconds)
        process.send_signal(signal.SIGCONT)
        assert until(lambda: post(mock, "/responses", STORED).status_code == 200, 10)
    finally:
        process.send_signal(signal.SIGCONT)
        mock.stop()


# --- starting ---------------------------------------------------------------------------


def test_a_redis_that_cannot_be_reached_stops_the_start_with_its_address(
    tmp_path: Path,
) -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(RuntimeError) as failed:
        start_server(["--state", f"redis://127.0.0.1:{port}/0"], log_dir=tmp_path)
    assert f"cannot use Redis at 127.0.0.1:{port}/0 as the state store" in str(failed.value)


def test_the_password_comes_from_the_url_or_the_environment(
    redis_server: RedisServer, redis_prefix: str, tmp_path: Path
) -> None:
    locked = RedisServer(redis_server.binary, tmp_path, password="s3cret")
    locked.start()
    try:
        url = f"redis://127.0.0.1:{locked.port}/0"
        with pytest.raises(RuntimeError, match="cannot use Redis at"):
            start_server(["--state", url], log_dir=tmp_path)
        env = {**os.environ, "HARNESS_REDIS_PASSWORD": "s3cret"}
        for args, environment in (
            (["--state", f"redis://:s3cret@127.0.0.1:{locked.port}/0"], None),
            (["--state", url], env),
        ):
            mock = start_server(
                [*args, "--api-key", API_KEY, "--redis-prefix", redis_prefix],
                log_dir=tmp_path,
                env=environment,
            )
            try:
                assert post(mock, "/responses", STORED).status_code == 200
            finally:
                mock.stop()
        assert "s3cret" not in mock.log()
    finally:
        locked.stop()
