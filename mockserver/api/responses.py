"""``POST /v1/responses``, ``GET`` and ``DELETE /v1/responses/{id}``."""

from __future__ import annotations

from typing import Any

from flask import Response, request, stream_with_context

from harness.sse import dump_json
from mockserver.api import api
from mockserver.engine.responses import Message, plan_response
from mockserver.errors import ErrorReply, MockError
from mockserver.intake import check_request, read_json_body, resolve_operation
from mockserver.render.responses import response_body, response_events
from mockserver.render.stream import sse_response
from mockserver.state import current_state
from mockserver.store import ResponseStore


@api.post("/v1/responses")
def create_response() -> Response:
    state = current_state()
    body = read_json_body()
    operation = resolve_operation(state.specs, request.path, body)
    check_request(operation, body)
    store = ResponseStore(state.db)
    plan = plan_response(body, _history(store, body.get("previous_response_id")))
    final = response_body(plan)
    if plan.settings.store:
        # Stored before the first byte goes out, so a client that has read the last event
        # (or the body) can retrieve or continue the response at once, from any worker.
        store.save(plan.id, final, plan.conversation)
    if body.get("stream") is True:
        return sse_response(
            stream_with_context(response_events(plan)), done_marker=False, typed=True
        )
    return _json(final)


@api.get("/v1/responses/<response_id>")
def retrieve_response(response_id: str) -> Response:
    stored = ResponseStore(current_state().db).get(response_id)
    if stored is None:
        raise MockError(_not_found(response_id))
    return _json(stored.body)


@api.delete("/v1/responses/<response_id>")
def delete_response(response_id: str) -> Response:
    if not ResponseStore(current_state().db).delete(response_id):
        raise MockError(_not_found(response_id))
    return _json({"id": response_id, "object": "response", "deleted": True})


def _history(store: ResponseStore, previous_id: Any) -> list[Message]:
    """The stored conversation a request continues; a 404 naming the param if unknown."""
    if not isinstance(previous_id, str):
        return []
    stored = store.get(previous_id)
    if stored is None:
        raise MockError(
            ErrorReply(
                404,
                f"Previous response with id '{previous_id}' not found.",
                param="previous_response_id",
                code="previous_response_not_found",
            )
        )
    return list(stored.conversation)


def _not_found(response_id: str) -> ErrorReply:
    return ErrorReply(404, f"Response with id '{response_id}' not found.")


def _json(body: Any) -> Response:
    return Response(dump_json(body), mimetype="application/json")
