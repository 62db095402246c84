"""How the mock's cost per request grows with the work asked of it, each dimension alone.

In process (the WSGI app called directly, no server and no network), so the figures are the
mock's own work, comparable between runs on a busy machine: for each point, the best of a few
rounds of the time per request (wall) and of the CPU time per request (every thread of the
process, so the journal writer's share is counted), and how both grew from the dimension's
first point, beside how much the input grew.

Dimensions (the others small): prompt size, ``n``, number of tools, ``max_tokens`` of a
streamed reply, a ``previous_response_id`` chain, journal size. Prompts past gpt-4's
8,192-token context window are refused as the live API refuses them
(``context_length_exceeded``): those rows are the cost of that answer; 512 tools is the live
API's 400. Traffic is varied (a new number in every user message), so no memo answers.

Run by hand:  python benchmarks/bench_scaling.py [--rounds 3] [--budget 0.4] [--only prompt,n]
Bounded: each point runs at most ``--budget`` seconds (and 400 requests) per round.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.journal import JournalEntry
from mockserver.state import EXTENSION_KEY

MAX_REQUESTS = 400
CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"
PROMPT_SIZES = (("100 B", 100), ("10 KB", 10_000), ("100 KB", 100_000), ("1 MB", 1_000_000))
_numbers = itertools.count(1)


@dataclass
class Point:
    dimension: str
    value: str
    size: float  # the input's size on the dimension's scale
    status: int
    wall_us: float
    cpu_us: float


class Client:
    """Calls the mock's WSGI app as a server would, in this process."""

    def __init__(self, app: Any) -> None:
        self.wsgi = app.wsgi_app

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None else b""
        return self.send(method, path, data)

    def send(self, method: str, path: str, data: bytes) -> tuple[int, bytes]:
        """``data`` as the request's body, as it is."""
        path, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(data)),
            "wsgi.input": io.BytesIO(data),
            "HTTP_AUTHORIZATION": "Bearer bench",
            "HTTP_HOST": "127.0.0.1",
            "wsgi.errors": sys.stderr,
        }
        statuses: list[str] = []
        body_iter = self.wsgi(environ, lambda status, headers, exc=None: statuses.append(status))
        try:
            out = b"".join(body_iter)
        finally:
            close = getattr(body_iter, "close", None)
            if close is not None:
                close()
        return int(statuses[0].split()[0]), out


def measure(send: Callable[[], int], rounds: int, budget_s: float) -> tuple[int, float, float]:
    """(status, best wall µs, best CPU µs) per request over ``rounds`` bounded rounds."""
    status = send()  # warm-up, and the status the rows report
    best_wall = best_cpu = float("inf")
    for _ in range(rounds):
        count = 0
        wall, cpu = time.perf_counter(), time.process_time()
        while count < MAX_REQUESTS and time.perf_counter() - wall < budget_s:
            send()
            count += 1
        best_wall = min(best_wall, (time.perf_counter() - wall) / count * 1e6)
        best_cpu = min(best_cpu, (time.process_time() - cpu) / count * 1e6)
    return status, best_wall, best_cpu


def question(size: int = 0) -> str:
    """A new question each call, padded with words to about ``size`` bytes."""
    text = f"What is the status of order {next(_numbers)} in our shop?"
    if size > len(text):
        words = "the order ships soon and arrives in time for the party "
        text += " " + (words * (size // len(words) + 1))[: size - len(text) - 1]
    return text


def chat(**extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4", "messages": [{"role": "user", "content": question()}], **extra}


def sized_chat(size: int) -> dict[str, Any]:
    return {"model": "gpt-4", "messages": [{"role": "user", "content": question(size)}]}


def streamed(limit: int) -> dict[str, Any]:
    body = chat(stream=True, max_tokens=limit)
    body["messages"][0]["content"] = "Stream " + body["messages"][0]["content"]
    return body


def continued(previous: str) -> dict[str, Any]:
    return {"model": "gpt-4", "input": question(), "previous_response_id": previous}


def tool(index: int) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": f"lookup_record_{index}",
            "description": "Look up a record by its key.",
            "parameters": {
                "type": "object",
                "properties": {"key": {"type": "string", "description": "The record key."}},
                "required": ["key"],
            },
        },
    }


def run(args: argparse.Namespace) -> list[Point]:
    state_dir = Path(tempfile.mkdtemp(prefix="bench-scaling-"))
    app = create_app(MockConfig(state_path=state_dir / "state.sqlite3"))
    client = Client(app)
    points: list[Point] = []
    only = set(args.only.split(",")) if args.only else None

    def add(dimension: str, value: str, size: float, send: Callable[[], int]) -> None:
        status, wall, cpu = measure(send, args.rounds, args.budget)
        points.append(Point(dimension, value, size, status, wall, cpu))
        print(f"  {dimension:22} {value:>10}  {status}  {wall:10.0f} µs  {cpu:10.0f} µs CPU")

    def post(path: str, body_of: Callable[[], dict[str, Any]]) -> Callable[[], int]:
        return lambda: client.call("POST", path, body_of())[0]

    def wanted(name: str) -> bool:
        return only is None or name in only

    if wanted("prompt"):
        for label, size in PROMPT_SIZES:
            add("prompt size", label, size, post(CHAT, partial(sized_chat, size)))
    if wanted("n"):
        for n in (1, 8, 64):
            add("n", str(n), n, post(CHAT, partial(chat, n=n)))
    if wanted("tools"):
        for count in (1, 32, 128, 512):
            tools = [tool(index) for index in range(count)]
            add("tools", str(count), count, post(CHAT, partial(chat, tools=tools)))
    if wanted("stream"):
        # A stubbed reply long enough for every limit; max_tokens cuts it.
        long_text = " ".join(f"Sentence number {i} says something." for i in range(600))
        stub = {"match": {"last_user_message": "^Stream "}, "reply": {"text": long_text}}
        status, out = client.call("POST", "/_mock/stubs", stub)
        assert status in (200, 201), out[:300]
        for limit in (16, 256, 4096):
            add("stream max_tokens", str(limit), limit, post(CHAT, partial(streamed, limit)))
        client.call("DELETE", "/_mock/stubs")
    if wanted("chain"):
        for turns in (1, 16, 64):
            previous = ""
            for _ in range(turns):
                turn: dict[str, Any] = {"model": "gpt-4", "input": question(), "store": True}
                if previous:
                    turn["previous_response_id"] = previous
                status, out = client.call("POST", "/v1/responses", turn)
                assert status == 200, out[:300]
                previous = json.loads(out)["id"]
            label = f"{turns} turns"
            add("previous_response_id", label, turns, post(RESPONSES, partial(continued, previous)))
    if wanted("journal"):
        journal = app.extensions[EXTENSION_KEY].journal
        for entries in (0, 10_000):
            client.call("DELETE", "/_mock/requests")
            filler = chat()
            for start in range(0, entries, 500):
                batch = min(500, entries - start)
                journal.record_many(
                    [
                        JournalEntry("POST", "/v1/chat/completions", filler, status=200)
                        for _ in range(batch)
                    ]
                )
            add(
                "journal (chat)",
                f"{entries} entries",
                max(entries, 1),
                post(CHAT, chat),
            )
            add(
                "journal (read limit=1)",
                f"{entries} entries",
                max(entries, 1),
                lambda: client.call("GET", "/_mock/requests?limit=1")[0],
            )
    return points


def table(points: Iterable[Point]) -> str:
    rows = [
        "| dimension | value | status | µs/request | CPU µs/request | cost x | input x |",
        "|---|---|---|---|---|---|---|",
    ]
    first: dict[str, Point] = {}
    for point in points:
        base = first.setdefault(point.dimension, point)
        rows.append(
            f"| {point.dimension} | {point.value} | {point.status} | {point.wall_us:,.0f} | "
            f"{point.cpu_us:,.0f} | {point.cpu_us / base.cpu_us:.1f} | "
            f"{point.size / base.size:,.0f} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget", type=float, default=0.4, help="seconds per point per round")
    parser.add_argument("--only", help="comma-separated: prompt,n,tools,stream,chain,journal")
    args = parser.parse_args()
    points = run(args)
    print()
    print(table(points))


if __name__ == "__main__":
    main()
