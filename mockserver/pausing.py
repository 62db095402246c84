"""Pauses that hold a thread under WSGI and only a request under the RSGI bridge.

The mock's code is synchronous (WSGI). Under ``--server granian-rsgi`` (``rsgi_bridge.py``)
a request runs on its worker's event loop instead of a thread of its own, so a pause the
request asks for (``X-Mock-Latency-Ms``, a stub's ``latency_ms``, a held fault, paced
frames) must not stop the loop: every other request of the worker would wait with it. The
request runs in a greenlet (:func:`run_pausable`), and :func:`pause` hands the wait to the
loop as ``asyncio.sleep``, switching back into the request when it is over. Anywhere else
(a WSGI server's thread, a test) :func:`pause` is ``time.sleep``.

Work that takes milliseconds and lets go of the GIL (the tokenizer on a long text: 35 ms
for 1 MB of words; a prompt past the context window is counted only that far) must not stop
the loop either: :func:`off_loop` runs it on a thread of a small pool, awaited by the loop
as a pause is, which answers the worker's other requests meanwhile (with a 1 MB prompt
every 90 ms beside small requests on one worker, theirs had a p99 of 60 ms).

By hand on greenlet: the pattern is SQLAlchemy's ``greenlet_spawn``/``await_only``, a
dozen lines, where SQLAlchemy itself would be a large dependency for them. Unlike it, the
greenlets are kept and reused: making one costs some 5 µs, a twentieth of a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from greenlet import getcurrent, greenlet

T = TypeVar("T")


class _Finished:
    """What a runner hands back when its call is over (anything else is an awaitable)."""

    __slots__ = ("error", "value")

    def __init__(self, value: Any, error: BaseException | None) -> None:
        self.value = value
        self.error = error


class _Runner(greenlet):  # type: ignore[misc]  # greenlet's class is untyped C
    """A greenlet that runs one call after another, on the thread that made it."""

    def __init__(self) -> None:
        super().__init__(self._run_calls)

    def _run_calls(self, call: tuple[Callable[..., Any], tuple[Any, ...]]) -> None:
        while True:
            function, args = call
            try:
                finished = _Finished(function(*args), None)
            except BaseException as exc:  # handed to the caller of run_pausable
                finished = _Finished(None, exc)
            del function, args
            call = self.parent.switch(finished)


# Runners not running a call, per thread (a greenlet switches only within its own thread).
_idle = threading.local()


def pause(seconds: float) -> None:
    """Wait ``seconds``: on the event loop when called from :func:`run_pausable`."""
    current = getcurrent()
    if isinstance(current, _Runner):
        current.parent.switch(asyncio.sleep(seconds))
    else:
        time.sleep(seconds)


def off_loop(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)``: on a thread, awaited by the event loop, when called from
    :func:`run_pausable`; here otherwise. For work of milliseconds that lets go of the GIL
    (a thread's hand-off costs some 50 µs)."""
    current = getcurrent()
    if not isinstance(current, _Runner):
        return function(*args)
    loop = asyncio.get_running_loop()
    result: T = current.parent.switch(loop.run_in_executor(_off_loop_pool(), function, *args))
    return result


# The threads that off_loop's calls run on, per process: the loop's own default executor
# would grow a thread at a time (see started_pool); a few suffice for two cores or so.
OFF_LOOP_THREADS = 4


@functools.lru_cache(maxsize=1)
def _off_loop_pool() -> ThreadPoolExecutor:
    return started_pool(OFF_LOOP_THREADS, "off-loop")


# A forked worker starts without the parent's threads: its pool is made anew.
os.register_at_fork(after_in_child=_off_loop_pool.cache_clear)

# The longest a thread pool's start may keep its first call waiting.
_POOL_START_S = 5.0


def started_pool(threads: int, name: str) -> ThreadPoolExecutor:
    """A pool of ``threads`` threads, all started now.

    A pool that grew with its load, a thread at a time as calls overlapped, kept growing for
    seconds under occasional calls, which is what a leak of threads looks like to whoever
    counts them (``benchmarks/soak.py``).
    """
    pool = ThreadPoolExecutor(threads, thread_name_prefix=name)
    # Each waits for all the others: so each submit finds no thread idle, and starts one
    # more (ThreadPoolExecutor has no way to start them all).
    everyone = threading.Barrier(threads)
    for _ in range(threads):
        pool.submit(_wait_for_all, everyone)
    return pool


def _wait_for_all(barrier: threading.Barrier) -> None:
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=_POOL_START_S)


async def run_pausable(function: Callable[..., T], *args: Any) -> T:
    """Run ``function(*args)`` on this thread, awaiting each :func:`pause` it makes (and
    each :func:`off_loop` call)."""
    idle: list[_Runner] = _idle.__dict__.setdefault("runners", [])
    runner = idle.pop() if idle else _Runner()
    step: Any = runner.switch((function, args))
    while not isinstance(step, _Finished):
        try:
            value = await step
        except BaseException as exc:  # the wait cancelled: the call learns it there
            step = runner.throw(exc)
        else:
            step = runner.switch(value)
    idle.append(runner)
    if step.error is not None:
        raise step.error
    return step.value  # type: ignore[no-any-return]  # the function's own result
