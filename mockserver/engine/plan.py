"""The reply plan: plain data that both the JSON and the SSE renderers read.

Planning decides everything (text, tool calls, finish reasons, token counts, ids); rendering
only formats. Splitting text into stream deltas is deferred until a renderer asks for it,
since a plain JSON reply never needs it. That is why a streamed reply and a non-streamed one
for the same request can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from mockserver.engine.tokens import Piece, pieces_of

FINISH_STOP = "stop"
FINISH_LENGTH = "length"
FINISH_TOOL_CALLS = "tool_calls"


@dataclass(frozen=True)
class TopLogprob:
    token: str
    logprob: float
    raw: bytes | None = None  # a token that is part of a character: its own bytes

    @property
    def bytes(self) -> list[int]:
        return list(self.token.encode("utf-8") if self.raw is None else self.raw)


@dataclass(frozen=True)
class TokenLogprob:
    """The log probability of one token and the alternatives the model weighed."""

    token: str
    logprob: float
    top: tuple[TopLogprob, ...] = ()
    raw: bytes | None = None  # a token that is part of a character: its own bytes

    @property
    def bytes(self) -> list[int]:
        return list(self.token.encode("utf-8") if self.raw is None else self.raw)


def token_text(raw: bytes) -> str:
    """A token's text; a token that is only part of a character is named by its bytes,
    ``bytes:\\xe6\\x9d``, as the live API names it (``bytes`` then holds the bytes)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return "bytes:" + "".join(f"\\x{byte:02x}" for byte in raw)


@dataclass(frozen=True)
class ToolCall:
    """One function call: ``arguments`` is the JSON text exactly as sent on the wire."""

    call_id: str
    name: str
    arguments: str
    item_id: str = ""  # Responses API output item id (fc_...)

    @cached_property
    def argument_pieces(self) -> tuple[Piece, ...]:
        """The arguments as stream deltas (split only when a stream needs them)."""
        return pieces_of(self.arguments)


@dataclass(frozen=True)
class Reply:
    """One generated answer: text pieces or tool calls, and why it ended."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str = FINISH_STOP
    logprobs: tuple[TokenLogprob, ...] | None = None
    completion_tokens: int = 0
    is_json: bool = False

    @cached_property
    def pieces(self) -> tuple[Piece, ...]:
        """The text as token-aligned stream deltas (split only when a stream needs them)."""
        return pieces_of(self.text)

    @property
    def content(self) -> str | None:
        """The message content: ``None`` for a pure tool-call reply, as the real API sends."""
        if self.tool_calls and not self.text:
            return None
        return self.text


@dataclass(frozen=True)
class ChatPlan:
    """A whole chat completion: one :class:`Reply` per choice."""

    id: str
    created: int
    model: str
    choices: tuple[Reply, ...]
    prompt_tokens: int

    @property
    def completion_tokens(self) -> int:
        return sum(choice.completion_tokens for choice in self.choices)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens
