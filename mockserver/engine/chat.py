"""Plan a chat completion from a validated ``POST /v1/chat/completions`` body."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from mockserver.engine.field_markers import prompted_fields
from mockserver.engine.generation_limits import GenerationBudget
from mockserver.engine.ids import chat_completion_id
from mockserver.engine.memo import Memo, fresh, reply_weight, request_key
from mockserver.engine.plan import ChatPlan, Reply
from mockserver.engine.prompted_schema import prompted_schema
from mockserver.engine.react_turns import observed_turn
from mockserver.engine.reply import (
    TOOL_CHOICE_AUTO,
    TOOL_CHOICE_FUNCTION,
    TOOL_CHOICE_NONE,
    ReplyRequest,
    plan_reply,
    seeded_rng,
)
from mockserver.engine.text import join_results
from mockserver.engine.text_react import react_turn
from mockserver.engine.tokens import count_message_tokens
from mockserver.engine.tool_facts import ToolFacts, tool_facts

# The snapshot the API names in its answers (the API docs' example answers gpt-4 with it).
MODEL_SNAPSHOTS = {"gpt-4": "gpt-4-0613"}
# The real API caps n at 128; the spec sets no maximum, so a larger n is served as 128
# rather than refused (the mock never refuses a request the spec accepts).
MAX_CHOICES = 128
MAX_TOP_LOGPROBS = 20
# Fields that shape how the answer is delivered or cut, not what it says: the same
# conversation with or without them gives the same text (so a stream reassembles to the
# plain reply, and a token limit truncates that same text).
_DELIVERY_FIELDS = frozenset(
    {
        "stream",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "n",
        "logprobs",
        "top_logprobs",
        "user",
        "metadata",
        "store",
        "service_tier",
        "provider",
    }
)


def content_key(
    body: Mapping[str, Any],
    delivery_fields: frozenset[str] = _DELIVERY_FIELDS,
    tools_json: str | None = None,
) -> bytes:
    """Canonical bytes of what decides the content: the body without its delivery fields.

    ``tools_json``: the body's ``tools`` as this writes them, when known (ToolFacts).
    """
    # A top-level null or {} means "the default", as the live API reads it: the same answer
    # as a body without the field (specs/README.md §3, C16 and R8).
    relevant = {
        key: value
        for key, value in body.items()
        if key not in delivery_fields and value is not None and value != {}
    }
    if tools_json is None or "tools" not in relevant:
        return _canonical_json(relevant).encode()
    # What one call writes, byte for byte, written a key at a time so that the tools' part
    # is the one written already (tool_facts): with 32 tools it was 60 µs of the call.
    parts = (
        f"{_canonical_json(key)}: {tools_json if key == 'tools' else _canonical_json(value)}"
        for key, value in sorted(relevant.items())
    )
    return ("{" + ", ".join(parts) + "}").encode()


# ensure_ascii keeps lone surrogates (which fuzzers send) encodable. One encoder for every
# call: json.dumps given any option builds a new one each time, a third of a small body's
# cost. The text is what json.dumps(..., sort_keys=True, ensure_ascii=True, default=str)
# writes: it seeds the replies, which must not change.
_canonical_json = json.JSONEncoder(sort_keys=True, ensure_ascii=True, default=str).encode


# Planned choices by request (see engine.memo); one per process.
_CHOICES: Memo[tuple[Reply, ...]] = Memo(reply_weight)


def snapshot_name(model: str) -> str:
    return MODEL_SNAPSHOTS.get(model, model)


def plan_chat(
    body: Mapping[str, Any],
    reply_override: Mapping[str, Any] | None = None,
    context_window: int | None = None,
) -> ChatPlan:
    """Plan every choice of a chat completion. ``reply_override`` comes from a stub.

    ``context_window``: a reply with no token limit of its own stops where the window ends
    (``finish_reason: "length"``), as the live model's does.
    """
    messages = body.get("messages") or []

    tools = tool_facts(body.get("tools"))
    prompt_tokens = count_message_tokens(messages) + tools.prompt_tokens
    room = room_left(context_window, prompt_tokens)

    def plan_choices() -> tuple[Reply, ...]:
        request = reply_request_from_chat(body, reply_override, tools, room)
        key = content_key(body, tools_json=tools.canonical_json)
        budget = GenerationBudget()  # one for all n choices: n multiplies the work
        return tuple(
            plan_reply(request, seeded_rng(key, index), budget)
            for index in range(_choice_count(body))
        )

    planned = _CHOICES.get(request_key(body, reply_override or {}, room or 0), plan_choices)
    choices = tuple(fresh(choice) for choice in planned)
    return ChatPlan(
        id=chat_completion_id(),
        created=int(time.time()),
        model=snapshot_name(str(body.get("model", ""))),
        choices=choices,
        prompt_tokens=prompt_tokens,
    )


def room_left(context_window: int | None, prompt_tokens: int) -> int | None:
    """The tokens a reply may take before the window ends; ``None``: no window given."""
    return None if context_window is None else max(context_window - prompt_tokens, 1)


def reply_request_from_chat(
    body: Mapping[str, Any],
    reply_override: Mapping[str, Any] | None = None,
    facts: ToolFacts | None = None,
    room: int | None = None,
) -> ReplyRequest:
    """``facts``: those of the body's ``tools``, when looked up already. ``room``: the
    window's room (:func:`room_left`), the token limit of a request that sets none: a
    schema's instance or a scripted text can be far longer than the window (a 2 MB JSON
    instance was answered whole, with a logprob entry per token)."""
    messages = [m for m in body.get("messages") or [] if isinstance(m, Mapping)]
    tools = (facts or tool_facts(body.get("tools"))).functions
    mode, forced = _tool_choice(body.get("tool_choice"), bool(tools))
    schema, json_object = _response_format(body.get("response_format"))
    override = reply_override or {}
    observed = observed_turn(messages, [tool.name for tool in tools], message_text)
    return ReplyRequest(
        user_text=_last_text(messages, "user") if observed is None else observed.request,
        tool_result=_tool_results(messages) if observed is None else observed.result,
        called=_called_since_user(messages) if observed is None else observed.called,
        tools=tools,
        tool_choice=mode,
        forced_function=forced,
        parallel_tool_calls=body.get("parallel_tool_calls") is not False,
        output_schema=schema,
        json_object=json_object,
        prompted_schema=prompted_schema(messages, message_text) if schema is None else None,
        prompted_fields=prompted_fields(messages, message_text) if schema is None else None,
        text_react=react_turn(messages, message_text) if schema is None else None,
        limit=token_limit(body.get("max_completion_tokens"), body.get("max_tokens"), room),
        stop=_stop_sequences(body.get("stop")),
        top_logprobs=_top_logprobs(body),
        fixed_text=override.get("text"),
        fixed_tool_calls=scripted_calls(override),
    )


def _tool_results(messages: Sequence[Mapping[str, Any]]) -> str | None:
    """The results the conversation ends with (every one of parallel calls), or ``None``
    when it does not end with a tool message."""
    results: list[str] = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        results.append(message_text(message.get("content")))
    if not results:
        return None
    return _answer_handed_back(messages) or join_results(list(reversed(results)))


def _answer_handed_back(messages: Sequence[Mapping[str, Any]]) -> str | None:
    """An agent's answer the last results only hand back, else ``None``.

    A multi-agent supervisor (langgraph-supervisor, a handoff) sees its expert answer in
    words after a result, then hand back with a call whose result is an acknowledgement
    ("Successfully transferred back to supervisor"): the answer passed on is the expert's.
    Only an assistant text without calls that follows a result since the user's message
    counts: words before the first call ("Let me check.") are no answer.
    """
    seen_result = False
    answer: str | None = None
    for message in messages[_last_user_index(messages) + 1 :]:
        role = message.get("role")
        if role == "tool":
            seen_result = True
        elif role == "assistant" and seen_result and not message.get("tool_calls"):
            text = message_text(message.get("content"))
            # A Responses function_call reaches here as an assistant message named for its
            # function, its arguments (a JSON object) as content: a call, not an answer.
            if isinstance(message.get("name"), str) and text.lstrip().startswith("{"):
                continue
            answer = text or answer
    return answer


def _last_user_index(messages: Sequence[Mapping[str, Any]]) -> int:
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].get("role") == "user":
            return index
    return -1


def _called_since_user(messages: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The functions the assistant called after the last user message, in order.

    A chat message lists its calls in ``tool_calls``; a Responses ``function_call`` item
    reaches here as an assistant message ``name``d for its function
    (:func:`mockserver.engine.responses.output_messages`).
    """
    names: list[str] = []
    for message in messages[_last_user_index(messages) + 1 :]:
        if message.get("role") != "assistant":
            continue
        calls = message.get("tool_calls")
        if isinstance(calls, list):
            for call in calls:
                function = call.get("function") if isinstance(call, Mapping) else None
                name = function.get("name") if isinstance(function, Mapping) else None
                if isinstance(name, str):
                    names.append(name)
        elif isinstance(message.get("name"), str):
            names.append(message["name"])
    return tuple(names)


def scripted_calls(override: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """A stub's ``tool_call`` or ``tool_calls`` as (function name, arguments) pairs."""
    calls = override.get("tool_calls")
    if not isinstance(calls, list | tuple):
        single = override.get("tool_call")
        calls = [single] if single is not None else []
    return tuple(
        (str(call["name"]), call.get("arguments", {}))
        for call in calls
        if isinstance(call, Mapping)
    )


def last_user_text(body: Mapping[str, Any]) -> str:
    """The text of the last user message (what a stub's ``last_user_message`` searches)."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return ""
    return _last_text([m for m in messages if isinstance(m, Mapping)], "user")


def message_text(content: Any) -> str:
    """The text of a message's content: a string, or the text of its parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return ""


def token_limit(*candidates: Any) -> int | None:
    """The first usable token limit; the spec types some as `number`, so 7.5 means 7."""
    for value in candidates:
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 1:
            return int(value)
    return None


def _choice_count(body: Mapping[str, Any]) -> int:
    n = body.get("n")
    if isinstance(n, int) and not isinstance(n, bool) and n >= 1:
        return min(n, MAX_CHOICES)
    return 1


def _last_text(messages: Sequence[Mapping[str, Any]], role: str) -> str:
    for message in reversed(messages):
        if message.get("role") == role:
            return message_text(message.get("content"))
    return ""


def _tool_choice(choice: Any, has_tools: bool) -> tuple[str, str | None]:
    if not has_tools:
        return TOOL_CHOICE_NONE, None
    if isinstance(choice, str):
        return choice, None
    if isinstance(choice, Mapping):
        function = choice.get("function")
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            return TOOL_CHOICE_FUNCTION, function["name"]
    return TOOL_CHOICE_AUTO, None


def _response_format(value: Any) -> tuple[Mapping[str, Any] | None, bool]:
    """``response_format`` is not in the published spec, but SDK users send it (open body)."""
    if not isinstance(value, Mapping):
        return None, False
    if value.get("type") == "json_schema":
        spec = value.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, Mapping) else None
        return (schema if isinstance(schema, Mapping) else {"type": "object"}), False
    return None, value.get("type") == "json_object"


def _stop_sequences(stop: Any) -> tuple[str, ...]:
    if isinstance(stop, str):
        return (stop,)
    if isinstance(stop, list):
        return tuple(item for item in stop if isinstance(item, str) and item)
    return ()


def _top_logprobs(body: Mapping[str, Any]) -> int | None:
    if body.get("logprobs") is not True:
        return None
    top = body.get("top_logprobs")
    if isinstance(top, int | float) and not isinstance(top, bool):
        return max(0, min(int(top), MAX_TOP_LOGPROBS))
    return 0
