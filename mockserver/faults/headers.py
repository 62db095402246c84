"""Read the ``X-Mock-*`` request headers into a :class:`FaultPlan`; a 400 for a bad value.

``X-Mock-Fault`` names a registered fault; ``X-Mock-Latency-Ms`` delays the first byte and
``X-Mock-Chunk-Delay-Ms`` paces stream frames; each fault's own tuning headers (its
``Fault.headers``) are refused with any other fault. Most requests carry none of these
headers, and finding that out is the only cost they pay here.

With server-wide chaos (``--chaos``, :mod:`mockserver.chaos`), a request that names no
fault gets the one chaos draws for it; a fault named in the header always wins.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from harness.mock_headers import (
    CHUNK_DELAY_HEADER,
    INVALID_HEADER_CODE,
    BadHeaderValue,
    chunk_delay_ms,
    whole_number_header,
)
from mockserver.errors import ErrorReply, MockError
from mockserver.faults.base import (
    AFTER_FRAMES_HEADER,
    ERROR_CODE_HEADER,
    ERROR_TYPE_HEADER,
    FAULT_HEADER,
    FRAMES_BEFORE_FAULT,
    NO_FAULT,
    FaultPlan,
)
from mockserver.faults.registry import FAULTS, faults_reading

if TYPE_CHECKING:
    from mockserver.chaos import Chaos

LATENCY_HEADER = "X-Mock-Latency-Ms"
MAX_LATENCY_MS = 60_000
# Far more frames than any stream the mock sends: a larger count fails at the stream's end.
MAX_AFTER_FRAMES = 100_000
# An error type or code as the API writes them (`server_error`, `rate_limit_exceeded`).
_ERROR_WORD = re.compile(r"[A-Za-z0-9_.:-]{1,64}")

# Every request header the mock reads, and its name in a WSGI environ.
MOCK_HEADERS = tuple(
    dict.fromkeys(
        (
            FAULT_HEADER,
            LATENCY_HEADER,
            CHUNK_DELAY_HEADER,
            *(header for fault in FAULTS.values() for header in fault.headers),
        )
    )
)
_ENVIRON_NAMES = tuple("HTTP_" + name.upper().replace("-", "_") for name in MOCK_HEADERS)


class HeaderSource(Protocol):
    def get(self, key: str) -> str | None: ...


def read_fault_headers(headers: HeaderSource, chaos: Chaos | None = None) -> FaultPlan:
    """The fault a request asks for, else the one ``chaos`` draws for it (if any); a 400
    listing the valid values for a bad header."""
    environ = getattr(headers, "environ", None)
    if isinstance(environ, dict):
        # Most requests carry none of these headers, and a lookup in the WSGI environ
        # answers that in a fraction of the time werkzeug's header lookups take.
        for name in _ENVIRON_NAMES:
            if name in environ:
                break
        else:
            return NO_FAULT if chaos is None else _with_chaos(NO_FAULT, chaos)
    try:
        plan = _read(headers)
    except BadHeaderValue as bad:
        raise MockError(invalid_header(bad)) from bad
    if chaos is None or plan.fault is not None:
        return plan
    return _with_chaos(plan, chaos)


def _with_chaos(plan: FaultPlan, chaos: Chaos) -> FaultPlan:
    fault = chaos.next_fault()
    return plan if fault is None else plan.with_fault(fault)


def invalid_header(bad: BadHeaderValue) -> ErrorReply:
    """The 400 for a mock header out of its range, naming the header."""
    return ErrorReply(400, bad.message, param=bad.name, code=INVALID_HEADER_CODE)


def _read(headers: HeaderSource) -> FaultPlan:
    name = headers.get(FAULT_HEADER)
    if name is not None:
        name = name.strip().lower()
        if name not in FAULTS:
            raise MockError(
                ErrorReply(
                    400,
                    f"Invalid {FAULT_HEADER} {name!r}; use one of: {', '.join(sorted(FAULTS))}.",
                    param=FAULT_HEADER,
                    code="invalid_mock_fault",
                )
            )
    plan = FaultPlan(
        fault=FAULTS[name] if name is not None else None,
        latency_ms=(
            whole_number_header(
                headers.get(LATENCY_HEADER), LATENCY_HEADER, MAX_LATENCY_MS, "milliseconds"
            )
            or 0
        ),
        chunk_delay_ms=chunk_delay_ms(headers.get(CHUNK_DELAY_HEADER)),
    )
    after = whole_number_header(
        headers.get(AFTER_FRAMES_HEADER), AFTER_FRAMES_HEADER, MAX_AFTER_FRAMES, "frames"
    )
    error_type = _error_word(headers, ERROR_TYPE_HEADER)
    error_code = _error_word(headers, ERROR_CODE_HEADER)
    if after is None and error_type is None and error_code is None:
        return plan
    sent = ERROR_TYPE_HEADER if error_type else ERROR_CODE_HEADER if error_code else None
    _check_applies(name, after is not None, sent)
    error = plan.stream_error
    return replace(
        plan,
        after_frames=FRAMES_BEFORE_FAULT if after is None else after,
        stream_error=replace(
            error, type=error_type or error.type, code=error_code or error_type or error.code
        ),
    )


def _check_applies(name: str | None, after: bool, error_header: str | None) -> None:
    # Without X-Mock-Fault a stub may still choose the fault; with another fault, these
    # headers would be silently ignored, which hides a mistake in the test that sent them.
    if name is None:
        return
    tuned_by = FAULTS[name].headers
    if after and AFTER_FRAMES_HEADER not in tuned_by:
        _refuse(AFTER_FRAMES_HEADER, faults_reading(AFTER_FRAMES_HEADER), name)
    if error_header is not None and error_header not in tuned_by:
        other = ERROR_CODE_HEADER if error_header == ERROR_TYPE_HEADER else ERROR_TYPE_HEADER
        _refuse(error_header, faults_reading(error_header), name, also=other)


def _refuse(header: str, kinds: list[str], fault: str, also: str | None = None) -> None:
    names = f"{header} and {also}" if also else header
    raise MockError(
        ErrorReply(
            400,
            f"{names} apply only with {FAULT_HEADER}: {', '.join(kinds)}, not {fault!r}.",
            param=header,
            code=INVALID_HEADER_CODE,
        )
    )


def _error_word(headers: HeaderSource, name: str) -> str | None:
    raw = headers.get(name)
    if raw is None:
        return None
    value = raw.strip()
    if not _ERROR_WORD.fullmatch(value):
        raise MockError(
            ErrorReply(
                400,
                f"Invalid {name} {raw!r}; use 1 to 64 letters, digits or _ . : - "
                "(e.g. server_error, rate_limit_exceeded).",
                param=name,
                code=INVALID_HEADER_CODE,
            )
        )
    return value
