"""Limits the live API puts on a spec-valid request, answered with the live API's own errors.

Each is a request the live API refuses, so refusing it is fidelity, not a restriction of
the mock's own; each also bounds what one request can make the mock do (without them, tens
of thousands of tools or a prompt of megabytes took seconds and hundreds of megabytes to
answer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mockserver.engine.context import prompt_size
from mockserver.engine.responses import input_messages
from mockserver.errors import ErrorReply, MockError
from mockserver.strict_schemas import check_strict_schemas

# The live API's cap on `tools` (the chat spec's own description says "A max of 128").
MAX_TOOLS = 128


def check_live_limits(
    path: str, body: Mapping[str, Any], body_bytes: int, context_window: int
) -> None:
    """Raise the live API's 400 when ``body`` (valid against the spec) is over one of them."""
    tools = body.get("tools")
    tools = tools if isinstance(tools, list) else []
    if len(tools) > MAX_TOOLS:
        raise MockError(
            ErrorReply(
                400,
                f"Invalid 'tools': array too long. Expected an array with maximum length "
                f"{MAX_TOOLS}, but got an array with length {len(tools)} instead.",
                param="tools",
                code="array_above_max_length",
            )
        )
    # A `strict: true` schema outside Structured Outputs' subset (mockserver.strict_schemas).
    check_strict_schemas(path, body)
    if path.endswith("/responses"):
        check_responses_window(body, (), context_window, body_bytes)
        return
    messages = body.get("messages") or []
    size = prompt_size(messages, tools, context_window, body_bytes)
    if size.tokens <= context_window:
        return
    counted = f"{size.tokens}" if size.exact else f"at least {size.tokens}"
    raise MockError(
        ErrorReply(
            400,
            f"This model's maximum context length is {context_window} tokens. However, your "
            f"messages resulted in {counted} tokens. Please reduce the length of the messages.",
            param="messages",
            code="context_length_exceeded",
        )
    )


def check_responses_window(
    body: Mapping[str, Any],
    history: Sequence[Any],
    context_window: int,
    body_bytes: int | None = None,
) -> None:
    """The live API's 400 when a Responses prompt is past the window: the instructions, the
    stored conversation ``history`` it continues (``previous_response_id``), and its input.

    With ``truncation: "auto"`` the live API drops input items to fit instead (see
    :func:`~mockserver.engine.context.fitted_prompt_tokens`), so only what it keeps must fit:
    the instructions and the newest item. ``body_bytes``: the body's size, when only the
    body is counted.
    """
    instructions = body.get("instructions")
    prompt = [{"role": "developer", "content": instructions}] if instructions else []
    conversation = [*history, *input_messages(body.get("input"))]
    if body.get("truncation") == "auto":
        conversation = conversation[-1:]
    messages = [*prompt, *conversation]
    listed = body.get("tools")
    # Responses tools are flat ({type, name, parameters}); the count reads chat's shape.
    tools = [
        {"function": tool}
        for tool in (listed if isinstance(listed, list) else [])
        if isinstance(tool, Mapping)
    ]
    # A stored conversation has no body size to bound it: it is counted, up to the window.
    size = prompt_size(messages, tools, context_window, body_bytes or context_window + 1)
    if size.tokens <= context_window:
        return
    raise MockError(
        ErrorReply(
            400,
            "Your input exceeds the context window of this model. "
            "Please adjust your input and try again.",
            param="input",
            code="context_length_exceeded",
        )
    )
