"""`harness serve --model NAME`: more model names, served as the gpt-4 document serves gpt-4.

An app written for `gpt-4o` must run against the mock unchanged: its requests are checked
against the gpt-4 document as if they named gpt-4, and every answer names the model asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from openai import OpenAI

from harness.testing import LiveServer
from mockserver import MockConfig, serving
from tests.fixtures.servers import API_KEY, RunningServer, start_server

ALIASES = ["gpt-4o", "gpt-4o-mini"]
HELLO = [{"role": "user", "content": "Hello"}]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    flags = [flag for alias in ALIASES for flag in ("--model", alias)]
    running = start_server(
        ["--api-key", API_KEY, "--workers", "2", *flags],
        log_dir=tmp_path_factory.mktemp("aliases"),
    )
    yield running
    running.stop()


@pytest.fixture
def client(server: RunningServer) -> Iterator[OpenAI]:
    with OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0, timeout=20) as sdk:
        yield sdk


def test_the_banner_names_the_extra_models(server: RunningServer) -> None:
    assert "gpt-4, gpt-4o, gpt-4o-mini" in server.log()


@pytest.mark.parametrize("model", ALIASES)
def test_chat_answers_and_streams_under_the_name_asked_for(client: OpenAI, model: str) -> None:
    completion = client.chat.completions.create(model=model, messages=HELLO)
    assert completion.model == model
    assert completion.choices[0].message.content
    chunks = list(client.chat.completions.create(model=model, messages=HELLO, stream=True))
    assert chunks
    assert {chunk.model for chunk in chunks} == {model}


def test_gpt_4_still_answers_with_its_snapshot(client: OpenAI) -> None:
    assert client.chat.completions.create(model="gpt-4", messages=HELLO).model == "gpt-4-0613"


def test_an_alias_is_validated_as_gpt_4(client: OpenAI) -> None:
    """The spec's `model` enum names gpt-4 only: the alias passes it, other faults do not."""
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="gpt-4o", messages=HELLO, temperature=5)
    assert raised.value.status_code == 400
    assert "temperature" in str(raised.value.body)
    assert "gpt-4o" not in str(raised.value.body)  # not a complaint about the model


def test_a_model_not_served_is_still_model_not_found(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model="gpt-5", messages=HELLO)
    body = raised.value.body
    assert isinstance(body, dict)
    assert body["code"] == "model_not_found"
    assert "`gpt-5`" in body["message"]
    assert "gpt-4o-mini" in body["message"]  # the models served here, aliases included
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="gpt-5", input="Hello")


def test_models_lists_and_retrieves_the_aliases(client: OpenAI) -> None:
    listed = [model.id for model in client.models.list()]
    assert listed == ["gpt-4", *ALIASES]
    assert client.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-5")


def test_responses_store_retrieve_and_chain_under_the_alias(client: OpenAI) -> None:
    first = client.responses.create(model="gpt-4o", input="Remember the word tangerine", store=True)
    assert first.model == "gpt-4o"
    # Two workers share the store: the retrieval may land on either.
    for _ in range(4):
        assert client.responses.retrieve(first.id).model == "gpt-4o"
    second = client.responses.create(
        model="gpt-4o-mini", input="What was the word?", previous_response_id=first.id, store=True
    )
    assert second.model == "gpt-4o-mini"
    assert second.previous_response_id == first.id
    assert second.usage is not None and first.usage is not None
    # The first turn (input and output) is part of what the model reads.
    assert second.usage.input_tokens > first.usage.input_tokens + first.usage.output_tokens
    assert client.responses.retrieve(second.id).model == "gpt-4o-mini"


def test_responses_stream_names_the_alias(client: OpenAI) -> None:
    events = list(client.responses.create(model="gpt-4o", input="Hello", stream=True))
    named = [event.response.model for event in events if hasattr(event, "response")]
    assert named
    assert set(named) == {"gpt-4o"}


def test_without_the_option_an_alias_is_model_not_found(tmp_path: Path) -> None:
    with (
        LiveServer() as live,
        OpenAI(base_url=live.base_url, api_key="k", max_retries=0) as sdk,
        pytest.raises(openai.NotFoundError),
    ):
        sdk.chat.completions.create(model="gpt-4o", messages=HELLO)


def test_mock_config_serves_aliases_to_the_plugin_and_live_server() -> None:
    with (
        LiveServer(MockConfig(model_aliases=("my-model",))) as live,
        OpenAI(base_url=live.base_url, api_key="k", max_retries=0) as sdk,
    ):
        assert sdk.chat.completions.create(model="my-model", messages=HELLO).model == "my-model"
        assert sdk.responses.create(model="my-model", input="Hi").model == "my-model"
        assert "my-model" in [model.id for model in sdk.models.list()]


def test_aliases_reach_granian_workers_started_fresh() -> None:
    """Workers started without fork rebuild the configuration from JSON, tuples and all."""
    config = MockConfig(model_aliases=("gpt-4o", "gpt-4o-mini"))
    assert serving._load_config(serving._dump_config(config)) == config
