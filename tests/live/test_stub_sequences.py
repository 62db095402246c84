"""Stub sequences, conversation matching, several tool calls and reply overrides, through the
openai SDK against `harness serve` (two workers, SQLite state).

Every exchange the ``client`` fixture makes is checked against the effective spec at teardown
(``tests.fixtures.clients.recorder``), streams included.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
from openai import OpenAI

from tests.fixtures.admin import Admin
from tests.fixtures.clients import RecordingTransport
from tests.fixtures.servers import API_KEY, RunningServer

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
        },
    },
]
RESPONSES_TOOLS = [{"type": "function", **tool["function"]} for tool in TOOLS]
TWO_CALLS = [
    {"name": "get_weather", "arguments": {"city": "Paris"}},
    {"name": "get_time", "arguments": {"zone": "Europe/Paris"}},
]


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def ask(client: OpenAI, messages: list[Any], **extra: Any) -> Any:
    return client.chat.completions.create(model="gpt-4", messages=messages, **extra)


def streamed(client: OpenAI, messages: list[Any], **extra: Any) -> dict[str, Any]:
    """A chat stream reassembled: its text, its tool calls by index, finish reason, usage."""
    text, calls, finish, usage = "", {}, None, None
    for chunk in ask(
        client, messages, stream=True, stream_options={"include_usage": True}, **extra
    ):
        usage = chunk.usage or usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
            for call in choice.delta.tool_calls or []:
                entry = calls.setdefault(call.index, {"name": "", "arguments": ""})
                if call.function and call.function.name:
                    entry["name"] = call.function.name
                if call.function and call.function.arguments:
                    entry["arguments"] += call.function.arguments
    return {"text": text, "calls": calls, "finish": finish, "usage": usage}


# --------------------------------------------------------------------------- sequences


def test_a_sequence_answers_a_tool_call_then_text_then_repeats_the_last(
    admin: Admin, client: OpenAI, recorder: RecordingTransport
) -> None:
    stub = admin.stub(
        match={"last_user_message": "weather"},
        replies=[
            {"tool_call": {"name": "get_weather", "arguments": {"city": "Paris"}}},
            {"text": "It is sunny in Paris."},
        ],
    )
    assert stub["after_last"] == "repeat_last" and "reply" not in stub
    messages: list[Any] = [user("What's the weather?")]
    first = ask(client, messages, tools=TOOLS)
    (call,) = first.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    messages += [
        first.choices[0].message,
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    second = ask(client, messages, tools=TOOLS)
    assert second.choices[0].message.content == "It is sunny in Paris."
    # Past the end the last reply repeats, streamed like any other.
    assert streamed(client, messages, tools=TOOLS)["text"] == "It is sunny in Paris."
    assert admin.stubs()[0]["used"] == 3
    assert len(recorder.exchanges) == 3


def test_a_cycling_sequence_starts_over(admin: Admin, client: OpenAI) -> None:
    admin.stub(replies=[{"text": "one"}, {"text": "two"}], after_last="cycle")
    said = [ask(client, [user("count")]).choices[0].message.content for _ in range(5)]
    assert said == ["one", "two", "one", "two", "one"]


def test_a_sequence_that_stops_matching_leaves_the_engine_to_answer(
    admin: Admin, client: OpenAI
) -> None:
    stub = admin.stub(
        match={"last_user_message": "count"},
        replies=[{"text": "one"}, {"text": "two"}],
        after_last="stop_matching",
    )
    assert stub["times"] == 2
    said = [ask(client, [user("count")]).choices[0].message.content for _ in range(3)]
    assert said[:2] == ["one", "two"] and said[2] not in ("one", "two")


def test_a_sequence_on_responses_and_a_step_with_an_error(admin: Admin, client: OpenAI) -> None:
    admin.stub(
        match={"endpoint": "/v1/responses"},
        replies=[
            {"error": {"status": 503, "message": "Try again."}},
            {"tool_calls": TWO_CALLS},
            {"text": "Done."},
        ],
    )
    with pytest.raises(Exception, match="Try again"):
        client.responses.create(model="gpt-4", input="plan my trip", tools=RESPONSES_TOOLS)
    calls = client.responses.create(model="gpt-4", input="plan my trip", tools=RESPONSES_TOOLS)
    assert [(item.type, item.name) for item in calls.output] == [
        ("function_call", "get_weather"),
        ("function_call", "get_time"),
    ]
    done = client.responses.create(model="gpt-4", input="plan my trip", tools=RESPONSES_TOOLS)
    assert done.output_text == "Done."


def test_each_step_is_given_once_to_concurrent_requests(
    admin: Admin, live_server: RunningServer
) -> None:
    steps = 24
    admin.stub(replies=[{"text": f"step {n}"} for n in range(steps)], after_last="stop_matching")
    from concurrent.futures import ThreadPoolExecutor

    def one(_: int) -> str:
        answer = requests.post(
            f"{live_server.base_url}/chat/completions",
            json={"model": "gpt-4", "messages": [user("go")]},
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        content: str = answer.json()["choices"][0]["message"]["content"]
        return content

    with ThreadPoolExecutor(8) as pool:
        said = list(pool.map(one, range(steps + 6)))
    stepped = sorted(text for text in said if text.startswith("step "))
    assert stepped == sorted(f"step {n}" for n in range(steps))


# --------------------------------------------------------------------------- conversation


def test_turns_and_tool_results_choose_the_stub_in_chat(admin: Admin, client: OpenAI) -> None:
    admin.stub(match={"turns": 1, "has_tool_result": False}, reply={"text": "first question"})
    admin.stub(match={"has_tool_result": True}, reply={"text": "a tool answered"})
    admin.stub(match={"turns": {"min": 2, "max": 3}}, reply={"text": "a follow-up"})
    conversation: list[Any] = [
        {"role": "system", "content": "Be brief."},
        user("hello"),
    ]
    assert ask(client, conversation).choices[0].message.content == "first question"
    conversation += [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "noon"},
    ]
    assert ask(client, conversation, tools=TOOLS).choices[0].message.content == "a tool answered"
    conversation += [{"role": "assistant", "content": "It is noon."}, user("and now?")]
    assert ask(client, conversation).choices[0].message.content == "a follow-up"
    conversation += [{"role": "assistant", "content": "Still noon."}, user("x"), user("y")]
    # Four user messages: no stub fits, the engine answers.
    assert ask(client, conversation).choices[0].message.content not in (
        "first question",
        "a tool answered",
        "a follow-up",
    )


def test_turns_on_responses_count_the_stored_conversation(admin: Admin, client: OpenAI) -> None:
    admin.stub(match={"endpoint": "/responses", "turns": 2}, reply={"text": "second turn"})
    admin.stub(
        match={"endpoint": "/responses", "has_tool_result": True},
        reply={"text": "thanks for the result"},
    )
    first = client.responses.create(model="gpt-4", input="Remember kiwi.", store=True)
    assert first.output_text != "second turn"
    second = client.responses.create(
        model="gpt-4", input="Which word?", previous_response_id=first.id, store=True
    )
    assert second.output_text == "second turn"
    inline = client.responses.create(
        model="gpt-4",
        input=[
            {"role": "user", "content": "Remember kiwi."},
            {"role": "assistant", "content": "Noted."},
            {"role": "user", "content": "Which word?"},
        ],
    )
    assert inline.output_text == "second turn"
    result = client.responses.create(
        model="gpt-4",
        input=[
            {"type": "function_call_output", "call_id": "call_1", "output": "noon"},
        ],
        previous_response_id=second.id,
        tools=RESPONSES_TOOLS,
    )
    assert result.output_text == "thanks for the result"


# --------------------------------------------------------------------------- several calls


@pytest.mark.parametrize("stream", [False, True])
def test_several_tool_calls_in_chat(admin: Admin, client: OpenAI, stream: bool) -> None:
    admin.stub(reply={"tool_calls": TWO_CALLS})
    if stream:
        answer = streamed(client, [user("trip")], tools=TOOLS)
        calls = [answer["calls"][index] for index in sorted(answer["calls"])]
        finish = answer["finish"]
    else:
        reply = ask(client, [user("trip")], tools=TOOLS)
        calls = [
            {"name": call.function.name, "arguments": call.function.arguments}
            for call in reply.choices[0].message.tool_calls or []
        ]
        finish = reply.choices[0].finish_reason
    assert [(call["name"], json.loads(call["arguments"])) for call in calls] == [
        (call["name"], call["arguments"]) for call in TWO_CALLS
    ]
    assert finish == "tool_calls"


def test_several_tool_calls_in_a_responses_stream(admin: Admin, client: OpenAI) -> None:
    admin.stub(reply={"tool_calls": TWO_CALLS})
    done = [
        event.item
        for event in client.responses.create(
            model="gpt-4", input="trip", tools=RESPONSES_TOOLS, stream=True
        )
        if event.type == "response.output_item.done"
    ]
    assert [(item.name, json.loads(item.arguments)) for item in done] == [
        (call["name"], call["arguments"]) for call in TWO_CALLS
    ]


# --------------------------------------------------------------------------- overrides


def test_usage_and_finish_reason_overrides_in_chat(admin: Admin, client: OpenAI) -> None:
    admin.stub(
        reply={
            "text": "Cut short",
            "usage": {"prompt_tokens": 1000, "completion_tokens": 7},
            "finish_reason": "length",
        }
    )
    plain = ask(client, [user("hi")])
    assert plain.choices[0].finish_reason == "length"
    assert plain.usage is not None
    assert (plain.usage.prompt_tokens, plain.usage.completion_tokens) == (1000, 7)
    assert plain.usage.total_tokens == 1007
    answer = streamed(client, [user("hi")])
    assert answer["text"] == "Cut short" and answer["finish"] == "length"
    assert (answer["usage"].prompt_tokens, answer["usage"].completion_tokens) == (1000, 7)


def test_overrides_of_the_engines_own_reply_with_n_choices(admin: Admin, client: OpenAI) -> None:
    admin.stub(reply={"usage": {"completion_tokens": 10}, "finish_reason": "content_filter"})
    reply = ask(client, [user("hi")], n=3)
    assert [choice.finish_reason for choice in reply.choices] == ["content_filter"] * 3
    assert reply.usage is not None and reply.usage.completion_tokens == 10


@pytest.mark.parametrize("stream", [False, True])
def test_usage_and_finish_reason_on_responses(admin: Admin, client: OpenAI, stream: bool) -> None:
    admin.stub(
        reply={
            "text": "Partial",
            "usage": {"input_tokens": 50, "output_tokens": 3},
            "finish_reason": "length",
        }
    )
    if stream:
        events = list(client.responses.create(model="gpt-4", input="hi", stream=True))
        assert events[-1].type == "response.incomplete"
        response = events[-1].response
    else:
        response = client.responses.create(model="gpt-4", input="hi")
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (50, 3)
    assert response.output_text == "Partial"


def test_latency_ms_delays_the_first_byte_unless_the_request_sets_its_own(
    admin: Admin, client: OpenAI
) -> None:
    admin.stub(match={"last_user_message": "slow"}, reply={"text": "late", "latency_ms": 400})
    started = time.monotonic()
    assert ask(client, [user("slow")]).choices[0].message.content == "late"
    assert time.monotonic() - started >= 0.4
    admin.stub(match={"last_user_message": "own"}, reply={"text": "mine", "latency_ms": 3000})
    started = time.monotonic()
    own = ask(client, [user("own")], extra_headers={"X-Mock-Latency-Ms": "10"})
    assert own.choices[0].message.content == "mine"
    assert time.monotonic() - started < 3.0  # the header's 10 ms, not the stub's 3 s


def test_a_sequence_step_with_chaos_draws_per_use(admin: Admin, live_server: RunningServer) -> None:
    admin.stub(
        replies=[{"text": "calm"}, {"text": "stormy", "chaos": {"server_error": 1}}],
        after_last="cycle",
    )
    statuses = [
        requests.post(
            f"{live_server.base_url}/chat/completions",
            json={"model": "gpt-4", "messages": [user("go")]},
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=30,
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 500, 200, 500]


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("stub", "param"),
    [
        ({"reply": {"text": "x"}, "replies": [{"text": "y"}]}, "[0].reply"),
        ({"match": {}}, "[0].reply"),
        ({"reply": {"text": "x"}, "after_last": "cycle"}, "[0].after_last"),
        ({"replies": [{"text": "x"}], "after_last": "never"}, "[0].after_last"),
        ({"replies": []}, "[0].replies"),
        ({"replies": [{"text": "x"}, {"text": "y", "fault": "timeout"}]}, "[0].replies[1]"),
        ({"reply": {"tool_calls": []}}, "[0].reply.tool_calls"),
        ({"reply": {"tool_calls": [{"arguments": {}}]}}, "[0].reply.tool_calls[0].name"),
        ({"reply": {"text": "x", "usage": {"prompt_tokens": -1}}}, "[0].reply.usage.prompt_tokens"),
        (
            {"reply": {"text": "x", "usage": {"prompt_tokens": 1, "input_tokens": 1}}},
            "[0].reply.usage",
        ),
        ({"reply": {"error": {"status": 429}, "usage": {"output_tokens": 1}}}, "[0].reply.usage"),
        ({"reply": {"fault": "timeout", "finish_reason": "stop"}}, "[0].reply.finish_reason"),
        ({"reply": {"text": "x", "finish_reason": "done"}}, "[0].reply.finish_reason"),
        ({"reply": {"text": "x", "latency_ms": 60_001}}, "[0].reply.latency_ms"),
        ({"reply": {"text": "x", "latency_ms": 1.5}}, "[0].reply.latency_ms"),
        ({"match": {"turns": -1}, "reply": {"text": "x"}}, "[0].match.turns"),
        ({"match": {"turns": {"min": 3, "max": 2}}, "reply": {"text": "x"}}, "[0].match.turns"),
        ({"match": {"turns": {"least": 1}}, "reply": {"text": "x"}}, "[0].match.turns"),
        ({"match": {"has_tool_result": 1}, "reply": {"text": "x"}}, "[0].match.has_tool_result"),
    ],
)
def test_a_bad_new_field_is_a_400_naming_it(
    live_server: RunningServer, stub: dict[str, Any], param: str
) -> None:
    response = requests.post(
        f"{live_server.url}/_mock/stubs",
        json=[stub],
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=10,
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == param
    assert param in error["message"] or error["param"].endswith(".name")
