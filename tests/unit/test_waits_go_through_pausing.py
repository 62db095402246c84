"""A request's waits go through ``mockserver.pausing.pause``, never ``time.sleep``.

Under the default server a request runs on its worker's event loop: a ``time.sleep`` on
its path would stop every request of the worker for as long (tests/live/test_rsgi_server.py
shows it for today's waits). Only threads of their own may sleep: the journal's writer and
its readers' waits (which run on the admin API's threads), the log's flusher, the parent
watch, the idle-memory trimmer, and ``pausing`` itself off the loop.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Modules whose sleeps are on threads of their own, never on a request's path.
SLEEPS_OFF_THE_REQUEST_PATH = {
    "mockserver/pausing.py",
    "mockserver/journal.py",
    "mockserver/redis_state/journal.py",
    "mockserver/serving.py",
    "mockserver/idle_memory.py",
}


def _sleeps(path: Path) -> list[int]:
    """Lines that call ``time.sleep`` or a ``sleep`` imported from ``time``."""
    tree = ast.parse(path.read_text(), str(path))
    imported = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "time"
        and any(alias.name == "sleep" for alias in node.names)
        for node in ast.walk(tree)
    )
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if (
            isinstance(function, ast.Attribute)
            and function.attr == "sleep"
            and isinstance(function.value, ast.Name)
            and function.value.id == "time"
        ) or (imported and isinstance(function, ast.Name) and function.id == "sleep"):
            lines.append(node.lineno)
    return lines


def test_no_module_on_a_requests_path_sleeps() -> None:
    found = {
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "mockserver").rglob("*.py"))
        if str(path.relative_to(ROOT)) not in SLEEPS_OFF_THE_REQUEST_PATH
        for line in _sleeps(path)
    }
    assert not found, f"use mockserver.pausing.pause for a request's waits: {sorted(found)}"


def test_the_check_sees_both_spellings(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import time\nfrom time import sleep\ntime.sleep(1)\nsleep(2)\n")
    assert _sleeps(module) == [3, 4]
