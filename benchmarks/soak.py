"""Endurance: mixed load against `harness serve` for a while, then check nothing leaked.

Mixed load from several client threads: plain chat, full chat streams, stored responses
and their retrieval, stubs with `times: 1`, fault headers (rate_limit, server_error,
disconnect), clients that walk away from a stream half-way, and a share of hostile requests
(schemas no generator can satisfy quickly, a chunked body over the size limit, a prompt over
the context window, a stub whose regex backtracks catastrophically in a backtracking engine).
Worker processes' threads and open files are sampled every second. At the end every stored
response is retrieved. Plain chat latencies are measured alone first, then inside the mixed
load: hostile requests must not take the plain ones' p99 with them.

    python benchmarks/soak.py --duration 300            # by hand, minutes
    python benchmarks/soak.py --duration 20 --json      # the short version the tests run

Passes (exit 0) when there were no unexpected answers, every stored response came back,
threads and open files did not grow between the end of the warm-up and the end, and (with
--max-p99-ratio, 3 by default) plain chat's p99 in the mixed load stayed within that many
times its p99 alone.
Only 127.0.0.1 is contacted; every loop is bounded by --duration.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AUTH = {"Authorization": "Bearer soak-key", "Content-Type": "application/json"}
CHAT = "/v1/chat/completions"


@dataclass
class Sample:
    at: float
    threads: int
    open_files: int


@dataclass
class SoakReport:
    duration_s: float
    requests: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    stored: int = 0
    missing_stored: int = 0
    samples: list[Sample] = field(default_factory=list)
    thread_growth: int = 0
    open_file_growth: int = 0
    plain_p99_alone_ms: float = 0.0
    plain_p99_mixed_ms: float = 0.0
    max_p99_ratio: float | None = None

    @property
    def p99_held(self) -> bool:
        if not self.max_p99_ratio or not self.plain_p99_alone_ms:
            return True
        # A floor of 50 ms: on an idle 2-core machine a plain request's p99 alone is a few
        # ms, and a ratio of two tiny figures says nothing.
        limit = max(self.plain_p99_alone_ms * self.max_p99_ratio, 50.0)
        return self.plain_p99_mixed_ms <= limit

    @property
    def passed(self) -> bool:
        return (
            not self.unexpected
            and self.missing_stored == 0
            and self.thread_growth <= 0
            and self.open_file_growth <= 0
            and self.p99_held
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Client:
    def __init__(self, port: int) -> None:
        self.port = port

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            payload = json.dumps(body) if body is not None else None
            connection.request(method, path, payload, {**AUTH, **(headers or {})})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def chunked(self, path: str, pieces: Any) -> tuple[int, bytes]:
        """POST a body with chunked transfer encoding (no declared length)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request("POST", path, pieces, AUTH, encode_chunked=True)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def walk_away(self) -> None:
        """Open a slow stream, read a little, and drop the connection."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        body = {
            "model": "gpt-4",
            "stream": True,
            "messages": [{"role": "user", "content": "A long story, please"}],
        }
        connection.request("POST", CHAT, json.dumps(body), {**AUTH, "X-Mock-Chunk-Delay-Ms": "20"})
        response = connection.getresponse()
        response.read(200)
        connection.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
        connection.close()


# Spec-valid schemas that once froze a worker or crashed it (issue 12), with the answer each
# gets now: a 400 naming the limit, or (a tiny multipleOf, which overflowed) a valid value.
HOSTILE_SCHEMAS: tuple[tuple[dict[str, Any], int], ...] = (
    ({"type": "string", "allOf": [{"pattern": "^a{30}b$"}, {"pattern": "^(a|a)+$"}]}, 400),
    ({"type": "string", "minLength": 100_000_000}, 400),
    ({"type": "string", "pattern": "^(?:(?:a{1000}){1000}){100}$"}, 400),
    ({"type": "number", "multipleOf": 1e-320, "minimum": 1, "maximum": 2}, 200),
)


def _schema_request(schema: dict[str, Any], n: int) -> dict[str, Any]:
    wrapped = {"type": "object", "properties": {"value": schema}, "required": ["value"]}
    return {
        "model": "gpt-4",
        "messages": [{"role": "user", "content": f"Hostile {n}"}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "hostile", "schema": wrapped},
        },
    }


def worker_processes(server_pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            parent = re.search(r"PPid:\s+(\d+)", status)
            if parent and int(parent.group(1)) == server_pid:
                children.append(int(entry.name))
    return children or [server_pid]


def sample(server_pid: int, started: float) -> Sample:
    threads = files = 0
    for pid in [server_pid, *worker_processes(server_pid)]:
        try:
            threads += len(os.listdir(f"/proc/{pid}/task"))
            files += len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            continue
    return Sample(round(time.monotonic() - started, 1), threads, files)


def fill_thread_pools(client: Client, streams: int) -> None:
    """Hold `streams` slow streams open at once, so every worker's thread pool is at its size.

    Pools create threads on demand; without this, a pool still growing towards its size
    would look like a leak.
    """
    body = {"model": "gpt-4", "stream": True, "messages": [{"role": "user", "content": "Warm up"}]}

    def hold() -> None:
        client.call("POST", CHAT, body, {"X-Mock-Chunk-Delay-Ms": "100"})

    holders = [threading.Thread(target=hold) for _ in range(streams)]
    for holder in holders:
        holder.start()
    for holder in holders:
        holder.join(timeout=60)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def plain_latencies(client: Client, seconds: float, concurrency: int) -> list[float]:
    """Plain chat alone, from ``concurrency`` threads: the latencies in ms."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def loop(offset: int) -> None:
        for n in itertools.count(offset * 100_000):
            if time.monotonic() >= stop_at:
                return
            body = {"model": "gpt-4", "messages": [{"role": "user", "content": f"Alone {n}"}]}
            started = time.perf_counter()
            client.call("POST", CHAT, body)
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return latencies


def run(
    duration: float,
    workers: int,
    server: str,
    concurrency: int,
    threads: int,
    max_p99_ratio: float | None = None,
) -> SoakReport:
    port = free_port()
    state = Path(tempfile.mkdtemp(prefix="soak-")) / "state.sqlite3"
    command = [
        sys.executable,
        "-m",
        "harness",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--server",
        server,
        "--state",
        str(state),
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    client = Client(port)
    report = SoakReport(duration, max_p99_ratio=max_p99_ratio)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.call("GET", "/_mock/health")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("harness serve did not start")
            time.sleep(0.1)
        fill_thread_pools(client, workers * threads * 2)
        alone = plain_latencies(client, min(5.0, duration / 3), concurrency)
        report.plain_p99_alone_ms = round(percentile(alone, 0.99), 1)
        _drive(client, report, process.pid, duration, concurrency)
        for response_id in list(_stored):
            status, _ = client.call("GET", f"/v1/responses/{response_id}")
            if status != 200:
                report.missing_stored += 1
    finally:
        process.terminate()
        process.wait(timeout=30)
    report.stored = len(_stored)
    return report


_stored: list[str] = []


def _drive(
    client: Client, report: SoakReport, server_pid: int, duration: float, concurrency: int
) -> None:
    started = time.monotonic()
    stop_at = started + duration
    lock = threading.Lock()
    outcomes: Counter[str] = Counter()
    counter = itertools.count()
    plain: list[float] = []

    def expect(name: str, ok: bool, detail: str = "") -> None:
        with lock:
            outcomes[name if ok else f"{name}:unexpected"] += 1
            if not ok and len(report.unexpected) < 20:
                report.unexpected.append(f"{name}: {detail[:200]}")

    def one(kind: int) -> None:
        n = next(counter)
        hello = {"model": "gpt-4", "messages": [{"role": "user", "content": f"Question {n % 50}"}]}
        if kind == 0:
            started = time.perf_counter()
            status, body = client.call("POST", CHAT, hello)
            with lock:
                plain.append((time.perf_counter() - started) * 1000)
            expect("chat", status == 200 and b'"chat.completion"' in body, f"{status} {body!r}")
        elif kind == 1:
            status, body = client.call("POST", CHAT, {**hello, "stream": True})
            expect("chat-stream", status == 200 and body.endswith(b"data: [DONE]\n\n"), f"{status}")
        elif kind == 2:
            status, body = client.call(
                "POST", "/v1/responses", {"model": "gpt-4", "input": f"Keep {n}", "store": True}
            )
            ok = status == 200
            expect("store", ok, f"{status} {body!r}")
            if ok:
                with lock:
                    _stored.append(json.loads(body)["id"])
        elif kind == 3:
            with lock:
                chosen = _stored[n % len(_stored)] if _stored else None
            if chosen is not None:
                status, body = client.call("GET", f"/v1/responses/{chosen}")
                expect("retrieve", status == 200, f"{status} {body!r}")
        elif kind == 4:
            marker = f"stub-{n}"
            status, _ = client.call(
                "POST",
                "/_mock/stubs",
                {
                    "match": {"last_user_message": marker},
                    "reply": {"text": marker.upper()},
                    "times": 1,
                },
            )
            expect("stub-add", status == 201)
            status, body = client.call(
                "POST", CHAT, {"model": "gpt-4", "messages": [{"role": "user", "content": marker}]}
            )
            expect(
                "stub-use", status == 200 and marker.upper().encode() in body, f"{status} {body!r}"
            )
        elif kind == 5:
            status, _ = client.call("POST", CHAT, hello, {"X-Mock-Fault": "rate_limit"})
            expect("fault-429", status == 429, str(status))
            status, _ = client.call("POST", CHAT, hello, {"X-Mock-Fault": "server_error"})
            expect("fault-500", status == 500, str(status))
        elif kind == 6:
            try:
                client.call("POST", CHAT, {**hello, "stream": True}, {"X-Mock-Fault": "disconnect"})
                expect("fault-disconnect", False, "the cut stream was read to its end")
            except (http.client.HTTPException, OSError):
                expect("fault-disconnect", True)
        elif kind == 7:
            client.walk_away()
            expect("walk-away", True)
        else:
            hostile(n)

    def hostile(n: int) -> None:
        """One of the requests a careless or hostile client sends; each has a bounded cost."""
        kind = n % len(HOSTILE_SCHEMAS) if n % 4 else -1
        if kind >= 0:
            schema, expected = HOSTILE_SCHEMAS[kind]
            status, body = client.call("POST", CHAT, _schema_request(schema, n))
            expect("hostile-schema", status == expected, f"{status} {body!r}")
        elif n % 16 == 0:
            pieces = (b"{" if i == 0 else b" " * (1 << 20) for i in range(34))
            status, _ = client.chunked(CHAT, pieces)
            expect("hostile-chunked-413", status == 413, str(status))
        elif n % 8 == 4:
            huge = {"model": "gpt-4", "messages": [{"role": "user", "content": "a" * 2_000_000}]}
            status, body = client.call("POST", CHAT, huge)
            expect("hostile-context", status == 400 and b"context_length" in body, str(status))
        else:
            status, body = client.call(
                "POST",
                "/_mock/stubs",
                {"match": {"last_user_message": "^(a|a)+$"}, "reply": {"text": "x"}, "times": 1},
            )
            expect("hostile-stub", status in (201, 400), f"{status} {body!r}")
            crafted = {"model": "gpt-4", "messages": [{"role": "user", "content": "a" * 40 + "!"}]}
            status, body = client.call("POST", CHAT, crafted)
            expect("hostile-stub-use", status == 200, f"{status} {body!r}")
            # A message the regex matches uses the stub up, so stubs do not pile up.
            used = {"model": "gpt-4", "messages": [{"role": "user", "content": "aaaa"}]}
            status, _ = client.call("POST", CHAT, used)
            expect("hostile-stub-match", status == 200, str(status))

    def loop(offset: int) -> None:
        for step in itertools.count(offset):
            if time.monotonic() >= stop_at:
                return
            try:
                one(step % 9)
            except (OSError, http.client.HTTPException) as exc:
                expect("transport", False, repr(exc))

    threads = [threading.Thread(target=loop, args=(index,)) for index in range(concurrency)]
    for thread in threads:
        thread.start()
    while time.monotonic() < stop_at:
        report.samples.append(sample(server_pid, started))
        time.sleep(1.0)
    for thread in threads:
        thread.join(timeout=60)
    time.sleep(1.0)  # let walked-away streams and the journal settle
    report.samples.append(sample(server_pid, started))
    report.plain_p99_mixed_ms = round(percentile(plain, 0.99), 1)
    report.outcomes = dict(outcomes)
    report.requests = sum(outcomes.values())
    # Growth: the last sample against the most seen in the first minute (the first half of a
    # short run). Thread pools and their database connections are created on demand, so
    # they may still be growing at first; a leak keeps growing after that.
    window = [sample for sample in report.samples if sample.at <= min(60.0, duration / 2)]
    window = window or report.samples[:1]
    report.thread_growth = report.samples[-1].threads - max(s.threads for s in window)
    report.open_file_growth = report.samples[-1].open_files - max(s.open_files for s in window)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=180.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server", default="granian", help="as `harness serve --server`")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--threads", type=int, default=16, help="threads per worker")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--max-p99-ratio",
        type=float,
        default=3.0,
        help="fail when plain chat's p99 in the mixed load exceeds this many times its p99 "
        "alone (0: report only)",
    )
    args = parser.parse_args()
    report = run(
        args.duration, args.workers, args.server, args.concurrency, args.threads, args.max_p99_ratio
    )
    if args.json:
        print(json.dumps({**asdict(report), "passed": report.passed}))
    else:
        print(f"{report.requests} exchanges in {report.duration_s:.0f} s: {report.outcomes}")
        print(f"stored {report.stored}, missing {report.missing_stored}")
        first, last = report.samples[0], report.samples[-1]
        print(
            f"threads {first.threads} -> {last.threads} (growth {report.thread_growth}); "
            f"open files {first.open_files} -> {last.open_files} "
            f"(growth {report.open_file_growth})"
        )
        print(
            f"plain chat p99: {report.plain_p99_alone_ms} ms alone, "
            f"{report.plain_p99_mixed_ms} ms in the mixed load"
        )
        for line in report.unexpected:
            print("unexpected:", line)
        print("PASSED" if report.passed else "FAILED")
    sys.exit(0 if report.passed else 1)


if __name__ == "__main__":
    main()
