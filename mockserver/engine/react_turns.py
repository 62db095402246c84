"""Tool turns told in text, the ReAct way: a call written by the assistant, its result an
``Observation:`` message from the user.

Some agent frameworks never send the ``tool`` role: smolagents' ``ToolCallingAgent`` writes
the calls the model made into an assistant message ("Calling tools: [{... 'name':
'get_weather' ...}]") and sends each result back as a user message that starts with
``Observation:``, the word ReAct prompts use for a tool's output. Read as a new request, such
an observation left the mock calling the first tool on every step under ``tool_choice:
"required"`` (the agent ran to its step limit, never reaching its ``final_answer`` tool).
Read as what it is, the turn after tool results follows the rules of a ``tool`` message
(:func:`mockserver.engine.reply.plan_reply`): the user's request is the last user message
that is not an observation, and the tools called are the ones the assistant named since.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Final, NamedTuple

Message = Any
_OBSERVATION: Final = re.compile(r"\s*Observation:\s*")
_NAME: Final = re.compile(r"[A-Za-z_][\w.-]*")


class ObservedTurn(NamedTuple):
    """A turn that ends with an observation: what the user asked, the result, the calls."""

    request: str
    result: str
    called: tuple[str, ...]


def observed_turn(
    messages: Sequence[Message], tool_names: Sequence[str], text_of: Callable[[Any], str]
) -> ObservedTurn | None:
    """The turn ``messages`` end with, when the last is an ``Observation:`` from the user
    after an assistant message; else ``None`` (a conversation to read as usual)."""
    if len(messages) < 2 or messages[-1].get("role") != "user":
        return None
    result = _observation(text_of(messages[-1].get("content")))
    if result is None:
        return None
    request_at = _last_request(messages, text_of)
    told = messages[request_at + 1 :]
    if not any(message.get("role") == "assistant" for message in told):
        return None
    request = text_of(messages[request_at].get("content")) if request_at >= 0 else ""
    return ObservedTurn(request, result, _named_calls(told, tool_names, text_of))


def _observation(text: str) -> str | None:
    found = _OBSERVATION.match(text)
    return text[found.end() :] if found else None


def _last_request(messages: Sequence[Message], text_of: Callable[[Any], str]) -> int:
    """The index of the last user message that is not an observation (-1: none)."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.get("role") == "user" and _observation(text_of(message.get("content"))) is None:
            return index
    return -1


def _named_calls(
    told: Sequence[Message], tool_names: Sequence[str], text_of: Callable[[Any], str]
) -> tuple[str, ...]:
    """The listed tools the assistant called (``tool_calls``) or named in its text, in the
    order of the tool list. Read word by word: one pass over the text, whatever the number
    of tools."""
    words: set[str] = set()
    for message in told:
        if message.get("role") != "assistant":
            continue
        words.update(_NAME.findall(text_of(message.get("content"))))
        for call in message.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and isinstance(function.get("name"), str):
                words.add(function["name"])
    return tuple(name for name in tool_names if name in words)
