"""Work a process must finish before it exits, a server's worker process included.

``atexit`` handlers do not run in a ``multiprocessing`` child, which granian's workers are:
the child leaves through ``os._exit`` once multiprocessing's own exit hooks have run. So
the last access lines and journal entries of a worker stopped gracefully were lost (a
request answered just before ``SIGTERM``: its line never printed, 3 times in 3). Work is
registered with those hooks instead (``multiprocessing.util.Finalize``): they run at a
child's exit, and, registered with ``atexit`` by multiprocessing itself, at any other
normal exit (a gunicorn worker, the single process of a test), once either way.
"""

from __future__ import annotations

import multiprocessing.util
from collections.abc import Callable
from typing import Any

# Higher runs first: the journal's last entries before the log's last lines, so a warning
# the journal logs on its way out is printed too; a temporary state file is removed last.
JOURNAL = 20
LOG = 10
STATE = 0


def at_exit(work: Callable[..., Any], *args: Any, priority: int) -> multiprocessing.util.Finalize:
    """Run ``work(*args)`` when this process exits normally (see the module docstring).

    Returns the hook: calling it runs the work now, once, and unregisters it (what an app
    closed before the exit does, so neither the work runs twice nor its arguments stay
    referenced until the exit).
    """
    return multiprocessing.util.Finalize(None, work, args=args, exitpriority=priority)
