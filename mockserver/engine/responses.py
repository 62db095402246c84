"""Plan a Response from a validated ``POST /v1/responses`` body.

A Responses request is a chat request in other words: input items are messages, flat
function tools are chat's nested ones, ``text.format`` is ``response_format`` and
``max_output_tokens`` is ``max_completion_tokens``. This module translates the body (and the
stored turns ``previous_response_id`` continues) into those words once, then reuses the chat
planner's request builder, the reply planner and the token counter, so both APIs answer the
same conversation alike. The plan is complete (ids, output items, status, usage, the
settings a Response echoes); rendering to JSON or to stream events only formats it.

Input items the mock's model cannot read (the hosted ``mcp_*`` items, ``input_file`` parts)
are accepted and ignored; ``item_reference`` items reach here already read as the stored
items they name (:mod:`mockserver.api.item_references`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeGuard

from mockserver.engine.chat import (
    content_key,
    message_text,
    reply_request_from_chat,
    room_left,
    snapshot_name,
)
from mockserver.engine.context import fitted_prompt_tokens
from mockserver.engine.ids import new_hex_id
from mockserver.engine.memo import Memo, fresh, reply_weight, request_key
from mockserver.engine.plan import FINISH_LENGTH, Reply, TokenLogprob, ToolCall
from mockserver.engine.reply import FunctionTool, ReplyRequest, plan_reply, seeded_rng
from mockserver.engine.tokens import (
    Piece,
    count_message_tokens,
    pieces_of,
)
from mockserver.engine.tool_facts import tool_facts

STATUS_COMPLETED = "completed"
STATUS_INCOMPLETE = "incomplete"
INCOMPLETE_MAX_OUTPUT_TOKENS = "max_output_tokens"
# Defaults the real API echoes when the request leaves a setting out.
DEFAULT_TEMPERATURE = 1.0
DEFAULT_TOP_P = 1.0
DEFAULT_TRUNCATION = "disabled"
DEFAULT_TOOL_CHOICE = "auto"
DEFAULT_TEXT: Mapping[str, Any] = {"format": {"type": "text"}}
DEFAULT_FUNCTION_STRICT = True
# The include value that asks for each output_text token's logprob (overlay R11).
INCLUDE_LOGPROBS = "message.output_text.logprobs"
# Fields that shape how the answer is delivered, kept or cut, not what it says (see
# engine.chat): a stream reassembles to the plain reply, a token limit cuts that same text.
# `previous_response_id` is here because the key holds the conversation it stands for.
_DELIVERY_FIELDS = frozenset(
    {
        "stream",
        "stream_options",
        "max_output_tokens",
        "store",
        "metadata",
        "user",
        "service_tier",
        "background",
        "include",
        "top_logprobs",
        "truncation",
        "previous_response_id",
    }
)
# Hex ids as long as the real ones (resp_/msg_/fc_ + 48 hex digits). As on the live wire,
# an output item's id ends with the same 16 digits as its response's (see _item_id).
_ID_BYTES = 24
_SHARED_DIGITS = 16
RESPONSE_PREFIX = "resp_"
_ITEM_PREFIXES = frozenset({"msg_", "fc_"})
# Planned replies by request (see engine.memo); one per process.
_REPLIES: Memo[Reply] = Memo(lambda reply: reply_weight((reply,)))

Message = Mapping[str, Any]


@dataclass(frozen=True)
class MessageOutput:
    """An assistant ``message`` output item with one ``output_text`` part."""

    id: str
    status: str
    text: str
    # One per token, when the request included message.output_text.logprobs.
    logprobs: tuple[TokenLogprob, ...] | None = None

    @cached_property
    def pieces(self) -> tuple[Piece, ...]:
        """The text as stream deltas (split only when a stream needs them)."""
        return pieces_of(self.text)


@dataclass(frozen=True)
class FunctionCallOutput:
    """A ``function_call`` output item (``call.item_id`` is its ``fc_`` id)."""

    call: ToolCall
    status: str

    @property
    def id(self) -> str:
        return self.call.item_id


OutputItem = MessageOutput | FunctionCallOutput


@dataclass(frozen=True)
class EchoedSettings:
    """The request settings a Response object repeats, with the API's defaults filled in."""

    instructions: str | None = None
    max_output_tokens: int | None = None
    parallel_tool_calls: bool = True
    previous_response_id: str | None = None
    store: bool = False
    temperature: float = DEFAULT_TEMPERATURE
    text: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_TEXT))
    tool_choice: Any = DEFAULT_TOOL_CHOICE
    tools: tuple[Mapping[str, Any], ...] = ()
    top_p: float = DEFAULT_TOP_P
    truncation: str = DEFAULT_TRUNCATION
    user: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ResponsesPlan:
    """Everything one Response says; both renderers read only this."""

    id: str
    created_at: int
    model: str
    output: tuple[OutputItem, ...]
    input_tokens: int
    output_tokens: int
    settings: EchoedSettings
    # The turns a later `previous_response_id` continues: the earlier turns, this input and
    # this output, as role/content messages (instructions are not carried over, as the
    # API documents for `instructions`).
    conversation: tuple[Message, ...]
    incomplete_reason: str | None = None

    @property
    def status(self) -> str:
        return STATUS_INCOMPLETE if self.incomplete_reason else STATUS_COMPLETED

    @property
    def output_text(self) -> str:
        """The text of every message item, joined (what the SDK's ``output_text`` computes)."""
        return "".join(item.text for item in self.output if isinstance(item, MessageOutput))

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def plan_response(
    body: Mapping[str, Any],
    history: Sequence[Message] = (),
    reply_override: Mapping[str, Any] | None = None,
    context_window: int | None = None,
) -> ResponsesPlan:
    """Plan the Response to ``body``; ``history`` is the stored conversation it continues.

    ``reply_override`` is a scripted reply (``{"text": ...}`` or ``{"tool_call": ...}``),
    as for :func:`mockserver.engine.chat.plan_chat`. ``context_window``: the window a
    ``truncation: "auto"`` request's input is fitted to (see :func:`fitted_prompt_tokens`),
    and where a reply without ``max_output_tokens`` stops (``status: "incomplete"``).
    """
    conversation = [*history, *input_messages(body.get("input"))]
    chat_body = chat_equivalent(body, conversation)
    tools = tool_facts(chat_body["tools"])
    # The chat body's messages: the instructions (a developer message) and the conversation.
    input_tokens = count_message_tokens(chat_body["messages"])
    if context_window is not None and body.get("truncation") == "auto":
        window = context_window - tools.prompt_tokens
        input_tokens = fitted_prompt_tokens(conversation, input_tokens, window)
    room = room_left(context_window, input_tokens + tools.prompt_tokens)

    def plan() -> Reply:
        request = _named_as_responses(
            reply_request_from_chat(chat_body, reply_override, tools, room), body
        )
        # The key holds the whole conversation instead of the id that stands for part of
        # it, so a chained request answers like the same conversation sent inline.
        key = content_key(
            {**body, "input": conversation},
            _DELIVERY_FIELDS,
            tools_json=tool_facts(body.get("tools")).canonical_json,
        )
        return plan_reply(request, seeded_rng(key))

    memo_key = request_key(body, conversation, reply_override or {}, room or 0)
    reply = fresh(_REPLIES.get(memo_key, plan))
    response_id = _response_id()
    output = _output_items(reply, response_id)
    truncated = reply.finish_reason == FINISH_LENGTH
    return ResponsesPlan(
        id=response_id,
        created_at=int(time.time()),
        model=snapshot_name(str(body.get("model", ""))),
        output=output,
        input_tokens=input_tokens + tools.prompt_tokens,
        output_tokens=reply.completion_tokens,
        settings=echoed_settings(body),
        conversation=(*conversation, *output_messages(output)),
        incomplete_reason=INCOMPLETE_MAX_OUTPUT_TOKENS if truncated else None,
    )


def input_messages(value: Any) -> list[Message]:
    """The ``input`` of a request as role/content messages (a string is one user message)."""
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if not isinstance(value, list):
        return []
    messages = (_item_message(item) for item in value if isinstance(item, Mapping))
    return [message for message in messages if message is not None]


def last_user_input_text(body: Mapping[str, Any]) -> str:
    """The text of the last user input (what a stub's ``last_user_message`` searches)."""
    for message in reversed(input_messages(body.get("input"))):
        if message.get("role") == "user":
            return message_text(message.get("content"))
    return ""


def output_messages(output: Sequence[OutputItem]) -> list[Message]:
    """Output items as the messages a later turn sees (the same mapping as replayed items)."""
    messages: list[Message] = []
    for item in output:
        if isinstance(item, MessageOutput):
            messages.append({"role": "assistant", "content": item.text})
        else:
            messages.append(_call_message(item.call.name, item.call.arguments))
    return messages


def chat_equivalent(body: Mapping[str, Any], conversation: Sequence[Message]) -> dict[str, Any]:
    """The chat completions body that asks for the same answer as a Responses body."""
    tools = [_chat_tool(tool) for tool in _function_tools(body)]
    instructions = _instructions(body)
    # The instructions lead the prompt, as a developer message: what they ask for (a JSON
    # Schema, DSPy's fields, a ReAct format) is read there as in a chat's system message.
    prompt = [{"role": "developer", "content": instructions}] if instructions else []
    chat: dict[str, Any] = {
        "messages": [*prompt, *conversation],
        "tools": tools,
        "tool_choice": _chat_tool_choice(body.get("tool_choice")),
        "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
        "max_completion_tokens": body.get("max_output_tokens"),
    }
    include = body.get("include")
    if isinstance(include, list) and INCLUDE_LOGPROBS in include:
        # Chat's logprobs, top_logprobs: the same per-token logprobs (engine.reply).
        chat["logprobs"] = True
        chat["top_logprobs"] = body.get("top_logprobs")
    response_format = _response_format(body.get("text"))
    if response_format is not None:
        chat["response_format"] = response_format
    return chat


def echoed_settings(body: Mapping[str, Any]) -> EchoedSettings:
    """What the Response repeats of the request, as the real API fills it in."""
    max_output = body.get("max_output_tokens")
    previous = body.get("previous_response_id")
    user = body.get("user")
    metadata = body.get("metadata")
    truncation = body.get("truncation")
    return EchoedSettings(
        instructions=_instructions(body),
        max_output_tokens=int(max_output) if _is_number(max_output) else None,
        parallel_tool_calls=body.get("parallel_tool_calls") is not False,
        previous_response_id=previous if isinstance(previous, str) else None,
        store=body.get("store") is True,
        temperature=_number_or(body.get("temperature"), DEFAULT_TEMPERATURE),
        text=_echoed_text(body.get("text")),
        tool_choice=_echoed_tool_choice(body.get("tool_choice")),
        tools=tuple(_echoed_tool(tool) for tool in body.get("tools") or [] if _is_map(tool)),
        top_p=_number_or(body.get("top_p"), DEFAULT_TOP_P),
        truncation=truncation if isinstance(truncation, str) else DEFAULT_TRUNCATION,
        user=user if isinstance(user, str) else None,
        metadata=metadata if isinstance(metadata, Mapping) else {},
    )


# --------------------------------------------------------------------------- input items


def _item_message(item: Mapping[str, Any]) -> Message | None:
    kind = item.get("type")
    if kind == "function_call":
        return _call_message(str(item.get("name", "")), str(item.get("arguments", "")))
    if kind == "function_call_output":
        return {"role": "tool", "content": message_text(item.get("output"))}
    role = item.get("role")
    if kind in (None, "message") and isinstance(role, str):
        return {"role": role, "content": message_text(item.get("content"))}
    return None


def _call_message(name: str, arguments: str) -> Message:
    # A call the model made: its name and arguments are what it said (and what counts).
    return {"role": "assistant", "name": name, "content": arguments}


def _instructions(body: Mapping[str, Any]) -> str | None:
    instructions = body.get("instructions")
    return instructions if isinstance(instructions, str) else None


# --------------------------------------------------------------------------- tools, format


def _function_tools(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    tools = body.get("tools")
    return [
        tool
        for tool in (tools if isinstance(tools, list) else [])
        if _is_map(tool) and tool.get("type") == "function" and isinstance(tool.get("name"), str)
    ]


def _named_as_responses(request: ReplyRequest, body: Mapping[str, Any]) -> ReplyRequest:
    """``request`` with its schemas' request fields named as the Responses body names them
    (an error about a schema names ``text.format.schema`` or ``tools[i].parameters``)."""
    if not request.tools and request.output_schema is None:
        return request  # no schema to name (most requests): replace() costs 3.5 µs
    tools = body.get("tools")
    indexes = [
        index
        for index, tool in enumerate(tools if isinstance(tools, list) else [])
        if _is_map(tool) and tool.get("type") == "function" and isinstance(tool.get("name"), str)
    ]
    # Built, not dataclasses.replace()d: that was 3 µs a tool, on every request with tools.
    renamed = tuple(
        FunctionTool(tool.name, tool.description, tool.parameters, f"tools[{index}].parameters")
        for tool, index in zip(request.tools, indexes, strict=False)
    )
    return dataclasses.replace(request, tools=renamed, output_schema_param="text.format.schema")


def _chat_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    function = {key: tool[key] for key in ("name", "description", "parameters") if key in tool}
    return {"type": "function", "function": function}


def _chat_tool_choice(choice: Any) -> Any:
    # {type: function, name} is chat's {type: function, function: {name}}; the hosted tool
    # kinds (web search, mcp, ...) are not emulated and leave the choice to the model.
    if _is_map(choice) and choice.get("type") == "function":
        return {"type": "function", "function": {"name": choice.get("name")}}
    return choice if isinstance(choice, str) else DEFAULT_TOOL_CHOICE


def _response_format(text: Any) -> dict[str, Any] | None:
    fmt = text.get("format") if _is_map(text) else None
    if not _is_map(fmt):
        return None
    if fmt.get("type") == "json_schema":
        return {"type": "json_schema", "json_schema": {"schema": fmt.get("schema")}}
    if fmt.get("type") == "json_object":
        return {"type": "json_object"}
    return None


def _echoed_text(text: Any) -> Mapping[str, Any]:
    if not _is_map(text):
        return dict(DEFAULT_TEXT)
    if not _is_map(text.get("format")):
        # text.format is optional (specs/README.md §3, R9): the default format, beside
        # what else was sent (verbosity), echoed as sent.
        return {"format": dict(DEFAULT_TEXT["format"]), **text}
    fmt = dict(text["format"])
    if fmt.get("type") == "json_schema":
        # The real API fills in the optional fields (recorded wire: description null).
        fmt.setdefault("description", None)
        fmt.setdefault("strict", False)
    return {**text, "format": fmt}


def _echoed_tool_choice(choice: Any) -> Any:
    return choice if isinstance(choice, str) or _is_map(choice) else DEFAULT_TOOL_CHOICE


def _echoed_tool(tool: Mapping[str, Any]) -> Mapping[str, Any]:
    if tool.get("type") == "mcp":
        return _echoed_mcp_tool(tool)
    if tool.get("type") != "function":
        return tool
    strict = tool.get("strict")
    return {
        "type": "function",
        "description": tool.get("description"),
        "name": tool.get("name"),
        # Echoed as sent, `null` included: no recorded wire shows what the live API
        # echoes for `parameters: null`.
        "parameters": tool.get("parameters"),
        # A tool sent without `strict` (or with null) comes back `"strict": true` (recorded
        # wire, overlay R7): Responses defaults function tools to strict mode.
        "strict": DEFAULT_FUNCTION_STRICT if strict is None else strict,
    }


def _echoed_mcp_tool(tool: Mapping[str, Any]) -> Mapping[str, Any]:
    """An ``mcp`` tool as the Response shows it: without what authenticates to its server.

    OpenAI's remote MCP guide: the values of ``headers`` "will also not be visible in the
    Response object created", and "we also discard the path portion of the server_url in
    our responses (i.e. example.com/mcp becomes example.com)", since some servers put a
    credential in their URL. The guide says nothing of a connector's ``authorization``
    token, a credential too: it is left out, as the headers' values are hidden (inferred,
    as is keeping the URL's scheme and port: specs/README.md). Otherwise every answer, each
    stream snapshot and a stored response would hand back the secrets the request sent.
    """
    echoed = {name: value for name, value in tool.items() if name != "authorization"}
    if tool.get("headers") is not None:
        echoed["headers"] = None
    url = tool.get("server_url")
    if isinstance(url, str):
        echoed["server_url"] = _url_without_path(url)
    return echoed


def _url_without_path(url: str) -> str:
    """``url``'s scheme and host (and port): no user info, path, query or fragment.

    Cut by hand, not with ``urllib.parse.urlsplit``: that raises on text the request schema
    lets through (``https://[::1/mcp``), and a URL that cannot be parsed must not be echoed
    whole either. What follows the last ``@`` is taken first, so that a password holding a
    ``/`` (``https://user:p/w@host``) is never echoed in part; a path holding an ``@`` then
    leaves an odd host, and nothing of the rest.
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        scheme, rest = "", url
    authority = re.split(r"[/?#\\]", rest.rpartition("@")[2], maxsplit=1)[0]
    return f"{scheme}://{authority}" if separator else authority


# --------------------------------------------------------------------------- the reply


def _output_items(reply: Reply, response_id: str) -> tuple[OutputItem, ...]:
    """The reply as output items; when the token limit cut it, the last item is incomplete."""
    cut = reply.finish_reason == FINISH_LENGTH
    if not reply.tool_calls:
        status = STATUS_INCOMPLETE if cut else STATUS_COMPLETED
        item_id = _item_id("msg_", response_id, 0)
        return (MessageOutput(item_id, status, reply.text, reply.logprobs),)
    last = len(reply.tool_calls) - 1
    return tuple(
        FunctionCallOutput(
            dataclasses.replace(call, item_id=_item_id("fc_", response_id, index)),
            STATUS_INCOMPLETE if cut and index == last else STATUS_COMPLETED,
        )
        for index, call in enumerate(reply.tool_calls)
    )


# Output item ids and the response they belong to.
#
# The live wire's ids of one response share their last 16 hex digits (recorded:
# resp_6856f1a2…0e4d7c3f8a9b1e2d and its msg_6856f1a3…0e4d7c3f8a9b1e2d). The mock draws
# those 16 at random and derives the rest of each id from them, so an ``item_reference``
# finds the stored response holding the item from the item's id alone
# (:func:`response_id_of_item`): one read, on any state store, with no index of items.


def _response_id() -> str:
    shared = new_hex_id("", _SHARED_DIGITS // 2)
    return RESPONSE_PREFIX + _derived_digits(shared, RESPONSE_PREFIX) + shared


def _item_id(prefix: str, response_id: str, index: int) -> str:
    shared = response_id[-_SHARED_DIGITS:]
    return prefix + _derived_digits(shared, f"{prefix}{index}") + shared


def response_id_of_item(item_id: str) -> str | None:
    """The id of the response an output item id was made for, or ``None`` for an id the
    mock never makes."""
    prefix, separator, digits = item_id.partition("_")
    if not separator or f"{prefix}_" not in _ITEM_PREFIXES or len(digits) != _ID_BYTES * 2:
        return None
    shared = digits[-_SHARED_DIGITS:]
    return RESPONSE_PREFIX + _derived_digits(shared, RESPONSE_PREFIX) + shared


def _derived_digits(shared: str, label: str) -> str:
    digest = hashlib.sha256(f"{label}{shared}".encode()).hexdigest()
    return digest[: _ID_BYTES * 2 - _SHARED_DIGITS]


# --------------------------------------------------------------------------- small helpers


def _is_map(value: Any) -> TypeGuard[Mapping[str, Any]]:
    return isinstance(value, Mapping)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number_or(value: Any, default: float) -> float:
    return float(value) if _is_number(value) else default
