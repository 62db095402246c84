"""Stateful round trips on each state backend: SQLite on one instance, Redis on one, Redis on two.

For each setup, one client on a keep-alive connection, requests one after another (latency,
not throughput), ``--count`` of each kind:
  chat      a plain chat completion (stateless: touches the store only to see whether the
            stubs changed)
  store     POST /v1/responses with store: true
  retrieve  GET /v1/responses/{id}
  continue  POST /v1/responses continuing a stored one (previous_response_id), stored too
  journal   GET /_mock/requests?limit=1 (up to 100 of them), which first waits until every
            instance has written the entries of the requests it answered
With two instances, each request goes to the other instance than the one before, so every
retrieve and continue reads what the other instance wrote.

Then, on Redis: a burst of plain chat from 8 threads, with Redis's own count of the scripts
it ran: how many journal appends the burst cost (the writers batch entries, off the
requests' path), and how long after the burst's last answer the whole burst was readable.

Run by hand:  python benchmarks/bench_state.py [--count 300]
Needs redis-server on PATH. Everything listens on 127.0.0.1; every loop is bounded.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.redis_server import RedisServer  # noqa: E402
from tests.fixtures.servers import API_KEY, RunningServer, start_server  # noqa: E402

HEADERS = {"Authorization": f"Bearer {API_KEY}"}
CHAT = {"model": "gpt-4", "messages": [{"role": "user", "content": "hello"}]}
STORED = {"model": "gpt-4", "input": "hello", "store": True}
BURST = 600


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered) * 1000
    p95 = ordered[int(len(ordered) * 0.95) - 1] * 1000
    return f"p50 {p50:6.2f} ms  p95 {p95:6.2f} ms"


def measure(servers: list[RunningServer], count: int) -> dict[str, list[float]]:
    sessions = [requests.Session() for _ in servers]
    for session in sessions:
        session.headers.update(HEADERS)
    turn = 0

    def call(method: str, path: str, body: dict[str, Any] | None = None) -> tuple[float, Any]:
        nonlocal turn
        index = turn % len(servers)
        turn += 1
        started = time.perf_counter()
        response = sessions[index].request(
            method, f"{servers[index].base_url}{path}", json=body, timeout=10
        )
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.text
        return elapsed, response.json()

    for _ in range(20):  # warm up every instance
        call("POST", "/chat/completions", CHAT)
    timings: dict[str, list[float]] = {
        "chat": [],
        "store": [],
        "retrieve": [],
        "continue": [],
        "journal": [],
    }
    for _ in range(count):
        timings["chat"].append(call("POST", "/chat/completions", CHAT)[0])
        elapsed, stored = call("POST", "/responses", STORED)
        timings["store"].append(elapsed)
        timings["retrieve"].append(call("GET", f"/responses/{stored['id']}")[0])
        body = {**STORED, "previous_response_id": stored["id"]}
        timings["continue"].append(call("POST", "/responses", body)[0])
    for index in range(min(count, 100)):
        server = servers[index % len(servers)]
        started = time.perf_counter()
        read = sessions[index % len(servers)].get(
            f"{server.url}/_mock/requests", params={"limit": 1}, timeout=10
        )
        timings["journal"].append(time.perf_counter() - started)
        assert read.status_code == 200, read.text
    return timings


def journal_burst(servers: list[RunningServer], client: redis.Redis) -> str:
    time.sleep(0.2)  # every instance's writer done with the entries measured before
    requests.post(f"{servers[0].url}/_mock/reset", headers=HEADERS, timeout=10)
    client.config_resetstat()

    def chat(index: int) -> None:
        server = servers[index % len(servers)]
        response = requests.post(
            f"{server.base_url}/chat/completions", json=CHAT, headers=HEADERS, timeout=10
        )
        assert response.status_code == 200

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(chat, range(BURST)))
    answered = time.perf_counter()
    # Read at once from the last instance: the read waits for every instance's writers.
    reader = servers[-1]
    entries = requests.get(f"{reader.url}/_mock/requests", headers=HEADERS, timeout=10).json()
    read_ms = (time.perf_counter() - answered) * 1000
    time.sleep(0.2)  # the writers' last batches
    stats = client.info("commandstats")
    scripts = sum(
        int(value["calls"])
        for name, value in stats.items()
        if name in ("cmdstat_evalsha", "cmdstat_eval")
    )
    return (
        f"{BURST} plain chats from 8 threads over {len(servers)} instances: {scripts} journal "
        f"appends (Lua script calls, {scripts / BURST:.3f} per request); the whole journal "
        f"read from the last instance right after the last answer held "
        f"{len(entries['data'])} entries and took {read_ms:.0f} ms"
    )


def run(label: str, servers: list[RunningServer], count: int, log: Callable[[str], None]) -> None:
    timings = measure(servers, count)
    for kind, samples in timings.items():
        log(f"{label:<22} {kind:<9} {percentiles(samples)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    arguments = parser.parse_args()
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("needs redis-server (apt-get install redis-server)")
    folder = Path(tempfile.mkdtemp(prefix="bench-state-"))
    redis_server = RedisServer(binary, folder)
    redis_server.start()
    common = ["--api-key", API_KEY, "--workers", "1", "--log-level", "warning"]
    on_redis = [*common, "--state", redis_server.url]
    started: list[RunningServer] = []
    try:
        sqlite = start_server(common, log_dir=folder)
        started.append(sqlite)
        run("sqlite, 1 instance", [sqlite], arguments.count, print)
        sqlite.stop()
        first = start_server(on_redis, log_dir=folder)
        started.append(first)
        run("redis, 1 instance", [first], arguments.count, print)
        second = start_server(on_redis, log_dir=folder)
        started.append(second)
        run("redis, 2 instances", [first, second], arguments.count, print)
        print(journal_burst([first, second], redis.Redis(port=redis_server.port)))
    finally:
        for server in started:
            server.stop()
        redis_server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
