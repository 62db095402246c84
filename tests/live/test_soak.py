"""The short version of the endurance run (benchmarks/soak.py runs it for minutes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("server", ["granian", "granian-rsgi", "gthread"])
def test_mixed_load_leaks_nothing_and_loses_nothing(server: str) -> None:
    result = subprocess.run(
        # Few threads per worker, so the pools are full within the first second and any
        # later growth is a leak, not a pool still filling.
        [
            *(sys.executable, "benchmarks/soak.py", "--duration", "15", "--threads", "4"),
            *("--server", server, "--json"),
            # Latency figures are reported, not asserted: targets live in benchmarks/.
            *("--max-p99-ratio", "0"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    report = json.loads(result.stdout)
    assert report["unexpected"] == [], report["unexpected"]
    assert report["stored"] > 0 and report["missing_stored"] == 0
    assert report["thread_growth"] <= 0, report["samples"]
    assert report["open_file_growth"] <= 0, report["samples"]
    kinds = {name for name, count in report["outcomes"].items() if count > 0}
    assert {"chat", "chat-stream", "store", "retrieve", "stub-use", "fault-429"} <= kinds
    assert {"fault-disconnect", "walk-away"} <= kinds
    hostile = {"hostile-schema", "hostile-chunked-413", "hostile-context", "hostile-stub-use"}
    assert hostile <= kinds, report["outcomes"]
    assert report["passed"] is True
    assert result.returncode == 0
