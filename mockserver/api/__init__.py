"""Blueprint ``api``: the OpenAI-compatible routes, behind the bearer-key check.

Before any view: the bearer key, then the fault headers (a bad value is a 400 listing the
valid ones), the requested latency, and the faults that answer without a reply at all.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from mockserver.auth import check_bearer
from mockserver.delivery import delay_first_byte, held_reply
from mockserver.errors import MockError
from mockserver.faults import TIMEOUT, fault_error, read_fault_headers
from mockserver.intake import HeldRequest
from mockserver.journal import current_entry
from mockserver.state import current_state

api = Blueprint("api", __name__)


@api.before_request
def _guard() -> Response | None:
    problem = check_bearer(current_state().config.api_key)
    if problem is not None:
        raise MockError(problem)
    faults = read_fault_headers(request.headers)
    g.faults = faults
    entry = current_entry()
    if entry is not None:
        entry.fault = faults.fault
    delay_first_byte(faults)
    if faults.fault == TIMEOUT:
        return held_reply()
    error = fault_error(faults.fault) if faults.fault else None
    if error is not None:
        raise MockError(error)
    return None


@api.errorhandler(HeldRequest)
def _held(_: HeldRequest) -> Response:
    return held_reply()


# Views register themselves on `api` when imported.
from mockserver.api import chat, models, responses  # noqa: E402

__all__ = ["api", "chat", "models", "responses"]
