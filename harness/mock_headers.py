"""The ``X-Mock-*`` request headers the mock and the replay server both honour.

One parse of a header's whole-number value (``X-Mock-Chunk-Delay-Ms``, ``X-Mock-Latency-Ms``,
``X-Mock-Fault-After-Frames``) and one pacing of frames, so ``harness serve --replay`` paces
a recorded stream, and refuses a bad value, exactly as the mock does its own. Plain Python
with no server in it: the harness reads the headers without importing the mock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

CHUNK_DELAY_HEADER = "X-Mock-Chunk-Delay-Ms"
MAX_CHUNK_DELAY_MS = 10_000
# The error code of the 400 that refuses a bad X-Mock-* header.
INVALID_HEADER_CODE = "invalid_mock_header"


class BadHeaderValue(ValueError):
    """A header whose value is out of its range; the message lists the valid ones."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def whole_number_header(raw: str | None, name: str, maximum: int, unit: str) -> int | None:
    """``raw`` as a whole number from 0 to ``maximum``; None when the header is absent.

    Read as Python reads an integer (surrounding spaces allowed), which is what the mock
    has always accepted.
    """
    if raw is None:
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        value = -1
    if not 0 <= value <= maximum:
        raise BadHeaderValue(
            name, f"Invalid {name} {raw!r}; use a whole number of {unit} from 0 to {maximum}."
        )
    return value


def chunk_delay_ms(raw: str | None) -> int:
    """The pause between frames ``X-Mock-Chunk-Delay-Ms`` asks for (0 when absent)."""
    return whole_number_header(raw, CHUNK_DELAY_HEADER, MAX_CHUNK_DELAY_MS, "milliseconds") or 0


def paced(
    chunks: Iterable[bytes], delay_s: float, sleep: Callable[[float], None] = time.sleep
) -> Iterator[bytes]:
    """``chunks`` with ``delay_s`` between one and the next (none before the first), waited
    by ``sleep`` (the mock's own pause, which an event loop may await)."""
    for position, chunk in enumerate(chunks):
        if position and delay_s:
            sleep(delay_s)
        yield chunk
