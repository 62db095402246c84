"""A stream that fails after it started: HTTP 200, some frames, then the live API's error.

Chat ends with ``data: {"error": {...}}`` and no ``[DONE]``; Responses with an ``error``
event (details nested under ``error``) and ``response.failed``. The official SDK raises
``openai.APIError`` (not an ``APIStatusError``: the status was 200) and does not retry.
Chosen by ``X-Mock-Fault: stream_error`` (``X-Mock-Fault-After-Frames``,
``X-Mock-Fault-Error-Type``, ``X-Mock-Fault-Error-Code``) or by a stub's reply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from harness.spec import JSON, Operation
from harness.sse import DONE, decode_stream
from harness.validate import validate_event, validate_response, validate_stream
from tests.fixtures.admin import Admin
from tests.fixtures.servers import API_KEY, RunningServer

HELLO = [{"role": "user", "content": "Hello"}]
STORY = "Tell me a story about contract testing"
CHAT_PATH = "/v1/chat/completions"
RESPONSES_PATH = "/v1/responses"


def stream_error(after: int | None = None, **details: str) -> dict[str, str]:
    headers = {"X-Mock-Fault": "stream_error"}
    if after is not None:
        headers["X-Mock-Fault-After-Frames"] = str(after)
    for name, value in details.items():
        headers[f"X-Mock-Fault-Error-{name.title()}"] = value
    return headers


@pytest.fixture
def retrying(live_server: RunningServer) -> Iterator[OpenAI]:
    """The SDK as applications use it: with its default retries on (two).

    Not over the spec-checking recorder: the SDK stops reading at the error, so what it
    read of a Responses stream lacks ``response.failed`` (the raw-wire tests check that).
    """
    client = OpenAI(base_url=live_server.base_url, api_key=API_KEY, max_retries=2, timeout=30)
    with client:
        yield client


@pytest.fixture
def http(live_server: RunningServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=30) as client:
        yield client


# --------------------------------------------------------------------------- the SDK's view


def test_chat_sdk_raises_api_error_and_does_not_retry(retrying: OpenAI, admin: Admin) -> None:
    received: list[Any] = []
    stream = retrying.chat.completions.create(
        model="gpt-4", messages=HELLO, stream=True, extra_headers=stream_error(after=4)
    )
    with pytest.raises(openai.APIError) as caught:
        for chunk in stream:
            received.append(chunk)
    error = caught.value
    assert not isinstance(error, openai.APIStatusError)  # the status line said 200
    assert len(received) == 4
    assert error.body == {
        "message": error.message,
        "type": "server_error",
        "param": None,
        "code": "server_error",
    }
    assert error.code == "server_error" and error.type == "server_error"
    [entry] = admin.requests(path=CHAT_PATH)
    assert (entry["status"], entry["fault"], entry["stream"]) == (200, "stream_error", True)


def test_responses_sdk_raises_api_error_and_does_not_retry(retrying: OpenAI, admin: Admin) -> None:
    headers = stream_error(after=5, type="rate_limit", code="rate_limit_exceeded")
    types: list[str] = []
    with pytest.raises(openai.APIError) as caught:
        for event in retrying.responses.create(
            model="gpt-4", input=STORY, stream=True, extra_headers=headers
        ):
            types.append(event.type)
    error = caught.value
    assert not isinstance(error, openai.APIStatusError)
    assert len(types) == 5 and types[0] == "response.created"
    assert error.code == "rate_limit_exceeded" and error.type == "rate_limit"
    # The stream helper (the accumulator behind `responses.stream`) raises the same.
    with (
        pytest.raises(openai.APIError),
        retrying.responses.stream(model="gpt-4", input=STORY, extra_headers=headers) as events,
    ):
        events.get_final_response()
    entries = admin.requests(path=RESPONSES_PATH)
    assert [(e["status"], e["fault"]) for e in entries] == [(200, "stream_error")] * 2


def test_the_async_sdk_raises_the_same_api_error_once(
    live_server: RunningServer, admin: Admin
) -> None:
    async def check() -> list[str]:
        seen: list[str] = []
        async with openai.AsyncOpenAI(
            base_url=live_server.base_url, api_key=API_KEY, max_retries=2, timeout=30
        ) as client:
            for kind in ("chat", "responses"):
                try:
                    if kind == "chat":
                        async for _ in await client.chat.completions.create(
                            model="gpt-4", messages=HELLO, stream=True, extra_headers=stream_error()
                        ):
                            pass
                    else:
                        async for _ in await client.responses.create(
                            model="gpt-4", input="Hello", stream=True, extra_headers=stream_error()
                        ):
                            pass
                except openai.APIStatusError:
                    seen.append(f"{kind}: status error")
                except openai.APIError as error:
                    seen.append(f"{kind}: {error.code}")
        return seen

    assert asyncio.run(check()) == ["chat: server_error", "responses: server_error"]
    assert len(admin.requests()) == 2


def test_a_plain_request_gets_the_error_as_a_500_and_the_sdk_retries_it(
    retrying: OpenAI, admin: Admin
) -> None:
    # Without a stream there is nothing to fail part-way: the request fails as a whole,
    # which the SDK retries like any 5xx.
    with pytest.raises(openai.InternalServerError) as caught:
        retrying.chat.completions.create(
            model="gpt-4", messages=HELLO, extra_headers=stream_error(code="engine_failed")
        )
    assert caught.value.status_code == 500 and caught.value.code == "engine_failed"
    assert [e["status"] for e in admin.requests(path=CHAT_PATH)] == [500, 500, 500]


# --------------------------------------------------------------------------- the raw wire


def test_the_chat_wire_ends_with_the_error_and_no_done(
    http: httpx.Client, chat_operation: Operation
) -> None:
    body = {"model": "gpt-4", "messages": HELLO, "stream": True}
    response = http.post(CHAT_PATH, json=body, headers=stream_error(after=3))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = decode_stream(response.content)
    assert [event.data for event in events if event.data == DONE] == []
    *chunks, last = [event.json() for event in events]
    assert len(chunks) == 3
    for chunk in chunks:
        assert validate_event(chat_operation, chunk) == []
    assert list(last) == ["error"] and "obfuscation" not in last
    assert last["error"]["type"] == "server_error" and last["error"]["code"] == "server_error"
    assert validate_response(chat_operation, last, "500", JSON) == []


def test_the_responses_wire_ends_with_error_and_response_failed(
    http: httpx.Client, responses_operation: Operation
) -> None:
    body = {"model": "gpt-4", "input": STORY, "stream": True, "store": True}
    headers = stream_error(after=6, type="server_error", code="server_error")
    response = http.post(RESPONSES_PATH, json=body, headers=headers)
    assert response.status_code == 200
    assert validate_stream(responses_operation, response.content) == []
    events = [event.json() for event in decode_stream(response.content)]
    assert len(events) == 8
    error, failed = events[-2:]
    assert error == {
        "type": "error",
        "sequence_number": 6,
        "error": {
            "type": "server_error",
            "code": "server_error",
            "message": error["error"]["message"],
            "param": None,
        },
    }
    assert failed["type"] == "response.failed" and failed["sequence_number"] == 7
    failure = failed["response"]
    assert failure["status"] == "failed" and failure["usage"] is None
    assert failure["error"] == {"code": "server_error", "message": error["error"]["message"]}
    # What is stored is the failed response, as the live API keeps it.
    stored = http.get(f"{RESPONSES_PATH}/{failure['id']}").json()
    assert stored["status"] == "failed" and stored["error"] == failure["error"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (CHAT_PATH, {"model": "gpt-4", "messages": HELLO, "stream": True}),
        (RESPONSES_PATH, {"model": "gpt-4", "input": "Hello", "stream": True}),
    ],
    ids=["chat", "responses"],
)
def test_a_count_past_the_end_fails_in_place_of_the_end(
    http: httpx.Client, path: str, body: dict[str, Any]
) -> None:
    whole = [
        event.json()
        for event in decode_stream(http.post(path, json=body).content)
        if event.data != DONE
    ]
    failed = http.post(path, json=body, headers=stream_error(after=100_000))
    events = [event.json() for event in decode_stream(failed.content)]
    if path == CHAT_PATH:
        assert len(events) == len(whole) + 1 and "error" in events[-1]
    else:
        # Everything but the terminal event, then error and response.failed.
        assert [e["type"] for e in events] == [
            *(e["type"] for e in whole[:-1]),
            "error",
            "response.failed",
        ]


@pytest.mark.parametrize("after", [0, 1, 2, 100_000])
def test_every_failed_stream_is_valid_wire(
    http: httpx.Client, chat_operation: Operation, responses_operation: Operation, after: int
) -> None:
    headers = stream_error(after=after)
    chat = {"model": "gpt-4", "messages": HELLO, "stream": True}
    raw = http.post(CHAT_PATH, json=chat, headers=headers).content
    assert validate_stream(chat_operation, raw) == []
    events = decode_stream(raw)
    assert "error" in events[-1].json()
    if after < 100_000:
        assert len(events) == after + 1
    responses = {"model": "gpt-4", "input": "Hello", "stream": True}
    raw = http.post(RESPONSES_PATH, json=responses, headers=headers).content
    assert validate_stream(responses_operation, raw) == []
    # Even asked to fail at once, a Responses stream opens with response.created.
    assert decode_stream(raw)[0].json()["type"] == "response.created"


# --------------------------------------------------------------------------- stubs


def test_a_stub_reply_chooses_the_stream_error(
    retrying: OpenAI, admin: Admin, responses_operation: Operation, http: httpx.Client
) -> None:
    admin.stub(
        match={"last_user_message": "fail me"},
        reply={
            "stream_error": {
                "after_frames": 2,
                "type": "invalid_request_error",
                "code": "context_length_exceeded",
                "message": "Too long.",
            }
        },
    )
    chunks = 0
    with pytest.raises(openai.APIError) as caught:
        for _ in retrying.chat.completions.create(
            model="gpt-4", messages=[{"role": "user", "content": "fail me"}], stream=True
        ):
            chunks += 1
    assert chunks == 2 and caught.value.message == "Too long."
    assert caught.value.code == "context_length_exceeded"
    body = {"model": "gpt-4", "input": "please fail me", "stream": True}
    raw = http.post(RESPONSES_PATH, json=body).content
    assert validate_stream(responses_operation, raw) == []
    events = [event.json() for event in decode_stream(raw)]
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "error",
        "response.failed",
    ]
    assert events[2]["error"]["message"] == "Too long."
    assert [e["stub_id"] is not None for e in admin.requests()] == [True, True]


def test_a_stub_fault_stream_error_uses_the_defaults(retrying: OpenAI, admin: Admin) -> None:
    admin.stub(reply={"fault": "stream_error"})
    received = 0
    with pytest.raises(openai.APIError) as caught:
        for _ in retrying.chat.completions.create(model="gpt-4", messages=HELLO, stream=True):
            received += 1
    assert received == 3 and caught.value.code == "server_error"


@pytest.mark.parametrize(
    ("reply", "param"),
    [
        ({"stream_error": {"after_frames": -1}}, "reply.stream_error.after_frames"),
        ({"stream_error": {"code": ""}}, "reply.stream_error.code"),
        ({"stream_error": {"colour": "red"}}, "reply.stream_error"),
    ],
)
def test_bad_stub_stream_errors_are_refused_naming_the_field(
    admin: Admin, reply: dict[str, Any], param: str
) -> None:
    response = httpx.post(
        f"{admin.url}/_mock/stubs", json={"reply": reply}, headers=admin.headers, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


# --------------------------------------------------------------------------- bad headers


@pytest.mark.parametrize(
    ("headers", "param", "listed"),
    [
        ({"X-Mock-Fault-After-Frames": "-1"}, "X-Mock-Fault-After-Frames", "0 to 100000"),
        ({"X-Mock-Fault-After-Frames": "many"}, "X-Mock-Fault-After-Frames", "0 to 100000"),
        ({"X-Mock-Fault-Error-Code": "no spaces"}, "X-Mock-Fault-Error-Code", "letters"),
        ({"X-Mock-Fault-Error-Type": "x" * 65}, "X-Mock-Fault-Error-Type", "1 to 64"),
        (
            {"X-Mock-Fault": "rate_limit", "X-Mock-Fault-After-Frames": "2"},
            "X-Mock-Fault-After-Frames",
            "disconnect, malformed, stream_error",
        ),
        (  # the header sent is the one named (Error-Type was, though never sent)
            {"X-Mock-Fault": "disconnect", "X-Mock-Fault-Error-Code": "server_error"},
            "X-Mock-Fault-Error-Code",
            "stream_error",
        ),
        (
            {"X-Mock-Fault": "malformed", "X-Mock-Fault-Error-Type": "server_error"},
            "X-Mock-Fault-Error-Type",
            "stream_error",
        ),
    ],
)
def test_bad_stream_error_headers_are_400_naming_the_header(
    http: httpx.Client, headers: dict[str, str], param: str, listed: str
) -> None:
    body = {"model": "gpt-4", "messages": HELLO, "stream": True}
    response = http.post(CHAT_PATH, json=body, headers=headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param and listed in error["message"]


def test_after_frames_moves_the_malformed_frame_too(http: httpx.Client) -> None:
    body = {"model": "gpt-4", "messages": HELLO, "stream": True}
    headers = {"X-Mock-Fault": "malformed", "X-Mock-Fault-After-Frames": "1"}
    text = http.post(CHAT_PATH, json=body, headers=headers).text
    # The broken frame comes right after the first chunk.
    assert text.split("\n\n")[1].startswith('data: {"id": "broken"')
