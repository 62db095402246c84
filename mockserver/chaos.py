"""Probabilistic faults: each API request fails with a named fault at a given rate, seeded.

``harness serve --chaos rate_limit=0.05,disconnect=0.01 --chaos-seed 7`` (``MockConfig.chaos``
and ``chaos_seed``) gives every API request without an ``X-Mock-Fault`` header a 5 % chance
of a 429 and a 1 % chance of a cut body; a stub's ``{"reply": {"chaos": {...}}}`` does the
same for the requests it answers. The fault is one of the registry's (``faults.FAULTS``) and
is journaled as any other (``entry.fault``).

What "a run repeats" means. Whether request *n* fails is a pure function of the seed and
*n* (a hash, not a generator's state), so it does not depend on timing:

- Server-wide chaos numbers requests in the order they reach the server, with a counter
  shared by every worker process of the machine (a small mapped file beside the state
  file). One client sending requests one after another therefore meets the same faults in
  the same order on every run with the same seed, whatever ``--workers`` is. Clients sending
  at the same time share the sequence: the first N requests still carry the same faults as
  a set, but which client gets which follows their arrival order, which nothing fixes.
  The count restarts at each start and at ``POST /_mock/reset`` (so a test sees the same
  faults whichever tests ran before it). Several instances (``--state redis://``) each
  number their own requests.
- A stub's chaos numbers the stub's own uses, which the shared state counts exactly once
  across workers and instances: its k-th use fails or not the same way on every run, even
  with concurrent clients and several instances (the stub is identified by its
  definition, so it needs no fixed id).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import mmap
import os
import struct
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mockserver.faults.base import Fault
from mockserver.faults.registry import FAULTS

# A rate set as `--chaos` and a stub's `chaos` write it: fault name -> probability.
ChaosRates = tuple[tuple[str, float], ...]

_SCALE = float(1 << 64)
_COUNTER = struct.Struct("<Q")


class ChaosError(ValueError):
    """A chaos setting the mock cannot use; the message lists the valid faults."""


def valid_faults() -> str:
    return ", ".join(sorted(FAULTS))


def parse_chaos(text: str) -> ChaosRates:
    """``"rate_limit=0.05,disconnect=0.01"`` as rates, checked (see :func:`check_rates`).

    An empty text is no chaos.
    """
    pairs: list[tuple[str, float]] = []
    for part in text.split(","):
        if not part.strip():
            continue
        name, equals, rate = part.partition("=")
        if not equals:
            raise ChaosError(
                f"{part.strip()!r} has no rate; write NAME=RATE pairs separated by commas "
                f"(e.g. rate_limit=0.05,disconnect=0.01); faults: {valid_faults()}"
            )
        try:
            value = float(rate)
        except ValueError:
            raise ChaosError(
                f"the rate of {name.strip()!r} is {rate.strip()!r}, not a number from 0 to 1"
            ) from None
        pairs.append((name.strip().lower(), value))
    return check_rates(pairs)


def check_rates(rates: Iterable[tuple[str, Any]] | Mapping[str, Any]) -> ChaosRates:
    """The rates in the registry's order, or :class:`ChaosError` naming what is wrong:
    an unknown fault, a fault named twice, a rate outside [0, 1], or rates adding up to
    more than 1 (one request fails one way at most)."""
    pairs = list(rates.items() if isinstance(rates, Mapping) else rates)
    seen: dict[str, float] = {}
    for name, rate in pairs:
        if name not in FAULTS:
            raise ChaosError(f"unknown fault {name!r}; faults: {valid_faults()}")
        if name in seen:
            raise ChaosError(f"fault {name!r} is given twice")
        # bool is an int, and NaN compares false both ways: refuse both explicitly.
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise ChaosError(f"the rate of {name!r} is {rate!r}, not a number from 0 to 1")
        seen[name] = float(rate)
    total = sum(seen.values())
    if total > 1 + 1e-9:
        raise ChaosError(
            f"the rates add up to {total:g}, more than 1 (a request fails one way at most)"
        )
    # The registry's order: the same rates written in any order pick the same faults.
    return tuple((name, seen[name]) for name in FAULTS if name in seen)


def draw(seed: int, stream: str, number: int) -> float:
    """A number in [0, 1) fixed by the seed, the stream's name and the draw's number.

    A counter-based draw (a keyed hash of the number, as Random123's generators are): it
    needs no generator state, so any process computes the n-th draw alike.
    """
    digest = hashlib.blake2b(
        f"{seed}:{stream}:{number}".encode(), digest_size=8, person=b"harness-chaos"
    ).digest()
    return int.from_bytes(digest, "big") / _SCALE


def pick_fault(rates: ChaosRates, roll: float) -> Fault | None:
    """The fault a roll in [0, 1) lands on: each fault owns a slice as wide as its rate."""
    edge = 0.0
    for name, rate in rates:
        edge += rate
        if roll < edge:
            return FAULTS[name]
    return None


class Chaos:
    """Server-wide chaos: the n-th API request's fault (see the module docstring)."""

    def __init__(self, rates: ChaosRates, seed: int, counter_path: Path) -> None:
        self.rates = rates
        self.seed = seed
        self._counter = SharedCounter(counter_path)
        self._counter.reset()

    def next_fault(self) -> Fault | None:
        """The fault of the next request in this machine's order, or None."""
        return pick_fault(self.rates, draw(self.seed, "requests", self._counter.take()))

    def restart(self) -> None:
        """Number requests from the start again (``POST /_mock/reset``)."""
        self._counter.reset()

    def close(self) -> None:
        """Unmap the request counter (its app is closed: ``mockserver.close_app``)."""
        self._counter.close()


def build_chaos(rates: Iterable[Any], seed: int, counter_path: Path) -> Chaos | None:
    """The server's chaos for ``MockConfig.chaos``, or None when no rate is set.

    ``rates`` may come back from JSON as lists; :class:`ChaosError` for a bad one.
    """
    checked = check_rates([(str(name), rate) for name, rate in rates])
    if not any(rate for _, rate in checked):
        return None
    return Chaos(checked, seed, counter_path)


def stub_fault(spec: Mapping[str, Any], seed: int, definition: Any, use: int) -> Fault | None:
    """The fault of a stub's ``use``-th use (from 1), drawn for its ``chaos`` rates."""
    rates = tuple((name, float(rate)) for name, rate in spec.items())
    # The stub's definition names its stream, so two stubs draw independently and a stub
    # loaded again (with a new generated id) draws as before.
    key = hashlib.blake2b(
        json.dumps(definition, sort_keys=True, default=str).encode(), digest_size=8
    ).hexdigest()
    return pick_fault(check_rates(rates), draw(seed, f"stub:{key}", use))


class SharedCounter:
    """A count every worker process of the machine takes numbers from, each number once.

    A mapped 8-byte file, changed under a POSIX record lock (``lockf``: per process, so
    forked workers that inherited the descriptor still exclude each other) and a thread
    lock (the record lock does not exclude threads of one process). By hand, as
    :class:`mockserver.db.SharedTally` is: that tally sums per-process slots and cannot
    hand out numbers; ``multiprocessing.Value`` would be shared only by forked workers.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        self._map: mmap.mmap | None = None
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def take(self) -> int:
        """The next number (0, 1, 2, ...)."""
        with self._thread_lock():
            fd, mapped = self._open()
            fcntl.lockf(fd, fcntl.LOCK_EX)
            try:
                (number,) = _COUNTER.unpack_from(mapped, 0)
                _COUNTER.pack_into(mapped, 0, (number + 1) % (1 << 64))
            finally:
                fcntl.lockf(fd, fcntl.LOCK_UN)
            return int(number)

    def reset(self) -> None:
        with self._thread_lock():
            fd, mapped = self._open()
            fcntl.lockf(fd, fcntl.LOCK_EX)
            try:
                _COUNTER.pack_into(mapped, 0, 0)
            finally:
                fcntl.lockf(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Unmap the file and close its descriptor (idempotent; a later take maps it again)."""
        with self._thread_lock():
            fd, mapped = self._fd, self._map
            self._fd = self._map = None
            if mapped is not None:
                mapped.close()
            if fd is not None:
                os.close(fd)

    def _thread_lock(self) -> threading.Lock:
        if self._pid != os.getpid():  # forked: a lock held by a thread at fork stays held
            self._lock, self._pid = threading.Lock(), os.getpid()
        return self._lock

    def _open(self) -> tuple[int, mmap.mmap]:
        if self._fd is None or self._map is None:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            if os.fstat(fd).st_size < _COUNTER.size:
                os.ftruncate(fd, _COUNTER.size)
            self._fd, self._map = fd, mmap.mmap(fd, _COUNTER.size)
        return self._fd, self._map
