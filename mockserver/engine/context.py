"""The model's context window: how many prompt tokens a request holds, at a bounded cost.

The live API refuses a prompt longer than the model's context window (gpt-4-0613: 8,192
tokens) with ``context_length_exceeded``. Counting is also the one part of a request whose
cost grows with the prompt faster than its size: cl100k's BPE is superlinear on long runs
without spaces (10 MB of "a" took 7.7 s). Two facts bound the work here. A token is at
least one byte, so a prompt of at most ``window`` bytes fits without being counted. A
cl100k token is at most 128 bytes, so a text of more than ``128 * window`` bytes cannot fit
and is not counted either. Between the two, texts are counted one by one, a long one slice by
slice (``tokens.count_tokens_up_to``), and counting stops as soon as the window is exceeded:
at most the window's worth of text and one slice more (64 K characters) is ever tokenized.
A 1 MB prompt of words went from 35 ms of tokenizing to 2.6 (one slice).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mockserver.engine.tokens import (
    REPLY_PRIMING_TOKENS,
    TOKENS_PER_MESSAGE,
    TOKENS_PER_NAME,
    content_text,
    count_message_tokens,
    count_tokens_up_to,
    count_tool_tokens,
)

# The longest cl100k_base token, in bytes (128 spaces).
_MAX_TOKEN_BYTES = 128


@dataclass(frozen=True)
class PromptSize:
    """Prompt tokens as counted up to the window: exact, or a lower bound once past it."""

    tokens: int
    exact: bool


def prompt_size(
    messages: Iterable[Any], tools: Iterable[Any], window: int, body_bytes: int
) -> PromptSize:
    """The prompt tokens of ``messages`` and ``tools``, counted no further than needed.

    ``body_bytes`` is the size of the request body the prompt came from: a body no larger
    than the window holds no more tokens than that, and nothing is counted.
    """
    if body_bytes <= window:
        return PromptSize(0, exact=False)
    total = REPLY_PRIMING_TOKENS
    for message in messages:
        total += TOKENS_PER_MESSAGE
        if not isinstance(message, Mapping):
            continue
        for key, value in message.items():
            text = content_text(value)
            size = len(text.encode("utf-8", errors="surrogatepass"))
            if size > _MAX_TOKEN_BYTES * window:
                # Cannot fit: no tokenizing, a lower bound is enough to refuse.
                return PromptSize(total + -(-size // _MAX_TOKEN_BYTES), exact=False)
            total += count_tokens_up_to(text, window - total)
            if key == "name":
                total += TOKENS_PER_NAME
            if total > window:
                return PromptSize(total, exact=False)
    tools = list(tools)
    tool_bytes = sum(
        len(text.encode("utf-8", errors="surrogatepass")) for text in _tool_texts(tools)
    )
    if tool_bytes > _MAX_TOKEN_BYTES * (window - total):
        # The definitions alone hold more tokens than the window has left: not tokenized.
        return PromptSize(total + -(-tool_bytes // _MAX_TOKEN_BYTES), exact=False)
    total += count_tool_tokens(tools)
    return PromptSize(total, exact=True)


def _tool_texts(tools: Iterable[Any]) -> Iterator[str]:
    """The texts of function definitions the prompt count tokenizes (see count_tool_tokens)."""
    for tool in tools:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(function, Mapping):
            continue
        yield str(function.get("name") or "")
        yield str(function.get("description") or "")
        parameters = function.get("parameters")
        properties = parameters.get("properties") if isinstance(parameters, Mapping) else None
        if not isinstance(properties, Mapping):
            continue
        for key, prop in properties.items():
            yield str(key)
            if isinstance(prop, Mapping):
                yield str(prop.get("description") or "")
                enum = prop.get("enum")
                if isinstance(enum, list):
                    yield from (str(item) for item in enum)


def fitted_prompt_tokens(conversation: Sequence[Any], tokens: int, window: int) -> int:
    """``tokens`` (the prompt's) once the live API's ``truncation: "auto"`` has fitted them
    to ``window`` by dropping items of the ``conversation``: the spec says "in the middle of
    the conversation"; here the oldest go first, the instructions (not an input item) and
    the newest item stay.
    """
    for message in conversation[:-1]:
        if tokens <= window:
            break
        tokens -= count_message_tokens([message]) - REPLY_PRIMING_TOKENS
    return tokens
