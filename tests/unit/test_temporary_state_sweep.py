"""A temporary state whose server was killed (`kill -9`: no exit hook runs) is removed by the
next server that makes one; a folder whose owner still runs is left alone. (Each killed
server left a 4 MB folder in /tmp for good.)"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from mockserver.db import temporary_state_path


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_next_temporary_state_removes_those_of_killed_servers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    orphan = tmp_path / f"harness-state-{_dead_pid()}-x1"
    orphan.mkdir()
    (orphan / "state.sqlite3").write_bytes(b"left by a killed server")
    alive = tmp_path / f"harness-state-{os.getppid()}-x2"  # its owner runs (our parent)
    alive.mkdir()
    unrelated = tmp_path / "harness-state-abcdef"  # no owner in its name: not ours to judge
    unrelated.mkdir()
    made = temporary_state_path()
    assert made.parent.exists() and made.parent.name.startswith(f"harness-state-{os.getpid()}-")
    assert not orphan.exists()
    assert alive.exists() and unrelated.exists()
