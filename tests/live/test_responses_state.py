"""Stored responses: retrieve, delete, continue with `previous_response_id`, across workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import requests
from openai import OpenAI

from harness.spec import Operation
from harness.validate import validate_response
from mockserver.db import Database
from mockserver.store import TABLES, ResponseStore
from tests.fixtures.servers import API_KEY, RunningServer, start_server

MODEL = "gpt-4"
QUESTION = "Explain how contract testing helps API teams"
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
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def test_store_then_retrieve_then_delete(client: OpenAI, responses_operation: Operation) -> None:
    created = client.responses.create(model=MODEL, input=QUESTION, store=True)
    assert created.store is True
    retrieved = client.responses.retrieve(created.id)
    assert retrieved.model_dump() == created.model_dump()
    raw = client.responses.with_raw_response.retrieve(created.id).http_response.json()
    assert validate_response(responses_operation, raw) == []

    raw_delete = client.responses.with_raw_response.delete(created.id)
    assert raw_delete.http_response.json() == {
        "id": created.id,
        "object": "response",
        "deleted": True,
    }
    with pytest.raises(openai.NotFoundError) as gone:
        client.responses.retrieve(created.id)
    assert created.id in gone.value.message
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(created.id)


def test_delete_through_the_sdk_returns_none(client: OpenAI) -> None:
    created = client.responses.create(model=MODEL, input="Hello", store=True)
    client.responses.delete(created.id)  # the SDK expects no body it reads
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(created.id)


def test_not_stored_by_default(client: OpenAI) -> None:
    created = client.responses.create(model=MODEL, input="Hello")
    assert created.store is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model=MODEL, input="And then?", previous_response_id=created.id)


def test_previous_response_id_continues_the_conversation(client: OpenAI) -> None:
    first = client.responses.create(model=MODEL, input=QUESTION, store=True)
    second = client.responses.create(
        model=MODEL, input="Tell me more", previous_response_id=first.id, store=True
    )
    third = client.responses.create(model=MODEL, input="Thanks!", previous_response_id=second.id)
    assert second.previous_response_id == first.id
    assert first.usage is not None and second.usage is not None and third.usage is not None
    # The earlier turns (input and output) are part of what the model reads.
    assert second.usage.input_tokens > first.usage.input_tokens + first.usage.output_tokens
    assert third.usage.input_tokens > second.usage.input_tokens + second.usage.output_tokens
    # ... and answer exactly like the same conversation sent inline.
    inline = client.responses.create(
        model=MODEL,
        input=[
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": first.output_text},
            {"role": "user", "content": "Tell me more"},
        ],
    )
    assert inline.output_text == second.output_text
    assert inline.usage is not None and inline.usage.input_tokens == second.usage.input_tokens


def test_instructions_are_not_carried_over(client: OpenAI) -> None:
    first = client.responses.create(
        model=MODEL, input="Hello", instructions="Be brief and polite.", store=True
    )
    after = client.responses.create(model=MODEL, input="Thanks", previous_response_id=first.id)
    assert after.instructions is None
    # The continuation reads the earlier turns without the earlier instructions.
    inline = client.responses.create(
        model=MODEL,
        input=[
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": first.output_text},
            {"role": "user", "content": "Thanks"},
        ],
    )
    assert after.usage is not None and inline.usage is not None
    assert after.usage.input_tokens == inline.usage.input_tokens
    assert after.output_text == inline.output_text


def test_unknown_previous_response_id_is_a_404_naming_it(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(
            model=MODEL, input="Hello", previous_response_id="resp_does_not_exist"
        )
    assert caught.value.status_code == 404
    assert caught.value.param == "previous_response_id"
    assert "resp_does_not_exist" in caught.value.message


def test_tool_round_trip_through_previous_response_id(client: OpenAI) -> None:
    first = client.responses.create(
        model=MODEL, input="What's the weather in Paris?", tools=[WEATHER_TOOL], store=True
    )
    [call] = first.output
    assert call.type == "function_call"
    answer = client.responses.create(
        model=MODEL,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "18C, sunny"}],
        tools=[WEATHER_TOOL],
    )
    assert [item.type for item in answer.output] == ["message"]
    assert "18C, sunny" in answer.output_text


def test_streamed_response_is_stored_as_it_ended(client: OpenAI) -> None:
    with client.responses.stream(model=MODEL, input=QUESTION, store=True) as stream:
        final = stream.get_final_response()
    retrieved = client.responses.retrieve(final.id)
    assert retrieved.output_text == final.output_text
    assert retrieved.usage == final.usage
    assert retrieved.status == "completed"
    follow_up = client.responses.create(
        model=MODEL, input="Tell me more", previous_response_id=final.id
    )
    assert follow_up.usage is not None and final.usage is not None
    assert follow_up.usage.input_tokens > final.usage.input_tokens + final.usage.output_tokens


# --------------------------------------------------------------------------- two workers


@pytest.fixture(scope="module")
def shared_state_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of its own with two workers sharing an explicit state file."""
    folder = tmp_path_factory.mktemp("shared-state")
    server = start_server(
        ["--api-key", API_KEY, "--workers", "2", "--state", str(folder / "state.sqlite3")],
        log_dir=folder,
    )
    yield server
    server.stop()


def test_every_worker_sees_every_stored_response(shared_state_server: RunningServer) -> None:
    url = f"{shared_state_server.base_url}/responses"
    # No session: each request opens a new connection, so either worker may answer it.
    created = []
    for number in range(40):
        reply = requests.post(
            url,
            json={"model": MODEL, "input": f"Question number {number}", "store": True},
            headers=AUTH,
            timeout=10,
        )
        assert reply.status_code == 200, reply.text
        created.append(reply.json())
    for body in created:
        for _ in range(4):
            found = requests.get(f"{url}/{body['id']}", headers=AUTH, timeout=10)
            assert found.status_code == 200, found.text
            assert found.json() == body
    chained = requests.post(
        url,
        json={"model": MODEL, "input": "More", "previous_response_id": created[-1]["id"]},
        headers=AUTH,
        timeout=10,
    )
    assert chained.status_code == 200, chained.text
    deleted = requests.delete(f"{url}/{created[0]['id']}", headers=AUTH, timeout=10)
    assert deleted.json()["deleted"] is True
    for _ in range(4):
        gone = requests.get(f"{url}/{created[0]['id']}", headers=AUTH, timeout=10)
        assert gone.status_code == 404


# --------------------------------------------------------------------------- the bound


def test_store_keeps_only_the_newest(tmp_path: Path) -> None:
    store = ResponseStore(Database(tmp_path / "state.sqlite3", schema=TABLES), limit=3)
    for number in range(5):
        store.save(f"resp_{number}", {"id": f"resp_{number}"}, [{"role": "user", "content": "x"}])
    kept = [f"resp_{n}" for n in range(5) if store.get(f"resp_{n}") is not None]
    assert kept == ["resp_2", "resp_3", "resp_4"]
    stored = store.get("resp_4")
    assert stored is not None
    assert stored.body == {"id": "resp_4"}
    assert stored.conversation == [{"role": "user", "content": "x"}]
    assert store.delete("resp_4") is True
    assert store.delete("resp_4") is False


def test_store_keeps_text_sqlite_cannot_encode(tmp_path: Path) -> None:
    store = ResponseStore(Database(tmp_path / "state.sqlite3", schema=TABLES))
    odd = "lone \ud800 surrogate"
    store.save("resp_odd", {"output_text": odd}, [{"role": "user", "content": odd}])
    stored = store.get("resp_odd")
    assert stored is not None and stored.body["output_text"] == odd


@pytest.mark.parametrize("how", ["retrieve", "stream"])
def test_streaming_a_stored_response_is_refused_not_answered_empty(
    client: OpenAI, how: str
) -> None:
    # `retrieve(id, stream=True)` and `responses.stream(response_id=id)` read the answer as
    # events; a JSON body left the SDK's iterator silently empty. The live API streams a
    # retrieve only for background responses, which the mock never makes.
    created = client.responses.create(model=MODEL, input="Hello", store=True)
    with pytest.raises(openai.BadRequestError) as refused:
        if how == "retrieve":
            list(client.responses.retrieve(created.id, stream=True))
        else:
            with client.responses.stream(response_id=created.id) as stream:
                list(stream)
    assert refused.value.param == "stream"
    assert "background" in refused.value.message
    # A plain retrieve, and stream=false, still answer the response.
    assert client.responses.retrieve(created.id).id == created.id
    raw = client.responses.with_raw_response.retrieve(created.id, stream=False)
    assert raw.http_response.json()["id"] == created.id
