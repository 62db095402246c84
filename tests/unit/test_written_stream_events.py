"""Chat stream deltas written from a per-stream template are the bytes the dict would be.

``render.chat`` writes each text delta into the parts of its chunk written once per choice
(``render.stream.Written``); these tests write every chunk both ways and compare the bytes,
padding included, and check what stays on the dict path.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from harness.sse import dump_json_bytes
from mockserver.engine.chat import plan_chat
from mockserver.render import obfuscation
from mockserver.render.chat import _MARK, _content_chunk_writer, completion_chunks
from mockserver.render.stream import Written, padded_chunk_frames, sse_frames

TEXTS = [
    "What is the status of order 7 in our shop?",
    "Hello",
    'Quote "this", a back\\slash, a tab\t, a newline\n and é, 漢字, 🙂.',
]


def chat_body(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4", "messages": [{"role": "user", "content": text}], **extra}


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("include_usage", [False, True])
def test_chat_content_chunks_are_the_dicts_bytes(text: str, include_usage: bool) -> None:
    plan = plan_chat(chat_body(text, n=2))
    chunks = list(completion_chunks(plan, include_usage=include_usage))
    written = [chunk for chunk in chunks if type(chunk) is Written]
    assert len(written) == sum(len(reply.pieces) for reply in plan.choices)
    for chunk in chunks:
        if type(chunk) is Written:
            # The mapping it stands for, written as the dict path writes it.
            assert dump_json_bytes(dict(chunk)) == chunk.data
            assert chunk["object"] == "chat.completion.chunk"


def test_chat_frames_are_the_dict_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = plan_chat(chat_body(TEXTS[2]))

    def frames(as_dicts: bool) -> bytes:
        monkeypatch.setattr(obfuscation, "_generator", random.Random(7))
        chunks = list(completion_chunks(plan))
        if as_dicts:
            chunks = [dict(chunk) for chunk in chunks]
        return b"".join(padded_chunk_frames(chunks, done_marker=True))

    assert frames(as_dicts=False) == frames(as_dicts=True)
    plain = list(completion_chunks(plan))
    assert b"".join(sse_frames(plain, done_marker=True)) == b"".join(
        sse_frames([dict(chunk) for chunk in plain], done_marker=True)
    )


def test_chat_logprob_chunks_stay_dicts() -> None:
    plan = plan_chat(chat_body("Hello", logprobs=True, top_logprobs=2))
    assert not [chunk for chunk in completion_chunks(plan) if type(chunk) is Written]


def test_a_text_orjson_cannot_write_is_left_to_the_dict_path() -> None:
    plan = plan_chat(chat_body("x"))
    template = next(iter(completion_chunks(plan)))
    write = _content_chunk_writer({**template, "choices": [{"delta": {"content": _MARK}}]})
    assert write("fine") is not None
    assert write("a\ud800b") is None  # a lone surrogate: orjson refuses it
    assert _content_chunk_writer({"content": "no mark"})("text") is None
