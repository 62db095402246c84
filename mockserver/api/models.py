"""``GET /v1/models`` and ``GET /v1/models/{id}``: the models the loaded specs serve.

The model aliases of the configuration (``harness serve --model``) follow the specs' own.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from mockserver.delivery import json_reply
from mockserver.errors import ErrorReply, MockError
from mockserver.exchange import Exchange

# A fixed creation time keeps the listing deterministic (gpt-4's public release date).
_CREATED = 1687882411


def _model_object(model: str) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": _CREATED, "owned_by": "openai"}


def served_models(exchange: Exchange) -> list[str]:
    state = exchange.state
    return list(dict.fromkeys([*state.specs.models, *state.config.model_aliases]))


def list_models(exchange: Exchange) -> Response:
    data = [_model_object(model) for model in served_models(exchange)]
    return json_reply(exchange, {"object": "list", "data": data})


def retrieve_model(exchange: Exchange, model: str) -> Response:
    if model not in served_models(exchange):
        raise MockError(
            ErrorReply(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                param="model",
                code="model_not_found",
            )
        )
    return json_reply(exchange, _model_object(model))
