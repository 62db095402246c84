"""``item_reference`` input items: an earlier output item sent back by its id.

The Vercel AI SDK sends an earlier reply as ``{"type": "item_reference", "id": "msg_…"}``
when the response was stored (its default on the Responses API); OpenAI's API then reads
the stored item. An id that names no stored item is a 404 naming ``input`` (the live API's
text, quoted in opencode#7724 and oh-my-pi#41): a reply that was not stored cannot be
referenced.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai import OpenAI

MODEL = "gpt-4"
FIRST = "My name is Ann. Tell me about Paris."
NEXT = "What is my name?"
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "parameters": {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
    "strict": False,
}


def _input_tokens(client: OpenAI, items: list[Any]) -> int:
    response = client.responses.create(model=MODEL, input=items)
    assert response.usage is not None
    return response.usage.input_tokens


def test_a_referenced_message_is_read_as_the_stored_reply(client: OpenAI) -> None:
    first = client.responses.create(model=MODEL, input=FIRST, store=True)
    message = first.output[0]
    reference = {"type": "item_reference", "id": message.id}
    inline = {"role": "assistant", "content": first.output_text}
    user, follow_up = {"role": "user", "content": FIRST}, {"role": "user", "content": NEXT}
    by_reference = client.responses.create(model=MODEL, input=[user, reference, follow_up])
    by_value = client.responses.create(model=MODEL, input=[user, inline, follow_up])
    assert by_reference.usage is not None and by_value.usage is not None
    assert by_reference.usage.input_tokens == by_value.usage.input_tokens
    # The same conversation: the same answer.
    assert by_reference.output_text == by_value.output_text


def test_a_reference_without_a_type_is_read_too(client: OpenAI) -> None:
    # The document types item_reference's `type` nullable, `id` alone required.
    first = client.responses.create(model=MODEL, input=FIRST, store=True)
    user = {"role": "user", "content": FIRST}
    typed = _input_tokens(client, [user, {"type": "item_reference", "id": first.output[0].id}])
    untyped = _input_tokens(client, [user, {"id": first.output[0].id}])
    assert typed == untyped > _input_tokens(client, [user])


def test_a_referenced_function_call_is_read(client: OpenAI) -> None:
    first = client.responses.create(
        model=MODEL, input="What's the weather in Paris?", tools=[WEATHER_TOOL], store=True
    )
    call = first.output[0]
    assert call.type == "function_call"
    result = {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny, 22C"}
    question = {"role": "user", "content": "What's the weather in Paris?"}
    by_reference = client.responses.create(
        model=MODEL,
        input=[question, {"type": "item_reference", "id": call.id}, result],
        tools=[WEATHER_TOOL],
    )
    inline = {
        "type": "function_call",
        "call_id": call.call_id,
        "name": call.name,
        "arguments": call.arguments,
    }
    by_value = client.responses.create(
        model=MODEL, input=[question, inline, result], tools=[WEATHER_TOOL]
    )
    assert by_reference.usage is not None and by_value.usage is not None
    assert by_reference.usage.input_tokens == by_value.usage.input_tokens
    assert "Sunny" in by_reference.output_text


@pytest.mark.parametrize("stored", [False, None], ids=["store-false", "store-unset"])
def test_an_item_of_a_reply_not_stored_is_not_found(client: OpenAI, stored: Any) -> None:
    first = client.responses.create(model=MODEL, input=FIRST, store=stored)
    item_id = first.output[0].id
    with pytest.raises(openai.NotFoundError) as missing:
        client.responses.create(
            model=MODEL, input=[{"role": "user", "content": FIRST}, {"id": item_id}]
        )
    assert missing.value.param == "input"
    assert isinstance(missing.value.body, dict)
    assert missing.value.body["message"] == (
        f"Item with id '{item_id}' not found. Items are not persisted when `store` is set to "
        "false. Try again with `store` set to true, or remove this item from your input."
    )


@pytest.mark.parametrize(
    "item_id", ["msg_doesnotexist", "msg_" + "0" * 50, "rs_abc", "", "x" * 5000]
)
def test_an_unknown_item_is_not_found(client: OpenAI, item_id: str) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        client.responses.create(
            model=MODEL,
            input=[{"role": "user", "content": "Hi"}, {"type": "item_reference", "id": item_id}],
        )
    assert missing.value.param == "input"
    assert len(missing.value.message) < 400


def test_a_deleted_reply_can_no_longer_be_referenced(client: OpenAI) -> None:
    first = client.responses.create(model=MODEL, input=FIRST, store=True)
    client.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model=MODEL, input=[{"id": first.output[0].id}])


def test_references_count_in_the_context_window(client: OpenAI) -> None:
    # A 27 KB body of references to one long stored reply was answered 200 with 6 million
    # input tokens, and stored expanded.
    long_reply = client.responses.create(
        model=MODEL, input="Tell me about Paris.", store=True, max_output_tokens=2000
    )
    reference = {"type": "item_reference", "id": long_reply.output[0].id}
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model=MODEL, input=[reference] * 300, store=True)
    assert refused.value.code == "context_length_exceeded"
    # A few fit.
    assert client.responses.create(model=MODEL, input=[reference] * 2).status == "completed"
