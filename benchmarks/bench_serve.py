"""The mock's speed beside its floors and its alternatives, measured side by side in one run.

Traffic is *varied* by default: every request's user message holds a new number, as load
tests of real applications send prompts that differ, so nothing is answered from a memo of
earlier requests. The *repeated* figures (one body over and over) are measured beside them
and labelled as such.

For each server (``--servers``, default gthread, granian and granian-rsgi), under the same
settings:
  mock    `harness serve`: chat plain/stream, chat with an agent's 16 tools, responses
          plain/stream (validation, planning, tokenizer, rendering, journal)
  flask   a trivial Flask handler returning a fixed chat completion (Flask's own cost)
  wsgi    a bare WSGI callable returning the same bytes (the server's own cost)
  busy    that callable after 100 µs of Python (the ceiling for about the mock's own cost)
and, when installed (``npm install @stoplight/prism-cli @copilotkit/aimock`` in --npm-dir):
  prism   Stoplight Prism on the published chat spec, and on it without type-less nullable
          nodes
  aimock  CopilotKit's aimock with a catch-all text fixture
Also: chat stream time to first byte (idle, and while 50 slow streams are open, with the
plain-request rate during those streams), varied chat's rate and p99 alone and beside a 1 MB
prompt sent every 50 ms or so, RSS per worker after the load (at once, and
idle 3 s later) and after 1,000 stored responses, and the time from start to the first
answered request.

Load comes from wrk (Debian package `wrk`) when installed, else a bounded Python loop.
Run by hand:  python benchmarks/bench_serve.py [--duration 10] [--servers granian,granian-rsgi]
Everything goes to 127.0.0.1 only; every loop is bounded in time and count.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import os
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer bench-key"}
HELLO = [{"role": "user", "content": "Hello"}]
# The mark a varied run replaces with a new number in every request's user message.
COUNTER = "#COUNTER#"


def _agent_tool(name: str, description: str, **properties: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": {
                    key: {"type": "string", "description": text} for key, text in properties.items()
                },
                "required": list(properties),
            },
        },
    }


# An agent's toolbox, sent with every request as agent frameworks send it (the varied
# question mentions an order's status, so the mock calls get_order_status).
AGENT_TOOLS = [
    _agent_tool("get_order_status", "The status of an order.", order_id="The order number."),
    _agent_tool("cancel_order", "Cancel an order.", order_id="The order number."),
    _agent_tool("search_products", "Search the catalogue.", query="Words to search for."),
    _agent_tool("get_product", "One product by its id.", product_id="The product id."),
    _agent_tool("create_ticket", "Open a support ticket.", subject="Subject.", body="Text."),
    _agent_tool("get_customer", "A customer by email.", email="The customer's email."),
    _agent_tool("list_invoices", "A customer's invoices.", customer_id="The customer id."),
    _agent_tool("refund_payment", "Refund a payment.", payment_id="Id.", reason="Why."),
    _agent_tool("track_shipment", "Where a parcel is.", tracking_number="The number."),
    _agent_tool("update_address", "Change an address.", customer_id="Id.", address="Text."),
    _agent_tool("get_store_hours", "Opening hours of a store.", store="The store's city."),
    _agent_tool("apply_coupon", "Apply a coupon to a cart.", cart_id="Id.", code="Code."),
    _agent_tool("get_weather", "Weather at a place.", city="The city."),
    _agent_tool("send_email", "Send an email.", to="Address.", subject="Subject."),
    _agent_tool("schedule_callback", "Book a call.", phone="Number.", time="When."),
    _agent_tool("escalate", "Hand over to a human.", reason="Why."),
]
SCENARIOS: dict[str, tuple[str, dict[str, Any]]] = {
    "chat": ("/v1/chat/completions", {"model": "gpt-4", "messages": HELLO}),
    "chat-tools": (
        "/v1/chat/completions",
        {"model": "gpt-4", "messages": HELLO, "tools": AGENT_TOOLS},
    ),
    "chat-stream": ("/v1/chat/completions", {"model": "gpt-4", "messages": HELLO, "stream": True}),
    "responses": ("/v1/responses", {"model": "gpt-4", "input": "Hello"}),
    "responses-stream": ("/v1/responses", {"model": "gpt-4", "input": "Hello", "stream": True}),
}
CHAT_PATH, CHAT_BODY = SCENARIOS["chat"]
TRAFFIC = ("varied", "repeated")
# What a run measures (--targets): the mock, its floors (a trivial Flask handler and a bare
# WSGI callable), the npm alternatives, and the mock's start, first byte, slow streams, RSS.
TARGETS = ("mock", "floors", "prism", "aimock", "extras")


def _choices(
    parser: argparse.ArgumentParser, option: str, value: str, allowed: tuple[str, ...]
) -> tuple[str, ...]:
    chosen = tuple(item.strip() for item in value.split(",") if item.strip())
    unknown = [item for item in chosen if item not in allowed]
    if unknown or not chosen:
        parser.error(f"{option}: choose among {', '.join(allowed)} (got {value!r})")
    return chosen


def varied_body(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with the counter mark in its user message (a question that differs each time)."""
    question = f"What is the status of order {COUNTER} in our shop?"
    if "messages" in body:
        return {**body, "messages": [{"role": "user", "content": question}]}
    return {**body, "input": question}


def body_for(scenario: str, traffic: str) -> tuple[str, dict[str, Any]]:
    path, body = SCENARIOS[scenario]
    return path, varied_body(body) if traffic == "varied" else body


SLOW_STREAMS = 50
# The prompt of the large requests sent beside small ones (extras): past the context window.
LARGE_PROMPT_BYTES = 1_000_000
# How long the RSS is measured again after the load: long enough for an idle worker to
# hand its freed memory back (mockserver.idle_memory looks every second).
IDLE_SETTLE_S = 3.0
# A reply of the mock's to a varied question, of its average length.
AIMOCK_VARIED = (
    "Good question. A common mistake is to ignore testing until scope becomes a problem. "
    "In most cases, cost matters more than clarity when it comes to status order. "
    "I hope this helps!"
)


@dataclass
class Load:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


class Row(NamedTuple):
    label: str  # what was measured: mock/SERVER, aimock, prism/..., a floor
    scenario: str  # "chat (varied)" and the like
    load: Load
    round: int  # which of --rounds (0 for what is measured once)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def post(port: int, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", path, json.dumps(body), {**HEADERS, **(headers or {})})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@dataclass
class Started:
    seconds: float  # from spawn to the first answered chat request
    pid: int  # the server's own process: gunicorn's master, granian's main process
    port: int


@contextmanager
def running(
    command: list[str], port: int, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> Iterator[Started]:
    """Start a server in ``cwd``; yields when it has answered its first chat request."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if post(port, CHAT_PATH, CHAT_BODY) == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[:4]} did not start")
            time.sleep(0.02)
        yield Started(time.perf_counter() - started, process.pid, port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def wrk_script(body: dict[str, Any]) -> str:
    """wrk's Lua: a fixed body, or (with the counter mark) a new number in every request."""
    payload = json.dumps(body)
    lines = [
        'wrk.method = "POST"',
        f"wrk.body = {json.dumps(payload)}",
        *(f'wrk.headers["{key}"] = "{value}"' for key, value in HEADERS.items()),
    ]
    if COUNTER in payload:
        head, tail = payload.split(COUNTER, 1)
        lines += [
            # Each wrk thread has its own Lua state: setup() numbers them, so the threads'
            # counters never meet.
            "local threads = 0",
            "function setup(thread) thread:set('id', threads); threads = threads + 1 end",
            "function init(args) counter = id * 1000000000 end",
            "function request()",
            "  counter = counter + 1",
            f"  return wrk.format(nil, nil, nil, {json.dumps(head)} .. counter .. "
            f"{json.dumps(tail)})",
            "end",
        ]
    return "\n".join(lines)


def run_wrk(port: int, path: str, body: dict[str, Any], duration: float, connections: int) -> Load:
    script = wrk_script(body)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        command = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(duration))}s"]
        command += ["--latency", "-s", handle.name, f"http://127.0.0.1:{port}{path}"]
        output = subprocess.run(
            command, capture_output=True, text=True, check=True, timeout=duration + 60
        ).stdout
    finally:
        os.unlink(handle.name)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return Load(
        float(rate.group(1)) if rate else 0.0,
        _wrk_ms(output, "50%"),
        _wrk_ms(output, "99%"),
        errors,
    )


def _wrk_ms(output: str, label: str) -> float:
    match = re.search(rf"{re.escape(label)}\s+([\d.]+)(us|ms|s)\b", output)
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def run_python_loop(
    port: int, path: str, body: dict[str, Any], duration: float, connections: int
) -> Load:
    """Fallback load: `connections` threads with keep-alive, bounded by time."""
    template = json.dumps(body)
    numbers = iter(range(1 << 62))
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        while time.monotonic() < stop_at:
            payload = template.replace(COUNTER, str(next(numbers))).encode()
            started = time.perf_counter()
            connection.request("POST", path, payload, HEADERS)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered = sorted(latencies) or [float("nan")]
    return Load(
        len(latencies) / duration,
        ordered[len(ordered) // 2] * 1000,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        errors[0],
    )


def first_byte_ms(port: int, count: int = 200) -> tuple[float, float]:
    """p50, p99 (ms) from sending a chat stream request to its first body byte."""
    payload = json.dumps({**CHAT_BODY, "stream": True})
    samples = []
    for _ in range(count):
        # A connection per request: sync workers do not keep connections alive.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.connect()
        started = time.perf_counter()
        connection.request("POST", CHAT_PATH, payload, HEADERS)
        response = connection.getresponse()
        response.read(1)
        samples.append((time.perf_counter() - started) * 1000)
        response.read()
        connection.close()
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99)]


@contextmanager
def slow_streams(port: int, count: int = SLOW_STREAMS, delay_ms: int = 200) -> Iterator[None]:
    """Keep `count` chat streams open, each paced at `delay_ms` per frame (bounded)."""
    stop = threading.Event()
    body = {
        "model": "gpt-4",
        "stream": True,
        "messages": [{"role": "user", "content": "Tell me a long story about testing"}],
    }
    headers = {**HEADERS, "X-Mock-Chunk-Delay-Ms": str(delay_ms)}

    def reader() -> None:
        while not stop.is_set():
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                connection.request("POST", CHAT_PATH, json.dumps(body), headers)
                response = connection.getresponse()
                while not stop.is_set() and response.read(64):
                    pass
            except OSError:
                time.sleep(0.05)
            finally:
                connection.close()

    threads = [threading.Thread(target=reader, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # let them all open
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)


@contextmanager
def large_prompts(
    port: int, size: int = LARGE_PROMPT_BYTES, gap_s: float = 0.05
) -> Iterator[list[float]]:
    """Send a chat request with a ``size``-byte prompt, again and again (``gap_s`` apart),
    on one connection; yields the list of their latencies (ms), filled as they come. Past the
    context window, each is answered 400 once its tokens are counted: milliseconds of work."""
    stop = threading.Event()
    latencies: list[float] = []
    words = ("lorem ipsum dolor sit amet " * (size // 27 + 1))[:size]
    body = json.dumps({"model": "gpt-4", "messages": [{"role": "user", "content": words}]})

    def sender() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while not stop.is_set():
                started = time.perf_counter()
                connection.request("POST", CHAT_PATH, body, HEADERS)
                connection.getresponse().read()
                latencies.append((time.perf_counter() - started) * 1000)
                time.sleep(gap_s)
        finally:
            connection.close()

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    try:
        yield latencies
    finally:
        stop.set()
        thread.join(timeout=30)


def worker_rss_mb(parent_pid: int) -> list[float]:
    """Resident memory of each child process of the server (its workers), rounded, in MB."""
    sizes = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        ppid = re.search(r"PPid:\s+(\d+)", status)
        rss = re.search(r"VmRSS:\s+(\d+) kB", status)
        if ppid and rss and int(ppid.group(1)) == parent_pid:
            sizes.append(round(int(rss.group(1)) / 1024, 1))
    return sorted(sizes)


def mock_command(
    server: str,
    port: int,
    workers: int,
    threads: int,
    log_level: str | None = None,
    extra: str = "",
) -> list[str]:
    """``harness serve`` as measured; ``extra``: more of its options, as one shell-quoted text."""
    command = [
        sys.executable,
        "-m",
        "harness",
        "serve",
        "--server",
        server,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]
    # Only when asked: a --baseline copy from before the option existed still starts.
    if log_level is not None:
        command += ["--log-level", log_level]
    return command + shlex.split(extra)


def floor_command(kind: str, server: str, port: int, workers: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "benchmarks/floor_app.py",
        kind,
        server,
        str(port),
        str(workers),
        str(threads),
    ]


def aimock_server(aimock: Path) -> AbstractContextManager[Started]:
    """aimock with a catch-all fixture, on a free port."""
    fixtures = Path(tempfile.mkdtemp()) / "fixtures.json"
    # aimock answers as the mock does: "Hello" with the greeting, a varied question with
    # a text as long as the mock's (some 190 characters, 38 tokens), streamed in chunks
    # of 5 characters so its streams have about as many frames as the mock's.
    fixtures.write_text(
        json.dumps(
            {
                "fixtures": [
                    {
                        "match": {"userMessage": "Hello"},
                        "response": {"content": "Hello! How can I assist you today?"},
                    },
                    {"match": {"userMessage": ""}, "response": {"content": AIMOCK_VARIED}},
                ]
            }
        )
    )
    port = free_port()
    command = [
        str(aimock),
        "-p",
        str(port),
        "-f",
        str(fixtures),
        "-c",
        "5",
        "--log-level",
        "silent",
    ]
    return running(command, port)


def prism_spec_without_typeless_nullable(path: Path) -> Path:
    """The published chat spec with every `nullable` that has no `type` beside it removed."""
    document = json.loads(path.read_text())

    def strip(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("nullable") is True and "type" not in node:
                del node["nullable"]
            for value in node.values():
                strip(value)
        elif isinstance(node, list):
            for value in node:
                strip(value)

    strip(document)
    out = Path(tempfile.mkdtemp()) / "gpt-4-no-typeless-nullable.json"
    out.write_text(json.dumps(document))
    return out


def ratio_text(mock: list[float] | None, other: list[float] | None) -> str:
    """The mock's rate over the other's: round by round when both ran every round (their
    median, then each round's), else the median of each (a target measured once)."""
    if not mock or not other or not all(other):
        return ""
    if len(mock) == len(other) > 1:
        each = [mine / theirs for mine, theirs in zip(mock, other, strict=True)]
        shown = ", ".join(f"{ratio:.2f}" for ratio in each)
        return f"{statistics.median(each):.2f} (rounds: {shown})"
    return f"{statistics.median(mock) / statistics.median(other):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure the mock (and --baseline) and aimock this many times, in turn; ratios "
        "are then the median of the rounds', each round's shown (runs on a shared machine "
        "vary by 10 to 15 %%)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=64)
    parser.add_argument("--servers", default="gthread,granian,granian-rsgi")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help="comma-separated, of: " + ", ".join(SCENARIOS),
    )
    parser.add_argument("--traffic", default=",".join(TRAFFIC), help="varied, repeated or both")
    parser.add_argument(
        "--targets",
        default=",".join(TARGETS),
        help="comma-separated, of: " + ", ".join(TARGETS) + " (extras: first byte, slow "
        "streams, RSS, start time)",
    )
    parser.add_argument(
        "--mock-log-level",
        help="the mock's --log-level (default: its own, info, an access line per request); "
        "warning is silent, as aimock and Prism run here",
    )
    parser.add_argument(
        "--mock-args",
        default="",
        help="more `harness serve` options for the mock (and --baseline), e.g. "
        "'--no-journal --workers 4'",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="also measure the mock from this copy of the code (mockserver/, harness/, specs/), "
        "as mock-baseline/SERVER, for before/after figures from one run",
    )
    parser.add_argument(
        "--npm-dir",
        type=Path,
        default=ROOT.parent / "npmtools",
        help="folder with node_modules/.bin/{prism,llmock}",
    )
    args = parser.parse_args()
    scenarios = _choices(parser, "--scenarios", args.scenarios, tuple(SCENARIOS))
    traffics = _choices(parser, "--traffic", args.traffic, TRAFFIC)
    targets = _choices(parser, "--targets", args.targets, TARGETS)
    load: Callable[..., Load] = run_wrk if shutil.which("wrk") else run_python_loop
    rows: list[Row] = []
    notes: list[str] = []

    def measure(
        label: str, scenario: str, port: int, traffic: str = "varied", round_: int = 0
    ) -> Load:
        path, body = body_for(scenario, traffic)
        load(port, path, body, min(2.0, args.duration), args.connections)  # warm-up
        result = load(port, path, body, args.duration, args.connections)
        rows.append(Row(label, f"{scenario} ({traffic})", result, round_))
        return result

    def mock_server(server: str, baseline: bool = False) -> AbstractContextManager[Started]:
        port = free_port()
        command = mock_command(
            server, port, args.workers, args.threads, args.mock_log_level, args.mock_args
        )
        if not baseline:
            return running(command, port)
        # Same interpreter and venv; the copy's packages come first on the import path, and
        # it runs in the copy: `python -m` puts the working folder before PYTHONPATH, so run
        # from this checkout it measured this checkout's code again.
        env = {"PYTHONPATH": str(args.baseline.resolve())}
        return running(command, port, env=env, cwd=args.baseline.resolve())

    def extras(server: str, started: Started) -> None:
        port = started.port
        rss = worker_rss_mb(started.pid)
        time.sleep(IDLE_SETTLE_S)  # an idle worker hands freed memory back (idle_memory)
        notes.append(
            f"[{server}] RSS per worker after the load: {rss} MB; "
            f"{IDLE_SETTLE_S:.0f} s later, idle: {worker_rss_mb(started.pid)} MB"
        )
        idle = first_byte_ms(port)
        notes.append(
            f"[{server}] chat stream first byte, idle: p50 {idle[0]:.2f} ms, p99 {idle[1]:.2f} ms"
        )
        with slow_streams(port):
            busy = first_byte_ms(port, count=100)
            during = load(port, CHAT_PATH, CHAT_BODY, min(5.0, args.duration), 16)
        notes.append(
            f"[{server}] with {SLOW_STREAMS} slow streams open: "
            f"first byte p50 {busy[0]:.2f} ms "
            f"(x{busy[0] / idle[0]:.1f} idle), plain chat {during.requests_per_s:.0f} req/s, "
            f"p99 {during.p99_ms:.1f} ms, errors {during.errors}"
        )
        alone = load(port, CHAT_PATH, varied_body(CHAT_BODY), min(5.0, args.duration), 16)
        with large_prompts(port) as latencies:
            beside = load(port, CHAT_PATH, varied_body(CHAT_BODY), min(5.0, args.duration), 16)
        large_ms = statistics.median(latencies) if latencies else float("nan")
        notes.append(
            f"[{server}] varied chat at 16 connections: alone {alone.requests_per_s:.0f} req/s, "
            f"p99 {alone.p99_ms:.1f} ms; beside {len(latencies)} prompts of "
            f"{LARGE_PROMPT_BYTES // 1_000_000} MB, one every {large_ms + 50:.0f} ms: "
            f"{beside.requests_per_s:.0f} req/s, p99 {beside.p99_ms:.1f} ms (the large ones: "
            f"median {large_ms:.0f} ms)"
        )
        for index in range(1000):
            post(
                port, "/v1/responses", {"model": "gpt-4", "input": f"store {index}", "store": True}
            )
        notes.append(
            f"[{server}] RSS per worker after 1,000 stored responses: "
            f"{worker_rss_mb(started.pid)} MB"
        )

    # Each round measures every target in turn, each alone on the machine (another server
    # merely idle beside the mock cost it some 10 % of its rate), started afresh: a
    # machine whose speed drifts during the run then moves them all alike.
    turns: list[tuple[str, Callable[[], AbstractContextManager[Started]]]] = []
    for server in args.servers.split(","):
        if "mock" in targets or "extras" in targets:
            turns.append((f"mock/{server}", functools.partial(mock_server, server)))
        if "mock" in targets and args.baseline is not None:
            turns.append(
                (f"mock-baseline/{server}", functools.partial(mock_server, server, baseline=True))
            )
    aimock = args.npm_dir / "node_modules" / ".bin" / "llmock"
    if aimock.exists() and "aimock" in targets:
        turns.append(("aimock", functools.partial(aimock_server, aimock)))
    for round_ in range(args.rounds):
        # The order turns round by round, so each target takes each place in turn: in a
        # fixed order the mock, measured first, lost some 10 % to its baseline, which in
        # alternating pairs (ABBA) it matched.
        shift = round_ % len(turns) if turns else 0
        for label, start in turns[shift:] + turns[:shift]:
            with start() as started:
                is_mock = label.startswith("mock/")
                server = label.partition("/")[2]
                if is_mock and round_ == 0:
                    notes.append(
                        f"[{server}] start to first answered request: "
                        f"{started.seconds * 1000:.0f} ms"
                    )
                if "mock" in targets or not is_mock:
                    for scenario in scenarios:
                        for traffic in traffics:
                            measure(label, scenario, started.port, traffic, round_)
                if is_mock and "extras" in targets and round_ == args.rounds - 1:
                    extras(server, started)  # right after its last load (the RSS after it)
    for server in args.servers.split(","):
        for kind in ("flask", "wsgi", "busy"):
            if "floors" not in targets:
                break
            port = free_port()
            with running(floor_command(kind, server, port, args.workers, args.threads), port):
                measure(f"{kind}/{server}", "chat", port, "repeated")

    prism = args.npm_dir / "node_modules" / ".bin" / "prism"
    published = ROOT / "specs" / "upstream" / "gpt-4.json"
    if prism.exists() and "prism" in targets and "chat" in scenarios:
        for label, spec in [
            ("prism/published", published),
            ("prism/no-typeless-nullable", prism_spec_without_typeless_nullable(published)),
        ]:
            port = free_port()
            with running([str(prism), "mock", "-p", str(port), "-v", "silent", str(spec)], port):
                for traffic in traffics:
                    measure(label, "chat", port, traffic)
    print(
        f"load: {load.__name__}, {args.connections} connections, {args.duration:.0f} s each, "
        f"{args.workers} workers x {args.threads} threads, {os.cpu_count()} cores"
    )
    rounds = args.rounds > 1
    print(
        f"{'target':28} {'scenario':28} {'round' if rounds else '':>5} {'req/s':>8} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
    )
    for row in rows:
        print(
            f"{row.label:28} {row.scenario:28} {row.round + 1 if rounds else '':>5} "
            f"{row.load.requests_per_s:8.0f} {row.load.p50_ms:8.2f} {row.load.p99_ms:8.2f} "
            f"{row.load.errors:7d}"
        )
    rates: dict[tuple[str, str], list[float]] = {}
    for row in rows:
        rates.setdefault((row.label, row.scenario), []).append(row.load.requests_per_s)
    print("ratios (req/s of the mock / req/s of the other, same scenario and traffic):")
    for server in args.servers.split(","):
        mock_label = f"mock/{server}"
        others = [f"mock-baseline/{server}", "aimock", "prism/published"]
        others += ["prism/no-typeless-nullable"]
        for scenario in SCENARIOS:
            for traffic in TRAFFIC:
                key = f"{scenario} ({traffic})"
                for other in others:
                    ratio = ratio_text(rates.get((mock_label, key)), rates.get((other, key)))
                    if ratio:
                        print(f"  {mock_label} {key} / {other} = {ratio}")
        for floor in [f"flask/{server}", f"wsgi/{server}", f"busy/{server}"]:
            key = "chat (repeated)"
            ratio = ratio_text(rates.get((mock_label, key)), rates.get((floor, key)))
            if ratio:
                print(f"  {mock_label} {key} / {floor} = {ratio}")
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
