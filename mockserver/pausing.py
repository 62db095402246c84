"""Pauses that hold a thread under WSGI and only a request under the RSGI bridge.

The mock's code is synchronous (WSGI). Under ``--server granian-rsgi`` (``rsgi.py``) a
request runs on its worker's event loop instead of a thread of its own, so a pause the
request asks for (``X-Mock-Latency-Ms``, a stub's ``latency_ms``, a held fault, paced
frames) must not stop the loop: every other request of the worker would wait with it. The
request runs in a greenlet (:func:`run_pausable`), and :func:`pause` hands the wait to the
loop as ``asyncio.sleep``, switching back into the request when it is over. Anywhere else
(a WSGI server's thread, a test) :func:`pause` is ``time.sleep``.

By hand on greenlet: the pattern is SQLAlchemy's ``greenlet_spawn``/``await_only``, a
dozen lines, where SQLAlchemy itself would be a large dependency for them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from greenlet import getcurrent, greenlet

T = TypeVar("T")


class _PausableRequest(greenlet):  # type: ignore[misc]  # greenlet's class is untyped C
    """A request's code running on the loop's thread, whose pauses the loop awaits."""


def pause(seconds: float) -> None:
    """Wait ``seconds``: on the event loop when called from :func:`run_pausable`."""
    current = getcurrent()
    if isinstance(current, _PausableRequest):
        current.parent.switch(asyncio.sleep(seconds))
    else:
        time.sleep(seconds)


async def run_pausable(function: Callable[..., T], *args: Any) -> T:
    """Run ``function(*args)`` on this thread, awaiting each :func:`pause` it makes."""
    request = _PausableRequest(function, getcurrent())
    waiting: Any = request.switch(*args)
    while not request.dead:
        awaitable: Awaitable[Any] = waiting
        try:
            value = await awaitable
        except BaseException as exc:  # the wait cancelled: the request learns it there
            waiting = request.throw(exc)
        else:
            waiting = request.switch(value)
    return waiting  # type: ignore[no-any-return]  # the function's own result
