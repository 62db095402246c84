"""Render a :class:`ChatPlan` as the real wire: one JSON body, or ``chat.completion.chunk``s.

Shapes follow the recorded gpt-4-0613 wire (specs/README.md §4): ``refusal: null`` and
``annotations: []`` in messages; in streams a first chunk carrying the role, one chunk per
token-aligned piece, a last chunk with an empty delta and the finish reason, and with
``stream_options.include_usage`` a ``usage: null`` on every chunk plus a final usage chunk
whose ``choices`` is empty. A stream that fails part-way ends with ``data: {"error": ...}``
and no ``[DONE]``, as the live API ends it (specs/README.md §4). The ``obfuscation`` padding of
chunks is added when they are framed (``render.stream``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

import orjson

from harness.sse import dump_json_bytes
from mockserver.engine.plan import ChatPlan, Reply, TokenLogprob
from mockserver.engine.tokens import Piece
from mockserver.render.logprobs import logprob_json
from mockserver.render.stream import CHUNK_OBJECT, Written

SERVICE_TIER = "default"


def usage_body(plan: ChatPlan) -> dict[str, Any]:
    return {
        "prompt_tokens": plan.prompt_tokens,
        "completion_tokens": plan.completion_tokens,
        "total_tokens": plan.total_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def completion_body(plan: ChatPlan) -> dict[str, Any]:
    """The ``chat.completion`` object."""
    return {
        "id": plan.id,
        "object": "chat.completion",
        "created": plan.created,
        "model": plan.model,
        "choices": [_choice(index, reply) for index, reply in enumerate(plan.choices)],
        "usage": usage_body(plan),
        "service_tier": SERVICE_TIER,
        "system_fingerprint": None,
    }


def _choice(index: int, reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": reply.content,
        "refusal": None,
        "annotations": [],
    }
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in reply.tool_calls
        ]
    logprobs = (
        {"content": [logprob_json(entry) for entry in reply.logprobs], "refusal": None}
        if reply.logprobs is not None
        else None
    )
    return {
        "index": index,
        "message": message,
        "logprobs": logprobs,
        "finish_reason": reply.finish_reason,
    }


def completion_chunks(plan: ChatPlan, include_usage: bool = False) -> Iterator[Mapping[str, Any]]:
    """Every ``chat.completion.chunk`` of the stream, in order (without ``[DONE]``)."""
    base: dict[str, Any] = {
        "id": plan.id,
        "object": "chat.completion.chunk",
        "created": plan.created,
        "model": plan.model,
        "service_tier": SERVICE_TIER,
        "system_fingerprint": None,
    }
    if include_usage:
        base["usage"] = None

    def chunk(index: int, delta: dict[str, Any], **extra: Any) -> dict[str, Any]:
        choice = {
            "index": index,
            "delta": delta,
            "logprobs": extra.get("logprobs"),
            "finish_reason": extra.get("finish_reason"),
        }
        return {**base, "choices": [choice]}

    for index, reply in enumerate(plan.choices):
        if reply.tool_calls:
            yield from _tool_call_chunks(index, reply, chunk)
        else:
            yield chunk(index, {"role": "assistant", "content": "", "refusal": None})
            logprobs = reply.logprobs or ()
            if not logprobs:  # the common case: a chunk per piece, nothing to count
                content_chunk = _content_chunk_writer(chunk(index, {"content": _MARK}))
                for piece in reply.pieces:
                    written = content_chunk(piece.text)
                    yield chunk(index, {"content": piece.text}) if written is None else written
            else:
                yield from _chunks_with_logprobs(index, reply.pieces, logprobs, chunk)
        yield chunk(index, {}, finish_reason=reply.finish_reason)
    if include_usage:
        yield {**base, "choices": [], "usage": usage_body(plan)}


def _chunks_with_logprobs(
    index: int, pieces: Sequence[Piece], logprobs: Sequence[TokenLogprob], chunk: Any
) -> Iterator[dict[str, Any]]:
    """A chunk per piece, each with the log probabilities of its tokens."""
    position = 0  # logprobs are per token; a piece may hold several tokens
    for piece in pieces:
        count = len(piece.parts) or 1
        entries = logprobs[position : position + count]
        position += count
        piece_logprobs = (
            {"content": [logprob_json(entry) for entry in entries], "refusal": None}
            if entries
            else None
        )
        yield chunk(index, {"content": piece.text}, logprobs=piece_logprobs)


# Stands for a delta's text in a chunk written once per choice (see render.stream.Written).
_MARK = "\x00mock-piece\x00"


def _content_chunk_writer(template: Mapping[str, Any]) -> Callable[[str], Written | None]:
    """Write content chunks shaped as ``template`` (its content :data:`_MARK`) for any text.

    The template is written once and each text's JSON put where the mark is: the bytes
    orjson writes for the whole chunk. ``None`` where orjson cannot write a text (a lone
    surrogate), or the mark is not found once: the caller writes that chunk as a dict.
    """
    written = dump_json_bytes(template)
    head, mark, tail = written.partition(orjson.dumps(_MARK))
    usable = bool(mark) and mark not in tail

    def write(text: str) -> Written | None:
        if not usable:
            return None
        try:
            return Written(head + orjson.dumps(text) + tail, CHUNK_OBJECT)
        except orjson.JSONEncodeError:
            return None

    return write


def _tool_call_chunks(index: int, reply: Reply, chunk: Any) -> Iterator[dict[str, Any]]:
    for position, call in enumerate(reply.tool_calls):
        opening = {
            "index": position,
            "id": call.call_id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        if position == 0:
            delta = {"role": "assistant", "content": None, "tool_calls": [opening], "refusal": None}
        else:
            delta = {"tool_calls": [opening]}
        yield chunk(index, delta)
        for piece in call.argument_pieces:
            argument_delta = {"index": position, "function": {"arguments": piece.text}}
            yield chunk(index, {"tool_calls": [argument_delta]})


def failed_chunks(
    chunks: Iterable[Mapping[str, Any]], error_body: Mapping[str, Any], after: int
) -> Iterator[Mapping[str, Any]]:
    """The first ``after`` chunks, then the error body that ends a failed chat stream.

    The SDKs raise on a chunk with an ``error`` key; the caller sends no ``[DONE]`` after it.
    """
    yield from islice(chunks, max(after, 0))
    yield error_body
