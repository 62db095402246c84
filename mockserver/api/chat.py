"""``POST /v1/chat/completions`` and ``POST /chat/completions`` (both are in the spec)."""

from __future__ import annotations

from werkzeug.wrappers import Response

from mockserver.delivery import json_reply, stream_reply
from mockserver.engine.chat import last_user_text, plan_chat
from mockserver.exchange import Exchange
from mockserver.intake import accept_request
from mockserver.render.chat import completion_body, completion_chunks


def create_chat_completion(exchange: Exchange) -> Response:
    accepted = accept_request(exchange, last_user_text)
    body = accepted.body
    plan = plan_chat(body, accepted.reply_override)
    exchange.faults = accepted.faults
    if body.get("stream") is True:
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        chunks = completion_chunks(plan, include_usage=include_usage)
        return stream_reply(exchange, chunks, done_marker=True, typed=False)
    return json_reply(exchange, completion_body(plan))
