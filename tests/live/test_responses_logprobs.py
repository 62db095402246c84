"""Responses ``include: ["message.output_text.logprobs"]`` through the openai SDK, live.

The Vercel AI SDK sends this include value whenever logprobs are asked for, and
openai-python's ``ResponseIncludable`` has it; the published document lists it in the
``include`` description but left it out of the enum (overlay R11). With it, every
``output_text`` part carries a logprob per token (``ResponseOutputText.Logprob``: token,
logprob, bytes, ``top_logprobs`` alternatives) and each stream delta the logprobs of its own
tokens (``ResponseTextDeltaEvent.Logprob``: no bytes); the streamed entries reassemble to the
plain reply's. Without it, the wire is the recorded gpt-4 wire: ``logprobs: []``.

Every body and event is also checked against the effective spec by the ``recorder`` fixture.
"""

from __future__ import annotations

from typing import Any

import bpe_openai
import pytest
from openai import OpenAI

from tests.fixtures.admin import Admin

MODEL = "gpt-4"
QUESTION = "Explain how contract testing helps API teams"
LOGPROBS = "message.output_text.logprobs"
CL100K = bpe_openai.get_encoding("cl100k_base")


def _text_part(response: Any) -> Any:
    [message] = response.output
    [part] = message.content
    assert part.type == "output_text"
    return part


def test_include_logprobs_gives_every_token_with_its_alternatives(client: OpenAI) -> None:
    response = client.responses.create(
        model=MODEL, input=QUESTION, include=[LOGPROBS], top_logprobs=3
    )
    assert response.status == "completed"
    assert response.usage is not None
    part = _text_part(response)
    entries = part.logprobs
    assert entries, "no logprobs with include message.output_text.logprobs"
    assert len(entries) == response.usage.output_tokens == len(CL100K.encode(part.text))
    assert b"".join(bytes(entry.bytes) for entry in entries).decode() == part.text
    for entry in entries:
        assert entry.logprob <= 0
        assert len(entry.top_logprobs) == 3
        assert entry.top_logprobs[0].token == entry.token
        assert entry.top_logprobs[0].logprob == entry.logprob
        assert entry.top_logprobs[0].bytes == entry.bytes
        logprobs = [top.logprob for top in entry.top_logprobs]
        assert logprobs == sorted(logprobs, reverse=True)
    # Asking for logprobs never changes the text.
    plain = client.responses.create(model=MODEL, input=QUESTION)
    assert _text_part(plain).text == part.text


def test_top_logprobs_unset_gives_no_alternatives(client: OpenAI) -> None:
    response = client.responses.create(model=MODEL, input=QUESTION, include=[LOGPROBS])
    entries = _text_part(response).logprobs
    assert entries
    assert all(entry.top_logprobs == [] for entry in entries)


def test_without_the_include_value_the_wire_is_unchanged(client: OpenAI) -> None:
    response = client.responses.create(model=MODEL, input=QUESTION, top_logprobs=5)
    assert _text_part(response).logprobs == []
    stream = client.responses.create(model=MODEL, input=QUESTION, top_logprobs=5, stream=True)
    texts = [event for event in stream if event.type.startswith("response.output_text.")]
    assert texts and all(event.logprobs == [] for event in texts)


def test_a_stream_carries_each_deltas_logprobs_and_reassembles_to_the_plain_reply(
    client: OpenAI,
) -> None:
    asked: dict[str, Any] = {"include": [LOGPROBS], "top_logprobs": 2}
    plain = _text_part(client.responses.create(model=MODEL, input=QUESTION, **asked))
    stream = client.responses.create(model=MODEL, input=QUESTION, stream=True, **asked)
    streamed: list[Any] = []
    done: list[Any] = []
    completed: Any = None
    text = ""
    for event in stream:
        if event.type == "response.output_text.delta":
            assert event.logprobs, "a delta without its tokens' logprobs"
            assert "".join(entry.token for entry in event.logprobs) == event.delta
            streamed.extend(event.logprobs)
            text += event.delta
        elif event.type == "response.output_text.done":
            done = list(event.logprobs)
        elif event.type == "response.completed":
            completed = event.response
    assert text == plain.text
    expected = _event_entries(plain.logprobs)
    assert all(len(e.top_logprobs) == 2 for e in plain.logprobs)
    assert _event_entries(streamed) == expected
    assert _event_entries(done) == expected
    # Event logprobs carry no bytes (ResponseTextDeltaEvent.Logprob), the parts do.
    assert all("bytes" not in (entry.model_extra or {}) for entry in streamed)
    assert completed is not None
    assert _text_part(completed).logprobs == plain.logprobs


def _event_entries(entries: list[Any]) -> list[tuple[str, float, list[tuple[str, float]]]]:
    return [
        (e.token, e.logprob, [(t.token, t.logprob) for t in e.top_logprobs or []]) for e in entries
    ]


@pytest.mark.usefixtures("admin")
def test_split_characters_come_whole_with_each_tokens_entry(client: OpenAI, admin: Admin) -> None:
    text = "東京は🙂🚀 ok"
    admin.stub(match={"last_user_message": "Kyoto greeting"}, reply={"text": text})
    ask: dict[str, Any] = {"input": "a Kyoto greeting please", "include": [LOGPROBS]}
    plain = _text_part(client.responses.create(model=MODEL, **ask))
    assert plain.text == text
    expected = [CL100K.decode_single_token_bytes(t) for t in CL100K.encode(text)]
    assert [bytes(entry.bytes) for entry in plain.logprobs] == expected
    streamed: list[Any] = []
    deltas: list[str] = []
    for event in client.responses.create(model=MODEL, stream=True, **ask):
        if event.type == "response.output_text.delta":
            deltas.append(event.delta)
            streamed.extend(event.logprobs)
    # A character of several tokens comes whole, in one delta carrying each token's entry.
    assert "".join(deltas) == text
    assert len(deltas) < len(streamed)
    assert _event_entries(streamed) == _event_entries(plain.logprobs)


@pytest.mark.parametrize(
    "include",
    [
        ["file_search_call.results"],
        ["file_search_call.results", LOGPROBS],
        ["message.input_image.image_url", "reasoning.encrypted_content"],
    ],
)
def test_other_include_values_are_accepted_and_change_nothing(
    client: OpenAI, include: list[Any]
) -> None:
    response = client.responses.create(model=MODEL, input=QUESTION, include=include)
    assert response.status == "completed"
    assert bool(_text_part(response).logprobs) == (LOGPROBS in include)
