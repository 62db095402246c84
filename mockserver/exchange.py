"""One API request in flight, handed explicitly to everything that answers it.

The API routes are served without Flask's request context (see ``mockserver.api.dispatch``),
so the request, the app's state, the faults asked for and the journal entry travel together
in one object instead of through context-local proxies.
"""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.wrappers import Request

from mockserver.faults import NO_FAULT, FaultPlan
from mockserver.journal import JournalEntry
from mockserver.state import MockState


@dataclass
class Exchange:
    request: Request
    state: MockState
    entry: JournalEntry
    faults: FaultPlan = NO_FAULT
