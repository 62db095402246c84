"""Two servers' CPU per request, in alternating slices of one load: an A/B under a real server.

A machine shared with others drifts by 10 to 30 % from one minute to the next, so two runs
of bench_serve.py taken minutes apart cannot tell a 5 % change. Here both servers are up at
once (one worker each; the idle one costs nothing), and wrk loads them in turn for a few
seconds each, the order flipped every pair: the drift then falls on both halves of a pair
alike. What is compared is the worker's CPU time per request (from /proc, every thread of the
worker: the journal writer's and granian's own included), with the requests a second beside
it. The median of the pairs' ratios is the answer; two runs of the same code gave ratios
within 2 % of 1.

Run by hand (Linux, wrk; each pair takes about two slices):
    python benchmarks/bench_pairs.py --baseline DIR          # this checkout against DIR's
    python benchmarks/bench_pairs.py --b-args=--no-journal  # the same code, other options
``--baseline``: another build (``git archive <commit> | tar -x -C DIR``), run as A.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import NamedTuple

from bench_serve import SCENARIOS, body_for, free_port, mock_command, running, wrk_script

from harness.cli.serve import DEFAULT_SERVER, DEFAULT_THREADS

ROOT = Path(__file__).resolve().parents[1]
_TICKS = os.sysconf("SC_CLK_TCK")


class Server(NamedTuple):
    port: int
    worker: int  # the pid whose CPU is read


class Slice(NamedTuple):
    cpu_us: float  # worker CPU per request
    rate: float  # requests a second


def start(stack: ExitStack, root: Path, options: str) -> Server:
    """``harness serve`` from ``root`` (stopped with ``stack``), one worker, its default
    server and threads, and its access log as a user runs it."""
    port = free_port()
    command = mock_command(DEFAULT_SERVER, port, 1, DEFAULT_THREADS, extra=options)
    started = stack.enter_context(running(command, port, env={"PYTHONPATH": str(root)}, cwd=root))
    children = subprocess.run(
        ["pgrep", "-P", str(started.pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    if len(children) != 1:  # one worker, forked by granian's master: its CPU is what counts
        raise SystemExit(f"harness serve {options!r}: {len(children)} child processes, not one")
    return Server(port, int(children[0]))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


def load(server: Server, script: str, path: str, seconds: int, connections: int) -> Slice:
    url = f"http://127.0.0.1:{server.port}{path}"
    before = cpu_seconds(server.worker)
    run = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", script, url],
        capture_output=True,
        text=True,
        check=False,
        timeout=seconds + 60,
    )
    if run.returncode != 0:
        raise SystemExit(f"wrk failed ({run.returncode}): {run.stderr or run.stdout}")
    output = run.stdout
    used = cpu_seconds(server.worker) - before
    found = re.search(r"(\d+) requests in", output)
    requests = int(found.group(1)) if found else 0
    if requests == 0 or "Non-2xx" in output:
        raise SystemExit(f"wrk: no clean answers\n{output}")
    return Slice(1e6 * used / requests, requests / seconds)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--scenario", default="chat", choices=sorted(SCENARIOS))
    parser.add_argument("--traffic", default="varied", choices=("varied", "repeated"))
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=3, help="each slice's length")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--baseline", type=Path, help="A's checkout (default: this one)")
    parser.add_argument("--a-args", default="", help="A's harness serve options")
    parser.add_argument("--b-args", default="", help="B's harness serve options")
    args = parser.parse_args()
    path, body = body_for(args.scenario, args.traffic)
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        script = folder / "load.lua"
        script.write_text(wrk_script(body))
        servers = []
        for root, options in ((args.baseline or ROOT, args.a_args), (ROOT, args.b_args)):
            servers.append(start(stack, Path(root).resolve(), options))
        for server in servers:  # warm-up, not counted
            load(server, str(script), path, 2, args.connections)
        slices: list[list[Slice]] = [[], []]
        for pair in range(args.pairs):
            for which in (0, 1) if pair % 2 == 0 else (1, 0):
                slices[which].append(
                    load(servers[which], str(script), path, args.seconds, args.connections)
                )
    ratios = [b.cpu_us / a.cpu_us for a, b in zip(*slices, strict=True)]
    rates = [b.rate / a.rate for a, b in zip(*slices, strict=True)]
    for name, taken in zip("AB", slices, strict=True):
        cpu = statistics.median(each.cpu_us for each in taken)
        rate = statistics.median(each.rate for each in taken)
        print(f"{name}: {cpu:.0f} µs of worker CPU a request, {rate:.0f} requests a second")
    print(
        f"B/A CPU a request: {statistics.median(ratios):.3f} "
        f"(pairs {min(ratios):.3f} to {max(ratios):.3f}); "
        f"requests a second: {statistics.median(rates):.3f}"
    )


if __name__ == "__main__":
    main()
