"""Plans remembered by request: bounded, exact, and never sharing an answer's identity."""

from __future__ import annotations

from typing import Any

from mockserver.engine.chat import plan_chat
from mockserver.engine.memo import MAX_KEY_BYTES, Memo, reply_weight, request_key
from mockserver.engine.responses import plan_response

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def _chat(content: str, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4", "messages": [{"role": "user", "content": content}], **extra}


def test_the_least_recently_used_entry_goes_first() -> None:
    memo: Memo[str] = Memo(lambda _: 1, max_entries=2)
    made: list[str] = []

    def make(value: str) -> Any:
        return lambda: made.append(value) or value

    memo.get(b"a", make("a"))
    memo.get(b"b", make("b"))
    memo.get(b"a", make("a again"))  # a hit: "a" is now the most recent
    memo.get(b"c", make("c"))  # evicts "b"
    assert memo.get(b"a", make("a third")) == "a"
    assert memo.get(b"b", make("b again")) == "b again"
    assert made == ["a", "b", "c", "b again"]


def test_plans_are_bounded_by_their_total_weight() -> None:
    memo: Memo[str] = Memo(len, max_entries=100, max_weight=80)
    memo.get(b"a", lambda: "a" * 10)
    memo.get(b"b", lambda: "b" * 10)
    assert memo.get(b"heavy", lambda: "h" * 11) == "h" * 11  # over 80 / 8: not kept
    assert memo.get(b"heavy", lambda: "new") == "new"
    for name in "cdefgh":  # 8 x 10 fill the budget: "a" and "b" go first
        memo.get(name.encode(), lambda name=name: name * 10)
    assert memo.get(b"a", lambda: "again") == "again"
    assert memo.get(b"h", lambda: "not planned") == "h" * 10


def test_keys_are_exact_and_bounded() -> None:
    assert request_key({"a": 1, "b": 2}) == request_key({"b": 2, "a": 1})
    assert request_key({"a": 1}) != request_key({"a": 1.5})
    # orjson writes an infinity as null; the key must still tell them apart.
    infinite = request_key({"maximum": float("inf")})
    assert (
        len({infinite, request_key({"maximum": float("-inf")}), request_key({"maximum": None})})
        == 3
    )
    assert request_key({"text": "\udc00"}) is None  # a lone surrogate: planned every time
    assert request_key({"n": 2**70}) is None
    assert request_key({"text": "x" * MAX_KEY_BYTES}) is None


def test_a_repeated_request_gets_the_same_content_and_new_ids() -> None:
    body = _chat("What is the weather in Paris?", tools=[WEATHER_TOOL])
    first, second = plan_chat(body), plan_chat(body)
    assert first.id != second.id
    (call_1,), (call_2,) = first.choices[0].tool_calls, second.choices[0].tool_calls
    assert (call_1.name, call_1.arguments) == (call_2.name, call_2.arguments)
    assert call_1.call_id != call_2.call_id


def test_every_field_of_the_body_is_part_of_the_key() -> None:
    plain = plan_chat(_chat("Tell me a long story about a lighthouse keeper"))
    limited = plan_chat(_chat("Tell me a long story about a lighthouse keeper", max_tokens=3))
    assert plain.choices[0].completion_tokens > 3
    assert limited.choices[0].completion_tokens == 3
    assert limited.choices[0].finish_reason == "length"
    stubbed = plan_chat(_chat("Hello"), {"text": "Scripted."})
    assert stubbed.choices[0].text == "Scripted."
    assert plan_chat(_chat("Hello")).choices[0].text != "Scripted."


def test_responses_chained_on_different_histories_are_planned_apart() -> None:
    body = {"model": "gpt-4", "input": "And then?"}
    alone = plan_response(body)
    chained = plan_response(body, [{"role": "user", "content": "Tell me about owls"}])
    again = plan_response(body)
    assert alone.output_text == again.output_text
    assert alone.output[0].id != again.output[0].id  # type: ignore[union-attr]
    assert alone.input_tokens < chained.input_tokens


def test_heavy_plans_are_weighed_by_tokens_and_alternatives() -> None:
    light = plan_chat(_chat("Hello"))
    heavy = plan_chat(_chat("Hello", n=4, logprobs=True, top_logprobs=5))
    assert reply_weight(light.choices) == light.choices[0].completion_tokens + 1
    # Each token of each choice, with its 5 alternatives.
    assert reply_weight(heavy.choices) == sum((c.completion_tokens + 1) * 6 for c in heavy.choices)
