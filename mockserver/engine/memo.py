"""Planned replies remembered by the exact request they answer, so a repeat is not replanned.

Planning is a pure function of the request (the generator is seeded by its content), and
load tests send the same few requests thousands of times: replanning each one (reply text,
instances for schemas, token counts) was a third of a request's cost. Only what does not
identify one answer is kept: tool call ids are made anew for every answer (:func:`fresh`).

Written by hand because ``functools.lru_cache`` keys on the arguments themselves: a body is
an unhashable dict that can be large, and it must not be kept alive by the cache.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import orjson

from mockserver.engine.ids import tool_call_id
from mockserver.engine.plan import Reply

T = TypeVar("T")
# Requests whose canonical bytes are longer are planned every time: the memory a cache of
# them would hold grows with the prompts, the time they save does not.
MAX_KEY_BYTES = 8 * 1024
MAX_ENTRIES = 512


def request_key(*parts: Any) -> bytes | None:
    """Canonical bytes of everything a plan depends on; ``None`` if it cannot be a key."""
    try:
        key = orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):  # lone surrogates, integers over 64 bits
        return None
    return key if len(key) <= MAX_KEY_BYTES else None


class Memo(Generic[T]):
    """A bounded map from request keys to plans, least recently used dropped first."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[bytes, T] = OrderedDict()
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def get(self, key: bytes | None, make: Callable[[], T]) -> T:
        if key is None:
            return make()
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        made = make()  # outside the lock: two threads may both plan it, with one result
        with self._lock:
            self._entries[key] = made
            if len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return made

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def fresh(reply: Reply) -> Reply:
    """The remembered reply with new tool call ids, as a new answer would have."""
    if not reply.tool_calls:
        return reply
    calls = tuple(dataclasses.replace(call, call_id=tool_call_id()) for call in reply.tool_calls)
    return dataclasses.replace(reply, tool_calls=calls)
