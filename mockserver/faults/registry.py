"""Every fault by name: the one list a new fault is added to.

``X-Mock-Fault`` and a stub's ``{"fault": ...}`` accept exactly these names; the stub
schema's enum, the 400 that lists the valid values and the header checks are built from it.
"""

from __future__ import annotations

from mockserver.faults.base import Fault
from mockserver.faults.broken_wire import Disconnect, Malformed
from mockserver.faults.error_replies import Overloaded, RateLimit, ServerError
from mockserver.faults.hold import Timeout
from mockserver.faults.stream_error import STREAM_ERROR

FAULTS: dict[str, Fault] = {
    fault.name: fault
    for fault in (
        RateLimit(),
        ServerError(),
        Overloaded(),
        Timeout(),
        Disconnect(),
        Malformed(),
        STREAM_ERROR,
    )
}
# The names as the stub schema's enum lists them (fixed when the mock starts).
FAULT_NAMES = frozenset(FAULTS)


def fault_named(name: str) -> Fault:
    """The registered fault called ``name`` (a KeyError for any other)."""
    return FAULTS[name]


def faults_reading(header: str) -> list[str]:
    """The names of the faults a tuning header applies to, sorted."""
    return sorted(name for name, fault in FAULTS.items() if header in fault.headers)
