"""What ``harness serve`` loads: the mock, not the cassette machinery.

The server's workers are forked from the process that ran ``harness serve``, so every module
it imported sits in every worker's memory. vcrpy (with the HTTP clients it patches, httpx and
requests) is for recording and checking cassettes; the mock does not use it. Run in a fresh
interpreter, as ``harness serve`` starts.
"""

from __future__ import annotations

import json
import subprocess
import sys

# Not in a serving process: modules only recording and checking cassettes need.
CASSETTE_MACHINERY = ("vcr", "httpx", "requests", "harness.cassettes")

_SERVE_AS_THE_CLI_DOES = f"""
import json, sys
import click
from harness.cli import main
main.get_command(click.Context(main), "serve")  # what `harness serve` looks up
from mockserver import MockConfig, create_app
app = create_app(MockConfig())
client = app.test_client()
message = {{"role": "user", "content": "hi"}}
client.post("/v1/chat/completions", json={{"model": "gpt-4", "messages": [message]}})
print(json.dumps([name for name in {CASSETTE_MACHINERY!r} if name in sys.modules]))
"""


def test_a_serving_process_loads_no_cassette_machinery() -> None:
    run = subprocess.run(
        [sys.executable, "-c", _SERVE_AS_THE_CLI_DOES],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(run.stdout.splitlines()[-1]) == []


def test_the_command_line_still_lists_and_runs_every_subcommand() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "harness", "--help"], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    listed = [line.split()[0] for line in run.stdout.split("Commands:")[1].splitlines() if line]
    assert listed == ["cassettes", "contract", "record", "serve", "validate"]
    for name in listed:
        help_run = subprocess.run(
            [sys.executable, "-m", "harness", name, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert help_run.returncode == 0, help_run.stderr
        assert "Usage: " in help_run.stdout
