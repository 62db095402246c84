"""Blueprint ``api``: the OpenAI-compatible routes, behind the bearer-key check."""

from __future__ import annotations

from flask import Blueprint

from mockserver.auth import check_bearer
from mockserver.errors import MockError
from mockserver.state import current_state

api = Blueprint("api", __name__)


@api.before_request
def _require_bearer() -> None:
    problem = check_bearer(current_state().config.api_key)
    if problem is not None:
        raise MockError(problem)


# Views register themselves on `api` when imported.
from mockserver.api import chat, models, responses  # noqa: E402

__all__ = ["api", "chat", "models", "responses"]
