"""Plan one answer from what the request asks for: text, JSON, or tool calls.

Both APIs describe the same choices in different words (chat ``tools``/``tool_choice``/
``max_tokens``/``response_format``, Responses ``tools``/``max_output_tokens``/``text.format``);
their planners translate to a :class:`ReplyRequest` and this module decides.

Tool choice ``auto`` calls the tools whose name words appear in the last user message
(``get_weather`` for "what's the weather in Paris?"), all of them when parallel calls are
allowed, and answers with text otherwise, or when the last turn is a tool result.
``required`` always calls (the tools named, the last listed one waiting for the others'
results, else the first); a named function is
called as named. A call's arguments take the values the user wrote where an argument's name or
description fits them (``{"location": "Paris"}``, see :mod:`engine.mentions`).

JSON from a schema (arguments, structured output) is generated within one
:class:`GenerationBudget` per request; a schema beyond the limits raises
:class:`GenerationLimitError` naming the request field (``response_format.json_schema.schema``,
``tools[0].function.parameters``), which the API answers as a 400.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from mockserver.engine.field_markers import PromptedFields, answer_fields
from mockserver.engine.generation_limits import GenerationBudget, GenerationLimitError
from mockserver.engine.ids import tool_call_id
from mockserver.engine.instances import (
    Suggest,
    UnsatisfiableSchemaError,
    arguments_schema,
    generate_from_words,
    generate_instance,
)
from mockserver.engine.mentions import Mentions
from mockserver.engine.plan import (
    FINISH_LENGTH,
    FINISH_STOP,
    FINISH_TOOL_CALLS,
    Reply,
    TokenLogprob,
    ToolCall,
    TopLogprob,
    token_text,
)
from mockserver.engine.text import compose_reply
from mockserver.engine.text_react import ReactTurn, answer_react
from mockserver.engine.tokens import Piece, count_tokens, limit_text
from mockserver.engine.tool_mentions import named_tools

TOOL_CHOICE_NONE = "none"
TOOL_CHOICE_AUTO = "auto"
TOOL_CHOICE_REQUIRED = "required"
TOOL_CHOICE_FUNCTION = "function"

# Alternatives offered in top_logprobs; frequent cl100k tokens so they look natural. More
# than the spec's maximum of 20, so that 20 remain once the token itself is left out.
_ALTERNATIVES = (
    " the", " a", ".", ",", " and", " to", " of", " is", " I", " you", "!", " it",
    " in", " that", " for", " on", " with", " as", " this", " be", " are", " we",
)  # fmt: skip


@dataclass(frozen=True)
class FunctionTool:
    name: str
    description: str = ""
    parameters: Mapping[str, Any] | None = None
    # Where `parameters` sits in the request, for an error about it.
    param: str = "tools"


@dataclass(frozen=True)
class ReplyRequest:
    """What one answer must be, in API-neutral terms."""

    user_text: str = ""
    tool_result: str | None = None
    # The functions called since the last user message (a turn after tool results).
    called: tuple[str, ...] = ()
    tools: tuple[FunctionTool, ...] = ()
    tool_choice: str = TOOL_CHOICE_AUTO
    forced_function: str | None = None
    parallel_tool_calls: bool = True
    output_schema: Mapping[str, Any] | None = None
    # Where `output_schema` sits in the request, for an error about it.
    output_schema_param: str = "response_format.json_schema.schema"
    json_object: bool = False
    # A JSON Schema the prompt asks the answer to follow (engine.prompted_schema).
    prompted_schema: Mapping[str, Any] | None = None
    # Output fields the prompt asks for in DSPy's protocol (engine.field_markers).
    prompted_fields: PromptedFields | None = None
    # A step of the text ReAct protocol the prompt asks for (engine.text_react).
    text_react: ReactTurn | None = None
    limit: int | None = None
    stop: tuple[str, ...] = ()
    top_logprobs: int | None = None
    fixed_text: str | None = None
    # A stub's scripted calls, (function name, arguments) each, in order.
    fixed_tool_calls: tuple[tuple[str, Any], ...] = ()
    pretty_arguments: bool = True


def seeded_rng(key: bytes, variant: int = 0) -> random.Random:
    """A generator seeded by the request's content key and a variant number."""
    digest = hashlib.sha256(key + b"#" + str(variant).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def plan_reply(
    request: ReplyRequest, rng: random.Random, budget: GenerationBudget | None = None
) -> Reply:
    """Decide one answer. Deterministic for a given request and generator state.

    ``budget`` bounds the work of generating JSON from the request's schemas; pass one budget
    for all the choices of a request. Raises :class:`GenerationLimitError`, naming the request
    field, when a schema needs more than the budget allows.
    """
    budget = budget if budget is not None else GenerationBudget()
    calls = _planned_calls(request, rng, budget)
    if calls:
        return _tool_call_reply(calls, request)
    text, is_json = _reply_text(request, rng, budget)
    cut_at = _first_stop(text, request.stop)
    if cut_at is not None:
        text = text[:cut_at]
    text, used, truncated = limit_text(text, request.limit)
    reply = Reply(
        text=text,
        finish_reason=FINISH_LENGTH if truncated else FINISH_STOP,
        completion_tokens=used,
        is_json=is_json,
    )
    if request.top_logprobs is None:
        return reply
    return replace(reply, logprobs=_logprobs(reply.pieces, request.top_logprobs, rng))


def _reply_text(
    request: ReplyRequest, rng: random.Random, budget: GenerationBudget
) -> tuple[str, bool]:
    if request.fixed_text is not None:
        return request.fixed_text, False
    if request.output_schema is not None:
        # The user's own values, as a tool call's arguments take them.
        suggest = _user_values(request, rng)
        instance = _instance_or_object(
            request.output_schema, rng, budget, request.output_schema_param, suggest
        )
        return json.dumps(instance, ensure_ascii=False), True
    if request.text_react is not None and not request.json_object:
        # Before the prompted schema: crewai's ReAct prompt holds its tools' argument schemas.
        return answer_react(request.text_react, rng, budget, request.prompted_schema), False
    if request.prompted_fields is not None:
        fields = answer_fields(request.prompted_fields, rng, budget)
        if fields is not None:
            return fields, request.prompted_fields.as_json
    if request.prompted_schema is not None:
        prompted = _prompted_instance(request.prompted_schema, request.user_text, rng, budget)
        if prompted is not None and request.json_object:
            return prompted, True
        if prompted is not None:
            # Asked for in words: answered as models answer, in a ```json code block.
            return f"```json\n{prompted}\n```", False
    if request.json_object:
        answer = compose_reply(rng, request.user_text, request.tool_result)
        return json.dumps({"response": answer}, ensure_ascii=False), True
    return compose_reply(rng, request.user_text, request.tool_result), False


def _prompted_instance(
    schema: Mapping[str, Any], user_text: str, rng: random.Random, budget: GenerationBudget
) -> str | None:
    """An instance of the prompt's schema as JSON text, or ``None`` when the generator finds
    none within the budget: a schema in words is not a request field, so it is never refused
    (the answer falls back to text)."""
    suggest = Mentions.of(user_text).suggest
    try:
        instance = generate_from_words(schema, rng, suggest, budget)
    except (UnsatisfiableSchemaError, GenerationLimitError):
        return None
    return json.dumps(instance, ensure_ascii=False, indent=2)


def _first_stop(text: str, stops: Sequence[str]) -> int | None:
    positions = [text.find(stop) for stop in stops if stop]
    found = [position for position in positions if position >= 0]
    return min(found) if found else None


def _planned_calls(
    request: ReplyRequest, rng: random.Random, budget: GenerationBudget
) -> list[tuple[str, Any]]:
    """The (function name, arguments) pairs to call, in order; empty for a text answer."""
    if request.fixed_tool_calls:
        return list(request.fixed_tool_calls)
    if request.fixed_text is not None or not request.tools:
        return []
    if request.tool_choice == TOOL_CHOICE_NONE:
        return []
    if request.tool_choice == TOOL_CHOICE_FUNCTION:
        chosen = [tool for tool in request.tools if tool.name == request.forced_function][:1]
    else:
        chosen = _mentioned_tools(request.tools, request.user_text)
        if request.tool_result is not None:
            chosen = _after_results(request, chosen)
        elif not chosen and request.tool_choice == TOOL_CHOICE_REQUIRED:
            chosen = [request.tools[0]]
        elif request.tool_choice == TOOL_CHOICE_REQUIRED and len(chosen) > 1:
            # Agent frameworks list their output tool last (LangChain's structured-output
            # tool, named for the schema: "Weather" beside get_weather): it waits for the
            # other calls' results, as a model would, and is called after them.
            chosen = [tool for tool in chosen if tool is not request.tools[-1]]
        if not request.parallel_tool_calls:
            chosen = chosen[:1]
    # The user's own values ("weather in Paris?" -> "Paris") for the arguments they fit.
    suggest = _user_values(request, rng) if chosen else None
    return [(tool.name, _arguments_for(tool, rng, budget, suggest)) for tool in chosen]


def _user_values(request: ReplyRequest, rng: random.Random) -> Suggest:
    """What the user wrote, offered to the fields it fits; after tool results, an
    answer-named field is offered the answer built from them (an agent's output)."""
    mentions = Mentions.of(request.user_text)
    if request.tool_result is None:
        return mentions.suggest
    return mentions.suggest_answering(compose_reply(rng, request.user_text, request.tool_result))


def _after_results(request: ReplyRequest, mentioned: list[FunctionTool]) -> list[FunctionTool]:
    """The calls of a turn that follows tool results: the tools the user asked for that were
    not called yet (one at a time, a handoff's output), else none (``auto``: the answer) or,
    when a call is required, a tool not called yet, else the last listed.

    Agent frameworks end on a tool of their own, listed after the user's (pydantic-ai's
    ``final_result``, LangChain's structured-output tool) and required every turn: calling
    the first tool again kept them looping to their limits.
    """
    pending = [tool for tool in mentioned if tool.name not in request.called]
    if pending or request.tool_choice != TOOL_CHOICE_REQUIRED:
        return pending
    unused = [tool for tool in request.tools if tool.name not in request.called]
    return unused[:1] or [request.tools[-1]]


def _mentioned_tools(tools: Sequence[FunctionTool], user_text: str) -> list[FunctionTool]:
    named = set(named_tools([tool.name for tool in tools], user_text))
    return [tool for tool in tools if tool.name in named]


def _arguments_for(
    tool: FunctionTool, rng: random.Random, budget: GenerationBudget, suggest: Suggest | None
) -> Any:
    # Arguments are always a JSON object, as the live API's are (`parameters: {}` allows any).
    schema = arguments_schema(tool.parameters, budget)
    return _instance_or_object(schema, rng, budget, tool.param, suggest)


def _instance_or_object(
    schema: Mapping[str, Any] | bool,
    rng: random.Random,
    budget: GenerationBudget,
    param: str,
    suggest: Suggest | None = None,
) -> Any:
    """A value valid against ``schema``, or ``{}`` where no value can be.

    The specs accept any object as function ``parameters`` or as an output schema, and a
    request the spec accepts is never refused; for a provably impossible schema
    (``minLength: 5`` with ``maxLength: 2``, or not a JSON Schema at all) the answer is an
    empty object. A schema that asks for more work than the limits allow, or one the
    generator finds no value for without proving that none exists, is a
    :class:`GenerationLimitError` naming ``param``, the schema's request field: never
    content that breaks the schema.
    """
    try:
        return generate_instance(schema, rng, suggest, budget)
    except UnsatisfiableSchemaError:
        return {}
    except GenerationLimitError as error:
        raise error.at(param) from None


def _tool_call_reply(calls: list[tuple[str, Any]], request: ReplyRequest) -> Reply:
    budget = request.limit
    planned: list[ToolCall] = []
    truncated = False
    used = 0
    for name, arguments in calls:
        indent = 2 if request.pretty_arguments else None
        text = (
            arguments
            if isinstance(arguments, str)
            else json.dumps(arguments, indent=indent, ensure_ascii=False)
        )
        # The model writes the name before the arguments, so the name is counted first; a
        # name past the limit leaves the call with no arguments, and the usage at the limit.
        name_tokens = count_tokens(name)
        remaining = None if budget is None else max(budget - used - name_tokens, 0)
        kept, kept_tokens, truncated = limit_text(text, remaining)
        if budget is not None and used + name_tokens > budget:
            truncated = True
            name_tokens = budget - used
        used += kept_tokens + name_tokens
        planned.append(ToolCall(call_id=tool_call_id(), name=name, arguments=kept))
        if truncated:
            break
    return Reply(
        tool_calls=tuple(planned),
        finish_reason=FINISH_LENGTH if truncated else FINISH_TOOL_CALLS,
        completion_tokens=used,
    )


def _logprobs(pieces: Sequence[Piece], top: int, rng: random.Random) -> tuple[TokenLogprob, ...]:
    # A separate generator, so asking for logprobs never changes the text itself.
    local = random.Random(rng.random())
    entries = []
    for piece in pieces:
        # A piece of several tokens (a character split by the tokenizer) has an entry per
        # token, so the entries count the completion's tokens, as the live API's do.
        tokens: list[tuple[str, bytes | None]] = [(piece.text, None)]
        if piece.parts:
            tokens = [(token_text(raw), raw) for raw in piece.parts]
        for text, raw in tokens:
            logprob = -round(local.uniform(0.0, 0.6), 6)
            alternatives = [token for token in _ALTERNATIVES if token != text]
            local.shuffle(alternatives)
            top_entries = [TopLogprob(text, logprob, raw)]
            floor = logprob
            for token in alternatives[: max(top - 1, 0)]:
                floor = round(floor - local.uniform(0.5, 3.0), 6)
                top_entries.append(TopLogprob(token, floor))
            entries.append(TokenLogprob(text, logprob, tuple(top_entries[:top]), raw))
    return tuple(entries)
