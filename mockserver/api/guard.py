"""What every API route checks before its view runs: the bearer key, then the fault headers.

A bad fault header is a 400 listing the valid values; the requested latency is served here,
and a fault that answers without a reply at all (an error, a held request) ends the request
here, before its body is read.
"""

from __future__ import annotations

from harness.bearer import check_bearer
from mockserver.delivery import delay_first_byte
from mockserver.errors import MockError
from mockserver.exchange import Exchange
from mockserver.faults import end_before_reply, read_fault_headers

# The model a header fault's error names: the body, and so its model, is not read yet.
HEADER_FAULT_MODEL = "gpt-4"


def guard(exchange: Exchange) -> None:
    headers = exchange.request.headers
    problem = check_bearer(headers.get("Authorization", ""), exchange.state.config.api_key)
    if problem is not None:
        raise MockError(problem)
    faults = read_fault_headers(headers, exchange.state.chaos)
    exchange.faults = faults
    exchange.entry.fault = faults.name
    delay_first_byte(faults)
    if faults.fault is not None:
        end_before_reply(faults.fault, HEADER_FAULT_MODEL)
