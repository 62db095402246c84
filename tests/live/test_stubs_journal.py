"""Stubs and the journal through the admin API, against `harness serve` with two workers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import openai
import pytest
import requests
from openai import OpenAI

from tests.fixtures.admin import Admin
from tests.fixtures.servers import API_KEY, RunningServer, start_server

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def chat(server: RunningServer, content: str, **extra: Any) -> requests.Response:
    # A fresh connection per call (no session): with two workers, calls land on both.
    return requests.post(
        f"{server.base_url}/chat/completions",
        json={"model": "gpt-4", "messages": [{"role": "user", "content": content}], **extra},
        headers=AUTH,
        timeout=10,
    )


def test_text_stub_answers_plain_streamed_and_on_responses(admin: Admin, client: OpenAI) -> None:
    admin.stub(match={"last_user_message": "^ping$"}, reply={"text": "pong from the stub"})
    plain = client.chat.completions.create(
        model="gpt-4", messages=[{"role": "user", "content": "ping"}]
    )
    assert plain.choices[0].message.content == "pong from the stub"
    assert plain.usage is not None and plain.usage.completion_tokens == 4
    streamed = "".join(
        chunk.choices[0].delta.content or ""
        for chunk in client.chat.completions.create(
            model="gpt-4", messages=[{"role": "user", "content": "ping"}], stream=True
        )
    )
    assert streamed == "pong from the stub"
    assert client.responses.create(model="gpt-4", input="ping").output_text == "pong from the stub"
    unmatched = client.chat.completions.create(
        model="gpt-4", messages=[{"role": "user", "content": "ping pong"}]
    )
    assert unmatched.choices[0].message.content != "pong from the stub"


def test_tool_call_stub(admin: Admin, client: OpenAI) -> None:
    admin.stub(
        match={"endpoint": "/chat/completions"},
        reply={"tool_call": {"name": "lookup", "arguments": {"id": 7}}},
    )
    reply = client.chat.completions.create(
        model="gpt-4", messages=[{"role": "user", "content": "anything"}]
    )
    (call,) = reply.choices[0].message.tool_calls or []
    assert call.function.name == "lookup"
    assert json.loads(call.function.arguments) == {"id": 7}
    assert reply.choices[0].finish_reason == "tool_calls"


def test_error_stub_and_fault_stub(admin: Admin, client: OpenAI) -> None:
    admin.stub(
        match={"body": {"temperature": 0.25}},
        reply={
            "error": {"status": 403, "type": "permission_error", "code": "nope", "message": "No."}
        },
    )
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client.chat.completions.create(
            model="gpt-4", messages=[{"role": "user", "content": "x"}], temperature=0.25
        )
    assert caught.value.code == "nope"
    assert caught.value.body == {
        "message": "No.",
        "type": "permission_error",
        "param": None,
        "code": "nope",
    }
    admin.stub(match={"last_user_message": "cut"}, reply={"fault": "overloaded"})
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "cut"}])


def test_priority_then_newest_wins_and_times_runs_out(
    admin: Admin, live_server: RunningServer
) -> None:
    admin.stub(reply={"text": "low"}, priority=-1)
    admin.stub(reply={"text": "old"})
    admin.stub(reply={"text": "new"}, times=2)
    answers = [chat(live_server, "hi").json()["choices"][0]["message"]["content"] for _ in range(4)]
    assert answers == ["new", "new", "old", "old"]
    listed = {stub["reply"]["text"]: stub for stub in admin.stubs()}
    assert listed["new"]["used"] == 2 and listed["old"]["used"] == 2 and listed["low"]["used"] == 0


def test_times_is_counted_once_across_workers(admin: Admin, live_server: RunningServer) -> None:
    admin.stub(match={"last_user_message": "count"}, reply={"text": "stubbed"}, times=5)
    answers = [
        chat(live_server, "count me").json()["choices"][0]["message"]["content"] for _ in range(20)
    ]
    assert answers.count("stubbed") == 5
    assert len(admin.requests(path="/v1/chat/completions")) == 20


def test_model_and_endpoint_matching(admin: Admin, client: OpenAI) -> None:
    admin.stub(
        match={"endpoint": "/v1/responses", "model": "gpt-4"}, reply={"text": "responses only"}
    )
    chat_reply = client.chat.completions.create(
        model="gpt-4", messages=[{"role": "user", "content": "x"}]
    )
    assert chat_reply.choices[0].message.content != "responses only"
    assert client.responses.create(model="gpt-4", input="x").output_text == "responses only"


@pytest.mark.parametrize(
    ("stub", "param"),
    [
        ({}, "reply"),
        ({"reply": {}}, "reply"),
        ({"reply": {"text": "a", "fault": "timeout"}}, "reply"),
        ({"reply": {"fault": "explode"}}, "reply.fault"),
        ({"reply": {"error": {"status": 200}}}, "reply.error.status"),
        ({"reply": {"tool_call": {"arguments": {}}}}, "reply.tool_call.name"),
        ({"reply": {"text": "a"}, "times": 0}, "times"),
        ({"reply": {"text": "a"}, "match": {"last_user_message": "("}}, "match.last_user_message"),
        ({"reply": {"text": "a"}, "match": {"colour": "red"}}, "match"),
        ([{"reply": {"text": "a"}}, {"reply": 5}], "[1].reply"),
    ],
)
def test_invalid_stubs_are_400_naming_the_field(admin: Admin, stub: Any, param: str) -> None:
    response = requests.post(f"{admin.url}/_mock/stubs", json=stub, headers=AUTH, timeout=10)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param, error
    assert error["code"] == "invalid_stub"
    assert admin.stubs() == []


def test_delete_one_stub_and_all(admin: Admin) -> None:
    first = admin.stub(reply={"text": "a"})
    admin.stub(reply={"text": "b"})
    assert requests.delete(
        f"{admin.url}/_mock/stubs/{first['id']}", headers=AUTH, timeout=10
    ).json() == {"deleted": 1}
    assert (
        requests.delete(
            f"{admin.url}/_mock/stubs/{first['id']}", headers=AUTH, timeout=10
        ).status_code
        == 404
    )
    assert requests.delete(f"{admin.url}/_mock/stubs", headers=AUTH, timeout=10).json() == {
        "deleted": 1
    }


def test_journal_records_what_was_sent_and_answered(
    admin: Admin, live_server: RunningServer
) -> None:
    stub = admin.stub(match={"last_user_message": "stubbed"}, reply={"text": "ok"})
    chat(live_server, "hello there")
    chat(live_server, "stubbed please", stream=True)
    bad = requests.post(
        f"{live_server.base_url}/chat/completions",
        json={"model": "gpt-4", "messages": [{"role": "user", "content": 5}]},
        headers=AUTH,
        timeout=10,
    )
    assert bad.status_code == 400
    requests.post(f"{live_server.base_url}/chat/completions", json={}, timeout=10)  # no key
    # Each worker journals in its own order: sorted by when the requests came.
    entries = sorted(admin.requests(), key=lambda entry: entry["time"])
    assert [entry["status"] for entry in entries] == [200, 200, 400, 401]
    first, second, third, fourth = entries
    assert first["method"] == "POST" and first["path"] == "/v1/chat/completions"
    assert first["body"]["messages"][0]["content"] == "hello there"
    assert first["valid"] is True and first["stub_id"] is None and first["stream"] is False
    assert second["stub_id"] == stub["id"] and second["stream"] is True
    assert third["valid"] is False
    assert third["violations"][0]["param"] == "messages[0].content"
    assert fourth["valid"] is None
    assert API_KEY not in json.dumps(entries)
    assert [e["status"] for e in admin.requests(status=400)] == [400]
    assert len(admin.requests(limit=2)) == 2
    assert (
        requests.get(f"{admin.url}/_mock/requests?colour=red", headers=AUTH, timeout=10).status_code
        == 400
    )
    assert requests.delete(f"{admin.url}/_mock/requests", headers=AUTH, timeout=10).json() == {
        "deleted": 4
    }
    assert admin.requests() == []


def test_a_body_too_deep_to_record_is_journaled_and_the_journal_goes_on(
    admin: Admin, live_server: RunningServer
) -> None:
    deep = b'{"model": "gpt-4", "messages": ' + b"[" * 900 + b"]" * 900 + b"}"
    for _ in range(2):  # both workers, most likely
        answer = requests.post(
            f"{live_server.base_url}/chat/completions",
            data=deep,
            headers={**AUTH, "Content-Type": "application/json"},
            timeout=10,
        )
        assert answer.status_code == 400
    chat(live_server, "still journaled")
    chat(live_server, "and this too")
    # Each worker journals in its own order: sorted by when the requests came.
    entries = sorted(admin.requests(), key=lambda entry: entry["time"])
    assert [entry["status"] for entry in entries] == [400, 400, 200, 200]
    assert entries[-1]["body"]["messages"][0]["content"] == "and this too"


def test_stubs_file_loaded_at_start(tmp_path: Path) -> None:
    stubs = tmp_path / "stubs.yaml"
    stubs.write_text(
        "stubs:\n  - match: {last_user_message: weather}\n    reply: {text: Always sunny.}\n"
    )
    server = start_server(["--stubs", str(stubs), "--workers", "1"], log_dir=tmp_path)
    try:
        answer = chat(server, "what's the weather?").json()["choices"][0]["message"]["content"]
        assert answer == "Always sunny."
    finally:
        server.stop()


def serve_with_stubs(stubs: Path) -> subprocess.CompletedProcess[str]:
    """`harness serve --stubs` expected to refuse the file and exit."""
    return subprocess.run(
        [sys.executable, "-m", "harness", "serve", "--stubs", str(stubs)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_bad_stubs_file_is_a_clear_error(tmp_path: Path) -> None:
    stubs = tmp_path / "stubs.yaml"
    stubs.write_text("- reply: {fault: explode}\n")
    result = serve_with_stubs(stubs)
    assert result.returncode != 0
    assert "[0].reply.fault" in result.stderr
    assert "Traceback" not in result.stderr


# Six levels of nine aliases: 531,441 repetitions of "x" from some 300 bytes.
LAUGHS = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
        for previous, name in zip("abcde", "bcdef", strict=True)
    )
).encode()


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"a: &a [*a]\n", "contains it"),
        (LAUGHS, "billion laughs"),
    ],
    ids=["not-utf8", "self-alias", "billion-laughs"],
)
def test_an_unreadable_stubs_file_is_a_one_line_error(
    tmp_path: Path, content: bytes, named: str
) -> None:
    stubs = tmp_path / "stubs.yaml"
    stubs.write_bytes(content)
    result = serve_with_stubs(stubs)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert named in result.stderr and "cannot read stubs" in result.stderr, result.stderr


def test_a_stubs_file_is_loaded_once_into_the_state(tmp_path: Path) -> None:
    # Restarts on one state file, and a second instance beside the first, load the same
    # --stubs file: its stubs are not added again, and a `times: 1` stub still answers once.
    stubs = tmp_path / "stubs.yaml"
    stubs.write_text(
        "- match: {last_user_message: ping}\n  reply: {text: pong}\n  times: 1\n"
        "- id: named\n  match: {last_user_message: weather}\n  reply: {text: Sunny.}\n  times: 1\n"
    )
    state = tmp_path / "state.sqlite3"
    arguments = ["--stubs", str(stubs), "--state", str(state), "--workers", "1"]

    def text(server: RunningServer, content: str) -> str:
        answer = chat(server, content).json()
        return str(answer["choices"][0]["message"]["content"])

    first = start_server(arguments, log_dir=tmp_path)
    try:
        assert text(first, "ping") == "pong"
        assert text(first, "weather?") == "Sunny."
        second = start_server(arguments, log_dir=tmp_path)  # a second instance, same state
        try:
            assert text(second, "ping") != "pong"
            assert text(second, "weather?") != "Sunny."
            listed = requests.get(f"{second.url}/_mock/stubs", timeout=10).json()["data"]
            assert len(listed) == 2, listed
        finally:
            second.stop()
    finally:
        first.stop()
    restarted = start_server(arguments, log_dir=tmp_path)
    try:
        assert text(restarted, "ping") != "pong"
        assert len(requests.get(f"{restarted.url}/_mock/stubs", timeout=10).json()["data"]) == 2
    finally:
        restarted.stop()
    # An edited stub is the new one, counted afresh.
    stubs.write_text(
        "- id: named\n  match: {last_user_message: weather}\n  reply: {text: Rainy.}\n  times: 1\n"
    )
    edited = start_server(arguments, log_dir=tmp_path)
    try:
        assert text(edited, "weather?") == "Rainy."
    finally:
        edited.stop()
