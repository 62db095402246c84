"""``GET /v1/models`` and ``GET /v1/models/{id}``: the models the loaded specs serve."""

from __future__ import annotations

from typing import Any

from flask import Response

from harness.sse import dump_json
from mockserver.api import api
from mockserver.errors import ErrorReply, MockError
from mockserver.state import current_state

# A fixed creation time keeps the listing deterministic (gpt-4's public release date).
_CREATED = 1687882411


def _model_object(model: str) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": _CREATED, "owned_by": "openai"}


@api.get("/v1/models")
def list_models() -> Response:
    data = [_model_object(model) for model in current_state().specs.models]
    return Response(dump_json({"object": "list", "data": data}), mimetype="application/json")


@api.get("/v1/models/<path:model>")
def retrieve_model(model: str) -> Response:
    if model not in current_state().specs.models:
        raise MockError(
            ErrorReply(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                param="model",
                code="model_not_found",
            )
        )
    return Response(dump_json(_model_object(model)), mimetype="application/json")
