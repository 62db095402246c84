"""Stubs no definition can turn against the server: regexes, huge numbers, many stubs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fixtures.admin import Admin
from tests.fixtures.servers import API_KEY, RunningServer, start_server

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def chat(url: str, content: str, model: str = "gpt-4", timeout: float = 10) -> requests.Response:
    return requests.post(
        f"{url}/v1/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": content}]},
        headers=AUTH,
        timeout=timeout,
    )


def add_stubs(url: str, stubs: list[dict[str, Any]]) -> requests.Response:
    return requests.post(f"{url}/_mock/stubs", json=stubs, headers=AUTH, timeout=60)


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A server of this test's own (two workers): a frozen worker must not outlive the test."""
    server = start_server(["--api-key", API_KEY, "--workers", "2"], log_dir=tmp_path)
    yield server
    server.stop()


def test_a_backtracking_regex_cannot_freeze_the_server(own_server: RunningServer) -> None:
    created = add_stubs(
        own_server.url,
        [{"match": {"last_user_message": "^(a|a)+$"}, "reply": {"text": "all a"}}],
    )
    assert created.status_code == 201, created.text
    crafted = "a" * 60 + "b"  # 2^60 ways to fail under a backtracking engine
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda text: chat(own_server.url, text), [crafted] * 4 + ["aaa"]))
    assert time.monotonic() - started < 5
    assert [answer.status_code for answer in answers] == [200] * 5
    assert answers[-1].json()["choices"][0]["message"]["content"] == "all a"
    assert answers[0].json()["choices"][0]["message"]["content"] != "all a"


@pytest.mark.parametrize("pattern", [r"(a)\1", r"foo(?=bar)", r"(?<!x)y", r"a{2000}", "(", r"a++"])
def test_a_regex_without_a_linear_time_match_is_a_400(admin: Admin, pattern: str) -> None:
    response = add_stubs(
        admin.url, [{"match": {"last_user_message": pattern}, "reply": {"text": "x"}}]
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == "[0].match.last_user_message"
    assert error["code"] == "invalid_stub"
    assert admin.stubs() == []


def test_common_regexes_still_work(admin: Admin, live_server: RunningServer) -> None:
    # RE2 syntax: \w, \d, \s are ASCII there; \pL is any letter.
    admin.stub(match={"last_user_message": r"(?i)^héllo\s+\pL+!?$"}, reply={"text": "matched"})
    answer = chat(live_server.url, "HÉLLO wörld!").json()["choices"][0]["message"]["content"]
    assert answer == "matched"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("priority", 2**63),
        ("priority", -(2**63) - 1),
        ("priority", 10**30),
        ("times", 2**63),
        ("times", 2**64),
    ],
)
def test_numbers_beyond_64_bits_are_a_400_naming_the_field(
    admin: Admin, field: str, value: int
) -> None:
    response = add_stubs(admin.url, [{"reply": {"text": "x"}, field: value}])
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == f"[0].{field}"
    assert "922337203685477580" in error["message"]  # the bound it breaks
    assert admin.stubs() == []


def test_the_largest_numbers_are_accepted(admin: Admin, live_server: RunningServer) -> None:
    admin.stub(reply={"text": "top"}, priority=2**63 - 1, times=2**63 - 1)
    admin.stub(reply={"text": "bottom"}, priority=-(2**63))
    assert chat(live_server.url, "hi").json()["choices"][0]["message"]["content"] == "top"


def test_times_is_honoured_exactly_under_concurrency(
    admin: Admin, live_server: RunningServer
) -> None:
    admin.stub(match={"last_user_message": "^race$"}, reply={"text": "won"}, times=7)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: chat(live_server.url, "race"), range(40)))
    contents = [answer.json()["choices"][0]["message"]["content"] for answer in answers]
    assert contents.count("won") == 7
    (stub,) = admin.stubs()
    assert stub["used"] == 7


def requests_per_second(url: str, count: int) -> float:
    body = {"model": "gpt-4", "messages": [{"role": "user", "content": "plain"}]}
    with requests.Session() as session:
        started = time.monotonic()
        for _ in range(count):
            assert session.post(
                f"{url}/v1/chat/completions", json=body, headers=AUTH, timeout=10
            ).ok
        return count / (time.monotonic() - started)


def test_many_stubs_that_never_match_keep_plain_requests_cheap(
    admin: Admin, live_server: RunningServer
) -> None:
    baseline = requests_per_second(live_server.url, 150)
    # Stubs for other models and endpoints, found through the index and never tried; plain
    # words (most stubs match a marker); a hundred real regexes, each tried with RE2.
    stubs = [{"match": {"model": f"other-{i}"}} for i in range(1000)]
    stubs += [
        {"match": {"endpoint": "/v1/responses", "last_user_message": f"^n{i}$"}}
        for i in range(1000)
    ]
    stubs += [{"match": {"last_user_message": f"never {i}"}} for i in range(900)]
    stubs += [{"match": {"last_user_message": f"(?i)^never {i}$"}} for i in range(100)]
    for stub in stubs:
        stub["reply"] = {"text": "x"}
    assert add_stubs(live_server.url, stubs).status_code == 201
    chat(live_server.url, "warm")  # each worker loads the stubs once
    chat(live_server.url, "warm")
    loaded = requests_per_second(live_server.url, 150)
    print(f"plain chat: {baseline:.0f} req/s without stubs, {loaded:.0f} with 3,000")
    # Before the index: 903 and 18 requests a second. The bound leaves room for a busy machine.
    assert loaded > baseline / 6, (baseline, loaded)
