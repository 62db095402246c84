"""``POST /v1/chat/completions`` and ``POST /chat/completions`` (both are in the spec)."""

from __future__ import annotations

from flask import Response

from mockserver.api import api
from mockserver.delivery import json_reply, stream_reply
from mockserver.engine.chat import last_user_text, plan_chat
from mockserver.intake import accept_request
from mockserver.render.chat import completion_body, completion_chunks


@api.post("/v1/chat/completions")
@api.post("/chat/completions")
def create_chat_completion() -> Response:
    accepted = accept_request(last_user_text)
    body = accepted.body
    plan = plan_chat(body, accepted.reply_override)
    if body.get("stream") is True:
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        chunks = completion_chunks(plan, include_usage=include_usage)
        return stream_reply(chunks, accepted.faults, done_marker=True, typed=False)
    return json_reply(completion_body(plan), accepted.faults)
