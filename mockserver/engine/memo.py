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
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

import orjson

from mockserver.engine.ids import tool_call_id
from mockserver.engine.plan import Reply

T = TypeVar("T")
# Requests whose canonical bytes are longer are planned every time: the memory a cache of
# them would hold grows with the prompts, the time they save does not.
MAX_KEY_BYTES = 8 * 1024
MAX_ENTRIES = 512
# What the remembered plans may weigh in all, in tokens (each token of a reply, and each
# alternative of its logprobs, is one): a few hundred bytes each, so some 10 MB at most per
# memo. A plan heavier than an eighth of that (n=128, or top_logprobs=20 on a long reply)
# is planned every time.
MAX_WEIGHT = 50_000


def request_key(*parts: Any) -> bytes | None:
    """Canonical bytes of everything a plan depends on; ``None`` if it cannot be a key."""
    try:
        key = orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):  # lone surrogates, integers over 64 bits
        return None
    if b"null" in key:
        # orjson writes infinities (a body's 1e999) as null: the standard library tells
        # them apart, as the content key that seeds the plan does. (Pass {} rather than
        # None for an absent part, so that common requests stay on the fast path.)
        key = json.dumps(parts, sort_keys=True, separators=(",", ":")).encode()
    return key if len(key) <= MAX_KEY_BYTES else None


def reply_weight(replies: Iterable[Reply]) -> int:
    """How much of the memo's budget replies take: tokens, and logprob alternatives."""
    weight = 0
    for reply in replies:
        alternatives = len(reply.logprobs[0].top) if reply.logprobs else 0
        weight += (reply.completion_tokens + 1) * (1 + alternatives)
    return weight


class Memo(Generic[T]):
    """A bounded map from request keys to plans, least recently used dropped first.

    Bounded both in entries and in ``weigh(plan)``, the plans' total size.
    """

    def __init__(
        self,
        weigh: Callable[[T], int],
        max_entries: int = MAX_ENTRIES,
        max_weight: int = MAX_WEIGHT,
    ) -> None:
        self._entries: OrderedDict[bytes, tuple[T, int]] = OrderedDict()
        self._weigh = weigh
        self._max_entries = max_entries
        self._max_weight = max_weight
        self._weight = 0
        self._lock = threading.Lock()

    def get(self, key: bytes | None, make: Callable[[], T]) -> T:
        if key is None:
            return make()
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found[0]
        made = make()  # outside the lock: two threads may both plan it, with one result
        weight = self._weigh(made)
        if weight > self._max_weight // 8:
            return made
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._weight -= previous[1]
            self._entries[key] = (made, weight)
            self._weight += weight
            while len(self._entries) > self._max_entries or self._weight > self._max_weight:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._weight -= dropped
        return made


def fresh(reply: Reply) -> Reply:
    """The remembered reply with new tool call ids, as a new answer would have."""
    if not reply.tool_calls:
        return reply
    calls = tuple(dataclasses.replace(call, call_id=tool_call_id()) for call in reply.tool_calls)
    return dataclasses.replace(reply, tool_calls=calls)
