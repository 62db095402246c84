"""Instructions per request, counted by valgrind: an A/B measure that machine noise cannot move.

On a shared machine the time a request takes drifts by 10 to 30 % from one minute to the
next, so a change worth 2 or 3 % cannot be told from noise by timing it (bench_serve.py and
bench_scaling.py measure time, which is what users get). This counts the machine
instructions the mock executes per request instead, with ``valgrind --tool=callgrind``:
the same code on the same inputs gives the same count within 0.3 % without the journal,
whatever else the machine is doing (with it, within 1 to 3 %: the writer thread's polls and
its hand-offs of the GIL land on the request thread as the threads happen to interleave).
Instructions are not time (a cache miss costs more than an add), so use it to compare two
builds, and the timed benchmarks for what a change is worth.

In process, as bench_scaling.py drives the app (no server, no network): the app is built
and warmed up outside the count, then ``--requests`` varied requests (a new number in the
user message, so no memo answers) are counted. The request thread's count and the other
threads' (the journal writer) are shown apart: the writer's depends on how its batches
fell, the request thread's much less.

Run by hand (valgrind from Debian's package; about 15 s a row):
    python benchmarks/bench_instructions.py [--scenarios chat,responses] [--journal on,off]
        [--requests 300] [--baseline DIR]
``--baseline``: a checkout of another build (``git archive <commit> | tar -x -C DIR``),
counted on the same rows, and the ratio of the two.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("chat", "chat-stream", "responses", "responses-stream")
WARM_UP_REQUESTS = 200


class Count(NamedTuple):
    request_thread: int  # instructions per request
    other_threads: int


def child(scenario: str, journal: bool, requests: int) -> None:
    """Build the app, warm it up, then run ``requests`` requests when the parent says so."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    # Imported in the child only: the parent runs without the app.
    from bench_scaling import Client
    from bench_serve import COUNTER, body_for

    from mockserver.app import close_app, create_app
    from mockserver.config import MockConfig

    app = create_app(MockConfig(journal=journal))
    client = Client(app)
    path, body = body_for(scenario, "varied")
    head, tail = json.dumps(body).encode().split(COUNTER.encode())

    def send(number: int) -> None:
        # The body's bytes made by a join, not by json.dumps: the count is the app's, with
        # as little of the driver's own work as can be.
        status, _ = client.send("POST", path, head + str(number).encode() + tail)
        if status != 200:
            raise SystemExit(f"{scenario}: status {status}")

    for number in range(WARM_UP_REQUESTS):
        send(10**9 + number)
    # The parent turns the count on between these two lines, and off after "done".
    print("ready", flush=True)
    sys.stdin.readline()
    for number in range(requests):
        send(number)
    if journal:  # the writer's batches, counted too (its polls add a little to this thread)
        app.extensions["mockserver"].journal.wait_for_pending(timeout_s=120)
    print("done", flush=True)
    sys.stdin.readline()
    close_app(app)


def count(root: Path, scenario: str, journal: bool, requests: int) -> Count:
    """Instructions per request of the build in ``root``, on one scenario."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--separate-threads=yes",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}.%p",
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            scenario,
            "--journal",
            "on" if journal else "off",
            "--requests",
            str(requests),
        ]
        # A fixed hash seed: dict and set layouts (and so their probes) differ from one
        # process to the next otherwise, about 1 % of the count.
        env = {**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": "0"}
        process = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdin is not None and process.stdout is not None
        try:
            _expect(process, "ready")
            _callgrind_control(process.pid, "on")
            process.stdin.write("go\n")
            process.stdin.flush()
            _expect(process, "done")
            _callgrind_control(process.pid, "off")
            process.stdin.write("end\n")
            process.stdin.flush()
            if process.wait(timeout=600) != 0:
                raise SystemExit(f"{scenario}: the counted process failed")
        finally:
            if process.poll() is None:
                process.kill()
        request_thread = other = 0
        for part in Path(folder).glob("callgrind.out.*"):
            total = _totals(part)
            if part.name.endswith("-01"):  # thread 1: the one that called the app
                request_thread += total
            else:
                other += total
    return Count(request_thread // requests, other // requests)


def _expect(process: subprocess.Popen[str], word: str) -> None:
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if line != word:
        raise SystemExit(f"the counted process said {line!r}, not {word!r}")


def _callgrind_control(pid: int, switch: str) -> None:
    subprocess.run(
        ["callgrind_control", "-i", switch, str(pid)],
        check=True,
        capture_output=True,
        timeout=60,
    )


def _totals(part: Path) -> int:
    with part.open() as handle:
        for line in handle:
            if line.startswith("totals:"):
                return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--scenarios", default="chat,responses")
    parser.add_argument("--journal", default="on,off", help="on, off or both (on,off)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--baseline", type=Path, help="a checkout of the build to compare with")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.journal == "on", args.requests)
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    scenarios = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = sorted(set(scenarios) - set(SCENARIOS))
    if unknown:
        parser.error(f"--scenarios: choose among {', '.join(SCENARIOS)} (got {unknown})")
    journals = [part.strip() == "on" for part in args.journal.split(",") if part.strip()]
    print("| scenario | journal | request thread | other threads | baseline | ratio |")
    print("|---|---|---|---|---|---|")
    for scenario in scenarios:
        for journal in journals:
            mine = count(ROOT, scenario, journal, args.requests)
            row = f"| {scenario} | {'on' if journal else 'off'} | {mine.request_thread:,} | "
            row += f"{mine.other_threads:,} | "
            if args.baseline is not None:
                base = count(args.baseline.resolve(), scenario, journal, args.requests)
                ratio = mine.request_thread / base.request_thread
                row += f"{base.request_thread:,} | {ratio:.3f} |"
            else:
                row += "| |"
            print(row, flush=True)


if __name__ == "__main__":
    main()
