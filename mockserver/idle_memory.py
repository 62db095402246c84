"""Memory a worker freed under load, handed back to the system once the worker falls idle.

A request allocates and frees blocks of a few KB to some hundreds (bodies, stream frames,
journal entries) from many threads. glibc's allocator keeps what is freed in the arena of
the thread that freed it, for reuse, so after a burst a worker's resident size stays near
its peak although the memory is free: measured after ``benchmarks/bench_serve.py``'s whole
run (``--rounds 3``), 131 MB per worker at once, 121 MB idle 3 s later, trimmed.
``malloc_trim(0)`` returns the free pages of every arena to the system.

A worker counts as idle when it used under :data:`IDLE_CPU_SHARE` of a core over the last
:data:`LOOK_EVERY_S`, and it trims once per idle spell, after it has worked: nothing is
added to the requests' path, and a worker under load is never trimmed (a trim of a busy
arena would only hand back pages the next requests take again).

No library offers this: ``malloc_trim`` is glibc's own, not POSIX, so it is called through
:mod:`ctypes`. Where the C library has none (musl, macOS), nothing runs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time
from collections.abc import Callable

# How often the worker's CPU time is looked at, and the share of one core under which the
# worker counts as idle (a health check or a few requests a second stay under it).
LOOK_EVERY_S = 1.0
IDLE_CPU_SHARE = 0.02
# The CPU a worker must have used since its last trim for the next one to be worth it.
WORKED_CPU_S = 0.5

_started_in: int | None = None
_start_lock = threading.Lock()


def trim_when_idle() -> None:
    """Start this process's trimming thread (once per process; nothing without glibc)."""
    global _started_in
    with _start_lock:
        if _started_in == os.getpid():
            return
        _started_in = os.getpid()
    trim = _malloc_trim()
    if trim is None:
        return
    threading.Thread(target=_watch, args=(trim,), name="idle-memory", daemon=True).start()


def _malloc_trim() -> Callable[[], None] | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        function = libc.malloc_trim
    except (OSError, AttributeError, TypeError):  # no C library found, or not glibc
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    return lambda: function(0)


def _watch(
    trim: Callable[[], None],
    cpu_time: Callable[[], float] = time.process_time,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    last_cpu = cpu_time()
    worked = 0.0  # CPU seconds since the last trim
    while True:
        sleep(LOOK_EVERY_S)
        cpu = cpu_time()
        used, last_cpu = cpu - last_cpu, cpu
        if used >= IDLE_CPU_SHARE * LOOK_EVERY_S:
            worked += used
            continue
        if worked >= WORKED_CPU_S:
            worked = 0.0
            trim()  # ctypes lets go of the GIL for the call
            last_cpu = cpu_time()  # the trim's own CPU is not work
