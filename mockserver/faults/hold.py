"""The fault answered with nothing at all, so the client's own timeout trips."""

from __future__ import annotations

from typing import ClassVar

from mockserver.faults.base import Fault

# How long `timeout` holds a request before dropping it unanswered: long past any client
# timeout worth testing, short enough that a held worker thread always comes back.
TIMEOUT_HOLD_S = 30.0


class Timeout(Fault):
    name: ClassVar[str] = "timeout"
    summary: ClassVar[str] = (
        "no answer: the request is held (30 s at most, then the connection is dropped; "
        "under granian a 504 status line goes out first, no body) so the client's own "
        "timeout trips"
    )
    hold_s: ClassVar[float | None] = TIMEOUT_HOLD_S
