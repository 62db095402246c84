"""What every API route checks before its view runs: the bearer key, then the fault headers.

A bad fault header is a 400 listing the valid values; the requested latency is served here,
and the faults that answer without a reply at all (errors, ``timeout``) end the request here.
"""

from __future__ import annotations

from mockserver.auth import check_bearer
from mockserver.delivery import delay_first_byte
from mockserver.errors import MockError
from mockserver.exchange import Exchange
from mockserver.faults import TIMEOUT, fault_error, read_fault_headers
from mockserver.intake import HeldRequest


def guard(exchange: Exchange) -> None:
    headers = exchange.request.headers
    problem = check_bearer(headers.get("Authorization", ""), exchange.state.config.api_key)
    if problem is not None:
        raise MockError(problem)
    faults = read_fault_headers(headers)
    exchange.faults = faults
    exchange.entry.fault = faults.fault
    delay_first_byte(faults)
    if faults.fault == TIMEOUT:
        raise HeldRequest
    error = fault_error(faults.fault) if faults.fault else None
    if error is not None:
        raise MockError(error)
