"""A worker hands freed memory back once idle after work, never while busy (idle_memory)."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from mockserver import idle_memory


class _Done(Exception):
    pass


def _run(cpu_per_look: list[float]) -> list[int]:
    """Run the watcher over a script of CPU seconds used per look; the looks it trimmed at."""
    trims: list[int] = []
    looks = iter(range(len(cpu_per_look)))
    clock = [0.0]
    current = [0]

    def sleep(_: float) -> None:
        try:
            current[0] = next(looks)
        except StopIteration:
            raise _Done from None
        clock[0] += cpu_per_look[current[0]]

    with pytest.raises(_Done):
        idle_memory._watch(lambda: trims.append(current[0]), lambda: clock[0], sleep)
    return trims


def test_trims_once_per_idle_spell_after_work() -> None:
    busy, idle = 0.9, 0.0
    assert _run([busy, busy, idle, idle, idle, busy, idle, idle]) == [2, 6]


def test_never_trims_a_busy_worker_nor_one_that_did_little() -> None:
    assert _run([0.9] * 10) == []
    # A health check now and then: under the idle share, and not enough work to trim for.
    assert _run([0.01, 0.0, 0.01, 0.0] * 5) == []
    # Work below the threshold, spread out, adds up until it is worth a trim.
    assert _run([0.2, 0.0, 0.2, 0.0, 0.2, 0.0]) == [5]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_the_real_trim_is_found_and_runs() -> None:
    trim = idle_memory._malloc_trim()
    assert trim is not None
    trim()


def test_one_thread_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[threading.Thread] = []
    monkeypatch.setattr(idle_memory, "_started_in", None)
    monkeypatch.setattr(idle_memory, "_malloc_trim", lambda: lambda: None)
    monkeypatch.setattr(threading.Thread, "start", lambda thread: started.append(thread))
    idle_memory.trim_when_idle()
    idle_memory.trim_when_idle()
    assert [thread.name for thread in started] == ["idle-memory"]
    monkeypatch.setattr(idle_memory, "_started_in", os.getpid() + 1)  # as after a fork
    idle_memory.trim_when_idle()
    assert len(started) == 2
