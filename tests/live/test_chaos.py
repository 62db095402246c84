"""`harness serve --chaos`: seeded probabilistic faults, as a load test of retries meets them."""

from __future__ import annotations

import math
from pathlib import Path

import httpx
import pytest
import requests
from openai import OpenAI

from tests.fixtures.servers import RunningServer, start_server

HELLO = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]}
AUTH = {"Authorization": "Bearer k"}
RATE = 0.3
REQUESTS = 200


def binomial_bounds(n: int, p: float, outside: float = 1e-6) -> tuple[int, int]:
    """The counts k within which Binomial(n, p) falls but for ``outside`` on each side."""
    pmf = [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    low = next(k for k in range(n + 1) if sum(pmf[: k + 1]) > outside)
    high = next(k for k in range(n, -1, -1) if sum(pmf[k:]) > outside)
    return low, high


def statuses(server: RunningServer, count: int, admin_between: bool = False) -> list[int]:
    seen = []
    with requests.Session() as http:
        for _ in range(count):
            reply = http.post(f"{server.url}/v1/chat/completions", json=HELLO, headers=AUTH)
            seen.append(reply.status_code)
            if admin_between:  # admin routes are never failed, nor counted
                assert http.get(f"{server.url}/_mock/health", timeout=5).status_code == 200
    return seen


def run_once(tmp_path: Path, *extra: str, admin_between: bool = False) -> list[int]:
    server = start_server(
        ["--chaos", f"rate_limit={RATE}", "--chaos-seed", "7", *extra], log_dir=tmp_path
    )
    try:
        seen = statuses(server, REQUESTS, admin_between)
        journal = requests.get(f"{server.url}/_mock/requests", timeout=10).json()["data"]
    finally:
        server.stop()
    # Every chaos fault is journaled as any fault is.
    assert [entry["fault"] for entry in journal] == [
        "rate_limit" if status == 429 else None for status in seen
    ]
    assert "Chaos: rate_limit=0.3 (--chaos-seed 7)" in server.log()
    return seen


@pytest.mark.slow  # three servers started in turn
def test_the_share_of_429s_is_near_the_rate_and_a_seed_repeats_its_run(tmp_path: Path) -> None:
    first = run_once(tmp_path, "--workers", "1")
    assert set(first) == {200, 429}
    low, high = binomial_bounds(REQUESTS, RATE)
    assert low <= first.count(429) <= high, (first.count(429), low, high)

    # The same seed, the same faults in the same order: numbered by arrival, not by time.
    assert run_once(tmp_path, "--workers", "1", admin_between=True) == first
    # With two workers too: one client sending in turn is numbered in its own order.
    assert run_once(tmp_path, "--workers", "2") == first


def test_the_sdk_retries_recover_from_chaos(tmp_path: Path) -> None:
    server = start_server(
        ["--workers", "2", "--chaos", "rate_limit=0.3", "--chaos-seed", "7"], log_dir=tmp_path
    )
    try:
        # Each 429 asks the SDK to wait 1 s (retry-after-ms), so a handful of calls.
        client = OpenAI(
            base_url=server.base_url, api_key="k", max_retries=5, http_client=httpx.Client()
        )
        with client:
            for _ in range(4):
                reply = client.chat.completions.create(**HELLO)
                assert reply.choices[0].message.content
        journal = requests.get(f"{server.url}/_mock/requests", timeout=10).json()["data"]
    finally:
        server.stop()
    assert [entry["status"] for entry in journal].count(200) == 4
    retried = [entry for entry in journal if entry["status"] == 429]
    assert retried, "seed 7 fails some of the first requests: the SDK had to retry"
    assert all(entry["fault"] == "rate_limit" for entry in retried)
    assert len(journal) == 4 + len(retried)
