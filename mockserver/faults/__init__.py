"""Faults on demand: named ways to fail, chosen per request by header or by a stub.

``X-Mock-Fault: <name>`` picks one of :data:`FAULT_NAMES`; ``X-Mock-Latency-Ms`` delays the
first byte and ``X-Mock-Chunk-Delay-Ms`` paces stream frames. Errors come with the real
API's bodies and headers (a 429 carries ``Retry-After`` and the ``x-ratelimit-*`` family).

Each fault is one :class:`Fault` object (``base``: what the pipeline asks a fault), in a
module per family (``error_replies``, ``hold``, ``broken_wire``, ``stream_error``), listed
by name in ``registry``; ``headers`` reads a request's headers into a :class:`FaultPlan`.
"""

from __future__ import annotations

from mockserver.faults.base import (
    AFTER_FRAMES_HEADER,
    ERROR_CODE_HEADER,
    ERROR_TYPE_HEADER,
    FAULT_HEADER,
    FRAMES_BEFORE_FAULT,
    NO_FAULT,
    Fault,
    FaultPlan,
    HeldRequest,
    StreamError,
    Wrapped,
    end_before_reply,
    socket_closer,
)
from mockserver.faults.error_replies import RATE_LIMIT_HEADERS
from mockserver.faults.headers import (
    LATENCY_HEADER,
    MAX_AFTER_FRAMES,
    MAX_LATENCY_MS,
    MOCK_HEADERS,
    read_fault_headers,
)
from mockserver.faults.registry import FAULT_NAMES, FAULTS, fault_named
from mockserver.faults.stream_error import stub_stream_error

__all__ = [
    "AFTER_FRAMES_HEADER",
    "ERROR_CODE_HEADER",
    "ERROR_TYPE_HEADER",
    "FAULTS",
    "FAULT_HEADER",
    "FAULT_NAMES",
    "FRAMES_BEFORE_FAULT",
    "LATENCY_HEADER",
    "MAX_AFTER_FRAMES",
    "MAX_LATENCY_MS",
    "MOCK_HEADERS",
    "NO_FAULT",
    "RATE_LIMIT_HEADERS",
    "Fault",
    "FaultPlan",
    "HeldRequest",
    "StreamError",
    "Wrapped",
    "end_before_reply",
    "fault_named",
    "read_fault_headers",
    "socket_closer",
    "stub_stream_error",
]
