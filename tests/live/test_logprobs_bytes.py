"""Log probabilities of characters the tokenizer splits (CJK, emoji): one entry per token.

cl100k_base writes many characters as two to four byte tokens. The live API gives each token
its own logprob entry, a token that is part of a character named by its bytes
(``bytes:\\xe6\\x9d``) with ``bytes`` the token's own, so the entries add up to
``completion_tokens`` and their bytes to the text (the spec's ``bytes``: "characters are
represented by multiple tokens and their byte representations must be combined").
"""

from __future__ import annotations

import bpe_openai
import pytest
from openai import OpenAI

from tests.fixtures.admin import Admin

pytestmark = pytest.mark.usefixtures("admin")

TEXT = "東京は🙂🚀 ok"
CL100K = bpe_openai.get_encoding("cl100k_base")
ASK = [{"role": "user", "content": "greet me in Tokyo"}]


@pytest.fixture
def stubbed(admin: Admin) -> None:
    admin.stub(match={"last_user_message": "Tokyo"}, reply={"text": TEXT})


@pytest.mark.usefixtures("stubbed")
def test_each_token_has_its_entry_and_its_own_bytes(client: OpenAI) -> None:
    reply = client.chat.completions.create(
        model="gpt-4", messages=ASK, logprobs=True, top_logprobs=2
    )
    choice = reply.choices[0]
    assert choice.message.content == TEXT
    assert reply.usage is not None
    entries = choice.logprobs.content if choice.logprobs else None
    assert entries is not None
    expected = [CL100K.decode_single_token_bytes(t) for t in CL100K.encode(TEXT)]
    assert len(expected) > len(TEXT.split())  # the text does split characters
    assert len(entries) == reply.usage.completion_tokens == len(expected)
    assert [bytes(entry.bytes or []) for entry in entries] == expected
    assert b"".join(bytes(entry.bytes or []) for entry in entries).decode() == TEXT
    for entry, raw in zip(entries, expected, strict=True):
        try:
            assert entry.token == raw.decode("utf-8")
        except UnicodeDecodeError:
            assert entry.token == "bytes:" + "".join(f"\\x{byte:02x}" for byte in raw)
        assert entry.top_logprobs[0].token == entry.token
        assert entry.top_logprobs[0].bytes == entry.bytes


@pytest.mark.usefixtures("stubbed")
def test_a_stream_carries_every_token_entry_with_the_text_it_completes(client: OpenAI) -> None:
    plain = client.chat.completions.create(model="gpt-4", messages=ASK, logprobs=True)
    stream = client.chat.completions.create(model="gpt-4", messages=ASK, logprobs=True, stream=True)
    streamed = []
    text = ""
    for chunk in stream:
        choice = chunk.choices[0]
        if choice.logprobs and choice.logprobs.content:
            streamed.extend(choice.logprobs.content)
            assert choice.delta.content  # each delta is whole characters
        text += choice.delta.content or ""
    assert text == TEXT
    assert plain.choices[0].logprobs is not None
    assert [(e.token, e.bytes) for e in streamed] == [
        (e.token, e.bytes) for e in plain.choices[0].logprobs.content or []
    ]
