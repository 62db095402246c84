"""``POST /v1/chat/completions`` and ``POST /chat/completions`` (both are in the spec)."""

from __future__ import annotations

from flask import Response, request, stream_with_context

from harness.sse import dump_json
from mockserver.api import api
from mockserver.engine.chat import plan_chat
from mockserver.intake import check_request, read_json_body, resolve_operation
from mockserver.render.chat import completion_body, completion_chunks
from mockserver.render.stream import sse_response
from mockserver.state import current_state


@api.post("/v1/chat/completions")
@api.post("/chat/completions")
def create_chat_completion() -> Response:
    body = read_json_body()
    operation = resolve_operation(current_state().specs, request.path, body)
    check_request(operation, body)
    plan = plan_chat(body)
    if body.get("stream") is True:
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        frames = completion_chunks(plan, include_usage=include_usage)
        return sse_response(stream_with_context(frames), done_marker=True)
    return Response(dump_json(completion_body(plan)), mimetype="application/json")
