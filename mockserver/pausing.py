"""Pauses that hold a thread under WSGI and only a request under the RSGI bridge.

The mock's code is synchronous (WSGI). Under ``--server granian-rsgi`` (``rsgi_bridge.py``)
a request runs on its worker's event loop instead of a thread of its own, so a pause the
request asks for (``X-Mock-Latency-Ms``, a stub's ``latency_ms``, a held fault, paced
frames) must not stop the loop: every other request of the worker would wait with it. The
request runs in a greenlet (:func:`run_pausable`), and :func:`pause` hands the wait to the
loop as ``asyncio.sleep``, switching back into the request when it is over. Anywhere else
(a WSGI server's thread, a test) :func:`pause` is ``time.sleep``.

By hand on greenlet: the pattern is SQLAlchemy's ``greenlet_spawn``/``await_only``, a
dozen lines, where SQLAlchemy itself would be a large dependency for them. Unlike it, the
greenlets are kept and reused: making one costs some 5 µs, a twentieth of a request.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
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


async def run_pausable(function: Callable[..., T], *args: Any) -> T:
    """Run ``function(*args)`` on this thread, awaiting each :func:`pause` it makes."""
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
