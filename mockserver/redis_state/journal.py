"""The journal on Redis: entries by ``seq`` in hashes, a sorted set of seqs, a byte count.

``journal:entries`` holds each entry's JSON by seq, ``journal:meta`` the columns it is
filtered by (a JSON array: path, method, status, model, stub_id, valid, fault; entries
written before the last two were added have five), ``journal:summaries`` its summary (what
the dashboard lists), ``journal:sizes`` its size; ``journal:seqs`` orders them;
``journal:bytes`` is their total size. One Lua script
appends a batch and drops the oldest past the count and byte caps, atomically, so the caps
hold exactly with many instances writing. Reads page through the seqs newest or oldest
first, as the SQLite store does, and filter each page's columns here.

Entries are written off the requests' path, by a writer thread in each worker process of each
instance. A journal read must still see every request already answered, whichever instance
answered it: the reader publishes a flush request on ``journal:flush``; every process that
has written entries listens there (a thread, :meth:`RedisJournalStore.answer_waits`), waits
until its machine's entries are written, and counts an acknowledgement on
``journal:ack:<nonce>``; the reader waits (bounded) until as many have acknowledged as
Redis says received it (``PUBLISH`` returns that count).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, cast

import redis
from redis.exceptions import RedisError

from mockserver.config import DEFAULT_JOURNAL_MAX_BYTES
from mockserver.journal_store import COLUMNS, MAX_ENTRIES
from mockserver.redis_state.connection import reaching
from mockserver.storage import JournalRow

log = logging.getLogger(__name__)

_PAGE = 200
# How long a listener lets its machine's writers take to answer one flush request.
_ANSWER_WAIT_S = 2.0
# How often a reader looks whether every listener has answered.
_ACK_POLL_S = 0.002
# A listener whose connection failed tries again after this long.
_RELISTEN_S = 1.0

# ARGV: prefix, max entries, max bytes, then (text, columns, size, summary) per entry.
_APPEND = """
local p = ARGV[1]
local seqs, entries = p .. 'journal:seqs', p .. 'journal:entries'
local meta, sizes, bytes = p .. 'journal:meta', p .. 'journal:sizes', p .. 'journal:bytes'
local summaries = p .. 'journal:summaries'
for i = 4, #ARGV, 4 do
  local seq = redis.call('INCR', p .. 'journal:seq')
  redis.call('HSET', entries, seq, ARGV[i])
  redis.call('HSET', meta, seq, ARGV[i + 1])
  redis.call('HSET', sizes, seq, ARGV[i + 2])
  if ARGV[i + 3] ~= '' then
    redis.call('HSET', summaries, seq, ARGV[i + 3])
  end
  redis.call('ZADD', seqs, seq, seq)
  redis.call('INCRBY', bytes, ARGV[i + 2])
end
local max_entries, max_bytes = tonumber(ARGV[2]), tonumber(ARGV[3])
while true do
  local count = redis.call('ZCARD', seqs)
  if count == 0 then break end
  if count <= max_entries and tonumber(redis.call('GET', bytes) or '0') <= max_bytes then
    break
  end
  local seq = redis.call('ZPOPMIN', seqs)[1]
  redis.call('DECRBY', bytes, redis.call('HGET', sizes, seq) or '0')
  redis.call('HDEL', entries, seq)
  redis.call('HDEL', meta, seq)
  redis.call('HDEL', sizes, seq)
  redis.call('HDEL', summaries, seq)
end
return 1
"""

# ARGV: prefix, the time of the clear (see cleared_at), written once the entries are gone,
# so a Redis full to its maxmemory has room for it. Returns how many entries were removed
# (seqs keep counting up).
_CLEAR = """
local p = ARGV[1]
local count = redis.call('ZCARD', p .. 'journal:seqs')
redis.call('DEL', p .. 'journal:seqs', p .. 'journal:entries', p .. 'journal:meta',
           p .. 'journal:sizes', p .. 'journal:bytes', p .. 'journal:summaries')
redis.call('SET', p .. 'journal:cleared_at', ARGV[2])
return count
"""


class RedisJournalStore:
    """The Redis :class:`~mockserver.storage.JournalStorage`."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        store: str,
        max_bytes: int = DEFAULT_JOURNAL_MAX_BYTES,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._store = store
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self._append = client.register_script(_APPEND)
        self._clear = client.register_script(_CLEAR)
        self._channel = f"{prefix}journal:flush"
        self._listening_pid: int | None = None
        self._listen_lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._closed = threading.Event()

    def close(self) -> None:
        """End this process's flush listener (idempotent): its app is being closed."""
        self._closed.set()
        listener, self._listener = self._listener, None
        if listener is not None and listener is not threading.current_thread():
            # It looks for a message at most a second at a time (get_message's timeout).
            listener.join(timeout=_RELISTEN_S + 1.0)

    def append(self, rows: Sequence[JournalRow]) -> None:
        arguments: list[str | int] = [self._prefix, self.max_entries, self.max_bytes]
        for row in rows:
            columns = [row.path, row.method, row.status, row.model, row.stub_id, row.valid]
            columns.append(row.fault)
            arguments += [row.text, json.dumps(columns), row.size, row.summary or ""]
        with reaching(self._store):
            self._append(args=arguments)

    def clear(self) -> int:
        with reaching(self._store):
            return int(self._clear(args=[self._prefix, repr(time.time())]))

    def cleared_at(self) -> float:
        with reaching(self._store):
            found = cast("str | None", self._client.get(f"{self._prefix}journal:cleared_at"))
        return 0.0 if found is None else float(found)

    def wait_for_writers(self, wait_here: Callable[[float], None], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        wait_here(timeout_s)
        nonce = uuid.uuid4().hex
        acks = f"{self._prefix}journal:ack:{nonce}"
        with reaching(self._store):
            listeners = int(self._client.publish(self._channel, nonce))
            while listeners and time.monotonic() < deadline:
                if int(cast("str | None", self._client.get(acks)) or 0) >= listeners:
                    break
                time.sleep(_ACK_POLL_S)
            self._client.delete(acks)

    def answer_waits(self, wait_here: Callable[[float], None]) -> None:
        pid = os.getpid()
        with self._listen_lock:
            if self._listening_pid == pid or self._closed.is_set():
                return
            self._listening_pid = pid
            # Subscribed before this returns (the first entry of this process is being
            # queued), so no reader's flush request can miss this process's entries.
            pubsub = self._subscribe()
            self._listener = threading.Thread(
                target=self._answer_forever,
                args=(pubsub, wait_here),
                name="journal-flushes",
                daemon=True,
            )
            self._listener.start()

    def _subscribe(self) -> Any:
        try:
            return self._pubsub()
        except RedisError:
            return None  # Redis is away: the thread subscribes once it is back

    def _pubsub(self) -> Any:
        # redis-py leaves Redis.pubsub unannotated.
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        pubsub.subscribe(self._channel)
        return pubsub

    def _answer_forever(self, pubsub: Any, wait_here: Callable[[float], None]) -> None:
        while not self._closed.is_set():
            try:
                if pubsub is None:
                    pubsub = self._pubsub()
                message = pubsub.get_message(timeout=1.0)
                if message is None or message.get("type") != "message":
                    continue
                wait_here(_ANSWER_WAIT_S)
                acks = f"{self._prefix}journal:ack:{message['data']}"
                pipeline = self._client.pipeline(transaction=False)
                pipeline.incr(acks)
                pipeline.expire(acks, 60)  # a reader that gave up leaves no key for good
                pipeline.execute()
            except RedisError:
                log.debug("journal flush listener: Redis unreachable, retrying", exc_info=True)
                if pubsub is not None:
                    with contextlib.suppress(RedisError):
                        pubsub.close()
                pubsub = None
                self._closed.wait(_RELISTEN_S)
        if pubsub is not None:
            with contextlib.suppress(RedisError):
                pubsub.close()

    def summaries(
        self, filters: Mapping[str, Any], after: int, before: int | None, limit: int
    ) -> list[tuple[int, str]]:
        wanted = [(COLUMNS.index(name), value) for name, value in filters.items()]
        seqs_key = f"{self._prefix}journal:seqs"
        upper = "+inf" if before is None else f"({before}"
        found: list[tuple[int, str]] = []
        while len(found) < limit:
            with reaching(self._store):
                page = cast(
                    "list[str]",
                    self._client.zrevrangebyscore(seqs_key, upper, f"({after}", 0, _PAGE),
                )
                if not page:
                    break
                chosen = self._filtered(page, wanted)[: limit - len(found)]
                summaries = self._hmget("journal:summaries", chosen) if chosen else []
                # An entry written before summaries were kept: its whole text stands in.
                missing = [seq for seq, text in zip(chosen, summaries, strict=True) if not text]
                wholes = self._hmget("journal:entries", missing) if missing else []
                texts = dict(zip(missing, wholes, strict=True))
            for seq, summary in zip(chosen, summaries, strict=True):
                text = summary or texts.get(seq)
                if text is not None:  # dropped since the page was read
                    found.append((int(seq), text))
            if len(page) < _PAGE:
                break
            upper = f"({page[-1]}"
        return found

    def entry(self, seq: int) -> str | None:
        with reaching(self._store):
            return cast("str | None", self._client.hget(f"{self._prefix}journal:entries", seq))

    def oldest_seq(self) -> int | None:
        with reaching(self._store):
            first = cast("list[str]", self._client.zrange(f"{self._prefix}journal:seqs", 0, 0))
        return int(first[0]) if first else None

    def _filtered(self, page: list[str], wanted: list[tuple[int, Any]]) -> list[str]:
        """The seqs of ``page`` whose columns have the ``wanted`` values."""
        if not wanted:
            return page
        columns = self._hmget("journal:meta", page)
        return [
            seq
            for seq, text in zip(page, columns, strict=True)
            if text is not None and _fits(json.loads(text), wanted)
        ]

    def rows(self, filters: Mapping[str, Any], limit: int | None) -> Iterator[tuple[int, str]]:
        wanted = [(COLUMNS.index(name), value) for name, value in filters.items()]
        if limit is None:
            yield from self._pages(wanted, newest_first=False, limit=None)
        elif limit > 0:
            yield from reversed(list(self._pages(wanted, newest_first=True, limit=limit)))

    def _pages(
        self, wanted: list[tuple[int, Any]], *, newest_first: bool, limit: int | None
    ) -> Iterator[tuple[int, str]]:
        """Entries page by page (so no read holds Redis long), filtered, up to ``limit``."""
        seqs_key = f"{self._prefix}journal:seqs"
        bound = "+inf" if newest_first else "-inf"
        found = 0
        while True:
            with reaching(self._store):
                page = self._page(seqs_key, bound, newest_first)
                if not page:
                    return
                chosen = self._filtered(page, wanted)
                if limit is not None:
                    chosen = chosen[: limit - found]
                texts = self._hmget("journal:entries", chosen) if chosen else []
            for seq, text in zip(chosen, texts, strict=True):
                if text is not None:  # dropped since the page was read
                    found += 1
                    yield int(seq), text
            if (limit is not None and found >= limit) or len(page) < _PAGE:
                return
            # Exclusive bounds: the next page starts past this one's last seq.
            bound = f"({page[-1]}"

    def _page(self, seqs_key: str, bound: str, newest_first: bool) -> list[str]:
        if newest_first:
            found = self._client.zrevrangebyscore(seqs_key, bound, "-inf", 0, _PAGE)
        else:
            found = self._client.zrangebyscore(seqs_key, bound, "+inf", 0, _PAGE)
        return cast("list[str]", found)

    def _hmget(self, key: str, fields: list[str]) -> list[str | None]:
        return cast("list[str | None]", self._client.hmget(f"{self._prefix}{key}", fields))


def _fits(columns: list[Any], wanted: list[tuple[int, Any]]) -> bool:
    # An entry from before a column was added lacks it: as if it were null.
    return all(
        (columns[index] if index < len(columns) else None) == value for index, value in wanted
    )
