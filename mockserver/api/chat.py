"""``POST /v1/chat/completions`` and ``POST /chat/completions`` (both are in the spec)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from werkzeug.wrappers import Response

from mockserver.delivery import json_reply, stream_reply
from mockserver.engine.chat import plan_chat
from mockserver.exchange import Exchange
from mockserver.intake import accept_request
from mockserver.render.chat import completion_body, completion_chunks, failed_chunks
from mockserver.render.obfuscation import wants_obfuscation
from mockserver.render.stream import padded_chunk_frames, sse_frames
from mockserver.stub_facts import chat_facts
from mockserver.stub_replies import adjusted_chat_plan


def create_chat_completion(exchange: Exchange) -> Response:
    accepted = accept_request(exchange, chat_facts)
    body = accepted.body
    window = exchange.state.config.context_window
    plan = adjusted_chat_plan(
        plan_chat(body, accepted.reply_override, context_window=window), accepted.adjustments
    )
    faults = exchange.faults = accepted.faults
    if body.get("stream") is True:
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        chunks: Iterable[Mapping[str, Any]] = completion_chunks(plan, include_usage=include_usage)
        failure = faults.stream_failure()
        failing = failure is not None
        if failure is not None:
            chunks = failed_chunks(chunks, failure.reply().body(), faults.after_frames)
        if wants_obfuscation(body):
            frames = padded_chunk_frames(chunks, done_marker=not failing)
        else:
            frames = sse_frames(chunks, done_marker=not failing)
        return stream_reply(exchange, frames)
    return json_reply(exchange, completion_body(plan))
