"""Throughput and latency of `harness serve` beside its floors, measured side by side in one run.

Targets, each under the same gunicorn settings (workers x threads):
  mock   `harness serve` (validation, planning, tokenizer, rendering)
  flask  a trivial Flask handler returning a fixed chat completion
  wsgi   a bare WSGI callable returning the same bytes
Load: wrk (Debian package `wrk`) with 32 connections when installed, else a bounded Python
loop. Also: time to first byte of a chat stream (sequential requests, p50/p99).

Run by hand:  python benchmarks/bench_serve.py [--duration 10] [--workers 2] [--threads 16]
Everything is sent to 127.0.0.1 only; every loop is bounded in time and count.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAT_BODY = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]}
STREAM_BODY = {**CHAT_BODY, "stream": True}
HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer bench-key"}


@dataclass
class Result:
    name: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(command: list[str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/_mock/health")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{command} did not start")


def run_wrk(
    port: int, path: str, body: dict[str, object], duration: float, connections: int
) -> Result:
    script = "\n".join(
        [
            'wrk.method = "POST"',
            f"wrk.body = {json.dumps(json.dumps(body))}",
            *(f'wrk.headers["{k}"] = "{v}"' for k, v in HEADERS.items()),
        ]
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        output = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{int(duration)}s",
                "--latency",
                "-s",
                handle.name,
                f"http://127.0.0.1:{port}{path}",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=duration + 30,
        ).stdout
    finally:
        os.unlink(handle.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return Result("", rate, _wrk_latency(output, "50%"), _wrk_latency(output, "99%"), errors)


def _wrk_latency(output: str, label: str) -> float:
    match = re.search(rf"{re.escape(label)}\s+([\d.]+)(us|ms|s)", output)
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def run_python_loop(
    port: int, path: str, body: dict[str, object], duration: float, connections: int
) -> Result:
    """Fallback load: `connections` threads, keep-alive, bounded by time."""
    payload = json.dumps(body).encode()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            connection.request("POST", path, payload, HEADERS)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered = sorted(latencies)
    return Result(
        "",
        len(ordered) / duration,
        ordered[len(ordered) // 2] * 1000,
        ordered[int(len(ordered) * 0.99)] * 1000,
        errors[0],
    )


def stream_first_byte(port: int, count: int = 200) -> tuple[float, float]:
    """p50 and p99 (ms) from sending a streaming request to reading its first body byte."""
    payload = json.dumps(STREAM_BODY).encode()
    samples = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(count):
        started = time.perf_counter()
        connection.request("POST", "/v1/chat/completions", payload, HEADERS)
        response = connection.getresponse()
        response.read(1)
        samples.append((time.perf_counter() - started) * 1000)
        response.read()
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per target")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    load = run_wrk if shutil.which("wrk") else run_python_loop
    settings = [str(args.workers), str(args.threads)]
    targets = {
        "mock": [
            sys.executable,
            "-m",
            "harness",
            "serve",
            "--workers",
            settings[0],
            "--threads",
            settings[1],
            "--port",
        ],
        "flask": [sys.executable, "benchmarks/floor_app.py", "flask"],
        "wsgi": [sys.executable, "benchmarks/floor_app.py", "wsgi"],
    }
    results: dict[str, Result] = {}
    ttfb: tuple[float, float] | None = None
    for name, command in targets.items():
        port = free_port()
        full = [*command, str(port)] if name == "mock" else [*command, str(port), *settings]
        process = start(full, port)
        try:
            load(port, "/v1/chat/completions", CHAT_BODY, 2, args.connections)  # warm-up
            result = load(port, "/v1/chat/completions", CHAT_BODY, args.duration, args.connections)
            result.name = name
            results[name] = result
            if name == "mock":
                ttfb = stream_first_byte(port)
        finally:
            process.terminate()
            process.wait(timeout=15)
    print(
        f"load: {load.__name__}, {args.connections} connections, {args.duration:.0f}s each, "
        f"gunicorn gthread {args.workers} workers x {args.threads} threads, {os.cpu_count()} cores"
    )
    print(f"{'target':8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for result in results.values():
        print(
            f"{result.name:8} {result.requests_per_s:9.0f} {result.p50_ms:8.2f} "
            f"{result.p99_ms:8.2f} {result.errors:7d}"
        )
    mock = results["mock"].requests_per_s
    print(f"mock / flask = {mock / results['flask'].requests_per_s:.2f}  (target >= 0.60)")
    print(f"mock / wsgi  = {mock / results['wsgi'].requests_per_s:.2f}")
    if ttfb is not None:
        print(f"chat stream time to first byte: p50 {ttfb[0]:.2f} ms, p99 {ttfb[1]:.2f} ms")


if __name__ == "__main__":
    main()
