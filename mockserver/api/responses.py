"""``POST /v1/responses``, ``GET`` and ``DELETE /v1/responses/{id}``."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from mockserver.api.item_references import with_references_read
from mockserver.delivery import json_reply, stream_reply
from mockserver.engine.responses import Message, plan_response
from mockserver.errors import ErrorReply, MockError
from mockserver.exchange import Exchange
from mockserver.intake import accept_request
from mockserver.live_limits import check_responses_window
from mockserver.render.obfuscation import wants_obfuscation
from mockserver.render.responses import (
    failed_response,
    failed_response_events,
    response_body,
    response_events,
)
from mockserver.render.stream import sse_frames
from mockserver.storage import ResponseStorage
from mockserver.stub_facts import responses_facts
from mockserver.stub_replies import adjusted_response_plan


def create_response(exchange: Exchange) -> Response:
    accepted = accept_request(exchange, responses_facts(exchange.state.db.responses))
    faults = exchange.faults = accepted.faults
    body = accepted.body
    streamed = body.get("stream") is True
    if not streamed:
        refused = faults.error_without_stream()
        if refused is not None:
            raise MockError(refused)  # before anything is stored
    store = exchange.state.db.responses
    # Read as the items they name: the plan, the key it is remembered by and the token
    # counts see the conversation itself (the journal keeps the body as sent).
    read = with_references_read(body, store)
    history = _history(store, body.get("previous_response_id"))
    window = exchange.state.config.context_window
    # The body alone was checked on intake; the conversation counts as a whole, the stored
    # items its references stand for included (300 references to one long reply were a
    # 27 KB body for 6 million input tokens, stored expanded).
    if history or read is not body:
        check_responses_window(read, history, window)
    body = read
    plan = adjusted_response_plan(
        plan_response(body, history, accepted.reply_override, context_window=window),
        accepted.adjustments,
    )
    obfuscate = wants_obfuscation(body)
    failure = faults.stream_failure()
    if failure is not None:
        error = failure.details()
        final = failed_response(plan, error)
        # What was said before the failure never reached the client: a continuation
        # carries on from the input alone.
        conversation = plan.conversation[: len(plan.conversation) - len(plan.output)]
        events = failed_response_events(plan, error, faults.after_frames, obfuscate=obfuscate)
    else:
        final = response_body(plan)
        conversation = plan.conversation
        events = response_events(plan, obfuscate=obfuscate)
    if plan.settings.store:
        # Stored before the first byte goes out, so a client that has read the last event
        # (or the body) can retrieve or continue the response at once, from any worker.
        store.save(plan.id, final, conversation)
    if streamed:
        return stream_reply(exchange, sse_frames(events, done_marker=False, typed=True))
    return json_reply(exchange, final)


def retrieve_response(exchange: Exchange, response_id: str) -> Response:
    stored = exchange.state.db.responses.get(response_id)
    if stored is None:
        raise MockError(_not_found(response_id))
    if exchange.request.args.get("stream", "").lower() in ("true", "1"):
        # The SDK reads the answer as events: a JSON body would leave its iterator silently
        # empty. The live API streams a retrieve for background responses only, and the mock
        # answers every request at once (`background: false`).
        raise MockError(_NOT_STREAMABLE)
    return json_reply(exchange, stored.body)


def delete_response(exchange: Exchange, response_id: str) -> Response:
    if not exchange.state.db.responses.delete(response_id):
        raise MockError(_not_found(response_id))
    return json_reply(exchange, {"id": response_id, "object": "response", "deleted": True})


def _history(store: ResponseStorage, previous_id: Any) -> list[Message]:
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


_NOT_STREAMABLE = ErrorReply(
    400,
    "Only responses created with `background: true` can be streamed when retrieved; this "
    "response was answered at once (the mock does not emulate background mode).",
    param="stream",
)


def _not_found(response_id: str) -> ErrorReply:
    return ErrorReply(404, f"Response with id '{response_id}' not found.")
