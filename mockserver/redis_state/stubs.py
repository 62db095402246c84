"""Stubs on Redis: a hash ``stub:<id>`` each (definition, priority, times, used, seq), a
sorted set ``stubs`` of ids by ``seq``, and a ``stubs:generation`` counter that every change
moves, so each process of each instance rebuilds its in-memory index when it must
(:class:`mockserver.stubs.StubStore` reads the generation once per request).

The counter alone is not enough: after Redis restarts empty, a ``FLUSHDB`` or the counter
evicted, it starts again from 0 and comes back to a number some process has cached, with
other stubs behind it (they were listed, never matched). So the generation a process sees
is the counter together with ``stubs:epoch``, a random value new with each Redis life: made
with ``SET NX`` by the first reader that finds none, and replaced by the change that finds
the counter gone (it restarts at 1). Both are read with one ``MGET``: a request pays the one
round trip it paid for the counter alone.

A use is claimed by one Lua script that checks the row is still this stub (same ``seq``)
and not used up before it counts: ``times`` is honoured exactly once across instances.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import cast

import redis

from mockserver.redis_state.connection import reaching
from mockserver.stubs import Stub, dump_definition, load_stub

# Every script that changes the stubs ends with this. ARGV[2]: a new epoch, taken when the
# counter was gone (INCR gives 1): a Redis life the processes' cached numbers are not from.
_MOVE = """
if redis.call('INCR', p .. 'stubs:generation') == 1 then
  redis.call('SET', p .. 'stubs:epoch', ARGV[2])
end
"""

# ARGV: prefix, new epoch, keep_same ('1' or ''), then (id, definition, priority, times or '')
# per stub.
_ADD = (
    """
local p = ARGV[1]
for i = 4, #ARGV, 4 do
  local key = p .. 'stub:' .. ARGV[i]
  if ARGV[3] == '' or redis.call('HGET', key, 'definition') ~= ARGV[i + 1] then
    local seq = redis.call('INCR', p .. 'stubs:seq')
    redis.call('DEL', key)
    redis.call('HSET', key, 'definition', ARGV[i + 1], 'priority', ARGV[i + 2], 'used', 0,
               'seq', seq)
    if ARGV[i + 3] ~= '' then redis.call('HSET', key, 'times', ARGV[i + 3]) end
    redis.call('ZADD', p .. 'stubs', seq, ARGV[i])
  end
end
"""
    + _MOVE
    + """
return 1
"""
)

# ARGV: prefix, id, seq. Returns the new use count, or nil when the stub was replaced,
# removed or used up meanwhile.
_CLAIM = """
local key = ARGV[1] .. 'stub:' .. ARGV[2]
local row = redis.call('HMGET', key, 'seq', 'times', 'used')
if row[1] ~= ARGV[3] then return nil end
if row[2] and tonumber(row[3]) >= tonumber(row[2]) then return nil end
return redis.call('HINCRBY', key, 'used', 1)
"""

# ARGV: prefix, new epoch. Returns how many stubs were removed.
_CLEAR = (
    """
local p = ARGV[1]
local ids = redis.call('ZRANGE', p .. 'stubs', 0, -1)
for _, id in ipairs(ids) do redis.call('DEL', p .. 'stub:' .. id) end
redis.call('DEL', p .. 'stubs')
"""
    + _MOVE
    + """
return #ids
"""
)

# ARGV: prefix, new epoch, id. Returns 1 if the stub was there.
_DELETE = (
    """
local p = ARGV[1]
local removed = redis.call('ZREM', p .. 'stubs', ARGV[3])
redis.call('DEL', p .. 'stub:' .. ARGV[3])
"""
    + _MOVE
    + """
return removed
"""
)

# ARGV: prefix, new epoch.
_BUMP = (
    """
local p = ARGV[1]
"""
    + _MOVE
)

# The counter is below 2**63 (a Redis integer): the epoch goes above it, in one number.
_COUNTER_BITS = 63


class RedisStubRows:
    """The Redis :class:`~mockserver.storage.StubStorage`."""

    def __init__(self, client: redis.Redis, prefix: str, store: str) -> None:
        self._client = client
        self._prefix = prefix
        self._store = store
        self._counter_key = f"{prefix}stubs:generation"
        self._epoch_key = f"{prefix}stubs:epoch"
        self._add = client.register_script(_ADD)
        self._claim = client.register_script(_CLAIM)
        self._clear = client.register_script(_CLEAR)
        self._delete = client.register_script(_DELETE)
        self._bump = client.register_script(_BUMP)

    def add(self, stubs: Sequence[Stub], keep_same: bool = False) -> None:
        arguments: list[str | int] = [self._prefix, _new_epoch(), "1" if keep_same else ""]
        for stub in stubs:
            times = "" if stub.times is None else stub.times
            arguments += [stub.id, dump_definition(stub), stub.priority, times]
        with reaching(self._store):
            self._add(args=arguments)

    def listing(self) -> list[Stub]:
        stubs = self._all()
        return sorted(stubs, key=lambda stub: (-stub.priority, -stub.seq))

    def usable(self) -> list[Stub]:
        return [stub for stub in self._all() if stub.times is None or stub.used < stub.times]

    def _all(self) -> list[Stub]:
        with reaching(self._store):
            ids = cast("list[str]", self._client.zrange(f"{self._prefix}stubs", 0, -1))
            pipeline = self._client.pipeline(transaction=False)
            for stub_id in ids:
                pipeline.hmget(f"{self._prefix}stub:{stub_id}", "seq", "definition", "used")
            rows = cast("list[list[str | None]]", pipeline.execute())
        # A stub removed between the two reads has no row: it is gone.
        return [load_stub(int(seq or 0), text, int(used or 0)) for seq, text, used in rows if text]

    def clear(self) -> int:
        with reaching(self._store):
            return int(self._clear(args=[self._prefix, _new_epoch()]))

    def delete(self, stub_id: str) -> bool:
        with reaching(self._store):
            return bool(self._delete(args=[self._prefix, _new_epoch(), stub_id]))

    def claim(self, stub: Stub) -> int | None:
        with reaching(self._store):
            used = self._claim(args=[self._prefix, stub.id, stub.seq])
        return None if used is None else int(used)

    def generation(self) -> int:
        """The counter and the epoch in one number: equal only within one Redis life."""
        with reaching(self._store):
            read = self._client.mget(self._counter_key, self._epoch_key)
            counter, epoch = cast("list[str | None]", read)
            if epoch is None:  # a new Redis life (or the epoch evicted): one round trip more
                pipeline = self._client.pipeline(transaction=False)
                pipeline.set(self._epoch_key, _new_epoch(), nx=True)
                pipeline.mget(self._counter_key, self._epoch_key)
                # A full Redis (noeviction) refuses the SET: match on the counter alone
                # rather than fail plain requests; the next read tries again.
                made = pipeline.execute(raise_on_error=False)
                if isinstance(made[1], Exception):
                    raise made[1]
                counter, epoch = cast("list[str | None]", made[1])
        return (_epoch_number(epoch) << _COUNTER_BITS) | int(counter or 0)

    def bump(self) -> None:
        with reaching(self._store):
            self._bump(args=[self._prefix, _new_epoch()])


def _new_epoch() -> str:
    return secrets.token_hex(8)


def _epoch_number(epoch: str | None) -> int:
    try:
        return int(epoch or "0", 16)
    except ValueError:  # not one this module wrote: still a number of its own
        return int.from_bytes(str(epoch).encode()[:64], "big")
