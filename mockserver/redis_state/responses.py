"""Stored responses on Redis, by the rules of :mod:`mockserver.store` (the SQLite store).

Each turn is stored once: a hash ``resp:<id>`` with the response's body, the messages it
added (``conv``, a JSON array), the id it continues (``parent``), the whole conversation's
length (``turns``), ``hidden`` and ``seq``; a set ``resp:<id>:kids`` of the responses that
continue it; a sorted set ``responses`` of ids by ``seq``, oldest first, for the bound (and
for clearing them all).

Every change is one Lua script, so it is atomic across instances the way a SQLite
transaction is across workers (a script's keys are built from the prefix inside it: this
needs one Redis, not a Redis Cluster).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

import redis

from mockserver.redis_state.connection import reaching
from mockserver.storage import StoredResponse
from mockserver.store import MAX_STORED_RESPONSES

# ARGV: prefix, id, body, messages, parent ('' for none), the parent's turns as the caller
# saw them, turns, limit. Returns 0 (nothing stored) when the parent is gone or changed since
# the caller read it: the caller stores the whole conversation instead.
_SAVE = """
local p, id = ARGV[1], ARGV[2]
local parent = ARGV[5]
if parent ~= '' then
  local known = redis.call('HGET', p .. 'resp:' .. parent, 'turns')
  if known ~= ARGV[6] then return 0 end
end
local seq = redis.call('INCR', p .. 'responses:seq')
local key = p .. 'resp:' .. id
redis.call('HSET', key, 'body', ARGV[3], 'conv', ARGV[4], 'turns', ARGV[7], 'hidden', '0',
           'seq', seq)
if parent ~= '' then
  redis.call('HSET', key, 'parent', parent)
  redis.call('SADD', p .. 'resp:' .. parent .. ':kids', id)
end
redis.call('ZADD', p .. 'responses', seq, id)
local limit = tonumber(ARGV[8])
while redis.call('ZCARD', p .. 'responses') > limit do
  -- The oldest goes; its parent, older still, went before it, so its messages are its
  -- whole conversation: they move to the front of each response continuing it.
  local victim = redis.call('ZPOPMIN', p .. 'responses')[1]
  local vkey = p .. 'resp:' .. victim
  local messages = redis.call('HGET', vkey, 'conv') or '[]'
  for _, kid in ipairs(redis.call('SMEMBERS', vkey .. ':kids')) do
    local kkey = p .. 'resp:' .. kid
    local own = redis.call('HGET', kkey, 'conv')
    if own then
      local whole
      if messages == '[]' then whole = own
      elseif own == '[]' then whole = messages
      else whole = string.sub(messages, 1, -2) .. ',' .. string.sub(own, 2) end
      redis.call('HSET', kkey, 'conv', whole)
      redis.call('HDEL', kkey, 'parent')
    end
  end
  local vparent = redis.call('HGET', vkey, 'parent')
  if vparent then redis.call('SREM', p .. 'resp:' .. vparent .. ':kids', victim) end
  redis.call('DEL', vkey, vkey .. ':kids')
end
return 1
"""

# ARGV: prefix, id. Returns nil (not stored, or deleted), else the body then the messages
# of each turn, newest first.
_GET = """
local p = ARGV[1]
local first = redis.call('HMGET', p .. 'resp:' .. ARGV[2], 'body', 'hidden', 'conv', 'parent')
if not first[1] or first[2] == '1' then return nil end
local out = {first[1], first[3]}
local parent = first[4]
while parent do
  local row = redis.call('HMGET', p .. 'resp:' .. parent, 'conv', 'parent')
  if not row[1] then break end
  out[#out + 1] = row[1]
  parent = row[2]
end
return out
"""

# ARGV: prefix, id. Returns 1 if a response was deleted (or hidden), else 0.
_DELETE = """
local p, id = ARGV[1], ARGV[2]
local key = p .. 'resp:' .. id
local row = redis.call('HMGET', key, 'parent', 'hidden')
if not row[2] or row[2] == '1' then return 0 end
if redis.call('SCARD', key .. ':kids') > 0 then
  -- Later turns still need its messages: hidden, its body no longer kept.
  redis.call('HSET', key, 'hidden', '1', 'body', '{}')
  return 1
end
redis.call('DEL', key, key .. ':kids')
redis.call('ZREM', p .. 'responses', id)
local child, parent = id, row[1]
-- Remove hidden ancestors that no remaining response continues from.
while parent do
  local pkey = p .. 'resp:' .. parent
  redis.call('SREM', pkey .. ':kids', child)
  local up = redis.call('HMGET', pkey, 'parent', 'hidden')
  if up[2] ~= '1' or redis.call('SCARD', pkey .. ':kids') > 0 then break end
  redis.call('DEL', pkey, pkey .. ':kids')
  redis.call('ZREM', p .. 'responses', parent)
  child, parent = parent, up[1]
end
return 1
"""

# ARGV: prefix. Removes every stored response through the sorted set that indexes them all
# (hidden turns included; no KEYS or SCAN over the whole store). Returns the count of those a
# client could still retrieve. One script, so no save lands on a half-cleared chain; its cost
# is bounded by the store's own bound (MAX_STORED_RESPONSES).
_CLEAR = """
local p = ARGV[1]
local visible = 0
for _, id in ipairs(redis.call('ZRANGE', p .. 'responses', 0, -1)) do
  local key = p .. 'resp:' .. id
  if redis.call('HGET', key, 'hidden') == '0' then visible = visible + 1 end
  redis.call('DEL', key, key .. ':kids')
end
redis.call('DEL', p .. 'responses')
return visible
"""


class RedisResponseStore:
    """The Redis :class:`~mockserver.storage.ResponseStorage`."""

    def __init__(
        self, client: redis.Redis, prefix: str, store: str, limit: int = MAX_STORED_RESPONSES
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._store = store
        self.limit = limit
        self._save = client.register_script(_SAVE)
        self._get = client.register_script(_GET)
        self._delete = client.register_script(_DELETE)
        self._clear = client.register_script(_CLEAR)

    def save(
        self, response_id: str, body: Mapping[str, Any], conversation: Sequence[Mapping[str, Any]]
    ) -> None:
        previous = body.get("previous_response_id")
        with reaching(self._store):
            if isinstance(previous, str):
                key = f"{self._prefix}resp:{previous}"
                known = cast("str | None", self._client.hget(key, "turns"))
                if known is not None and int(known) <= len(conversation):
                    tail = _dump(list(conversation[int(known) :]))
                    if self._run_save(response_id, body, tail, previous, known, conversation):
                        return
            self._run_save(response_id, body, _dump(list(conversation)), "", "", conversation)

    def _run_save(
        self,
        response_id: str,
        body: Mapping[str, Any],
        messages: str,
        parent: str,
        parent_turns: str,
        conversation: Sequence[Mapping[str, Any]],
    ) -> bool:
        arguments: list[str | int] = [
            self._prefix,
            response_id,
            _dump(body),
            messages,
            parent,
            parent_turns,
            len(conversation),
            self.limit,
        ]
        return bool(self._save(args=arguments))

    def get(self, response_id: str) -> StoredResponse | None:
        with reaching(self._store):
            found = cast("list[str] | None", self._get(args=[self._prefix, response_id]))
        if not found:
            return None
        conversation: list[dict[str, Any]] = []
        for messages in reversed(found[1:]):
            conversation.extend(json.loads(messages))
        return StoredResponse(body=json.loads(found[0]), conversation=conversation)

    def delete(self, response_id: str) -> bool:
        with reaching(self._store):
            return bool(self._delete(args=[self._prefix, response_id]))

    def clear(self) -> int:
        with reaching(self._store):
            return int(self._clear(args=[self._prefix]))


def _dump(value: Any) -> str:
    # The same text as the SQLite store keeps (ASCII escapes hold lone surrogates).
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))
