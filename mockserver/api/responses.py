"""``POST /v1/responses``, ``GET`` and ``DELETE /v1/responses/{id}``."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from mockserver.delivery import json_reply, stream_reply
from mockserver.engine.responses import Message, last_user_input_text, plan_response
from mockserver.errors import ErrorReply, MockError
from mockserver.exchange import Exchange
from mockserver.intake import accept_request
from mockserver.render.responses import response_body, response_events
from mockserver.store import ResponseStore


def create_response(exchange: Exchange) -> Response:
    accepted = accept_request(exchange, last_user_input_text)
    exchange.faults = accepted.faults
    body = accepted.body
    store = ResponseStore(exchange.state.db)
    history = _history(store, body.get("previous_response_id"))
    plan = plan_response(body, history, accepted.reply_override)
    final = response_body(plan)
    if plan.settings.store:
        # Stored before the first byte goes out, so a client that has read the last event
        # (or the body) can retrieve or continue the response at once, from any worker.
        store.save(plan.id, final, plan.conversation)
    if body.get("stream") is True:
        return stream_reply(exchange, response_events(plan), done_marker=False, typed=True)
    return json_reply(exchange, final)


def retrieve_response(exchange: Exchange, response_id: str) -> Response:
    stored = ResponseStore(exchange.state.db).get(response_id)
    if stored is None:
        raise MockError(_not_found(response_id))
    return json_reply(exchange, stored.body)


def delete_response(exchange: Exchange, response_id: str) -> Response:
    if not ResponseStore(exchange.state.db).delete(response_id):
        raise MockError(_not_found(response_id))
    return json_reply(exchange, {"id": response_id, "object": "response", "deleted": True})


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
