"""The count of finishing responses, shared by worker processes without a lock per change."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from pathlib import Path

from mockserver.db import SharedCounter, SharedTally
from tests.fixtures.forks import join_or_kill, wait_or_kill

# Forked children, as gunicorn makes its workers.
FORK = multiprocessing.get_context("fork")


def _add_from_threads(path: Path, threads: int, times: int, delta: int) -> None:
    tally = SharedTally(path)

    def work() -> None:
        for _ in range(times):
            tally.add(delta)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def _add_and_wait(path: Path, delta: int, ready: multiprocessing.synchronize.Event) -> None:
    SharedTally(path).add(delta)
    ready.set()
    signal.pause()  # until killed


def test_threads_and_processes_add_up(tmp_path: Path) -> None:
    path = tmp_path / "tally"
    tally = SharedTally(path)
    tally.reset()
    children = [FORK.Process(target=_add_from_threads, args=(path, 8, 500, 1)) for _ in range(3)]
    for child in children:
        child.start()
    _add_from_threads(path, 8, 250, 1)
    assert [join_or_kill(child) for child in children] == [0, 0, 0]
    # The children have exited: their slots no longer count; this process's does.
    assert tally.value == 8 * 250
    tally.add(-8 * 250)
    assert tally.value == 0


def test_a_killed_process_leaves_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "tally"
    SharedTally(path).reset()
    ready = FORK.Event()
    child = FORK.Process(target=_add_and_wait, args=(path, 5, ready))
    child.start()
    try:
        assert ready.wait(timeout=30)
        assert SharedTally(path).value == 5
    finally:
        child.kill()
        join_or_kill(child)
    assert SharedTally(path).value == 0
    # Its slot is free again for the next process.
    SharedTally(path).add(2)
    assert SharedTally(path).value == 2


def test_a_forked_child_starts_its_own_slot(tmp_path: Path) -> None:
    path = tmp_path / "tally"
    tally = SharedTally(path)
    tally.reset()
    tally.add(3)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's 3 is not its own
        try:
            tally.add(1)
            os.write(write, str(tally.value).encode())
        finally:
            os._exit(0)
    os.close(write)
    seen = os.read(read, 32).decode()
    assert wait_or_kill(pid) == 0
    assert seen == "4"
    assert tally.value == 3


def test_reset_forgets_every_slot(tmp_path: Path) -> None:
    tally = SharedTally(tmp_path / "tally")
    tally.add(7)
    SharedTally(tmp_path / "tally").reset()
    assert tally.value == 0


def test_two_tallies_on_one_file_in_one_process_keep_their_own_counts(tmp_path: Path) -> None:
    first, second = SharedTally(tmp_path / "tally"), SharedTally(tmp_path / "tally")
    first.reset()
    first.add(2)
    second.add(3)
    first.add(1)
    assert first.value == second.value == 6


def test_a_reset_while_mapped_elsewhere_keeps_the_file_readable(tmp_path: Path) -> None:
    reader = SharedTally(tmp_path / "tally")
    reader.add(4)
    SharedTally(tmp_path / "tally").reset()  # zeroed in place, not truncated
    assert reader.value == 0
    reader.add(1)  # takes a slot again, with its own count
    assert reader.value == 5


def test_counter_changes_from_threads_are_not_lost(tmp_path: Path) -> None:
    # flock alone would let threads of one process interleave their read-modify-writes.
    counter = SharedCounter(tmp_path / "counter")
    counter.reset()

    def work() -> None:
        for _ in range(2000):
            counter.add(1)

    workers = [threading.Thread(target=work) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert counter.value == 16_000
