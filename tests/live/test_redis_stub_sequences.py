"""A stub sequence on two `harness serve` instances sharing one Redis: each step is given
exactly once whichever instance (and worker) a request lands on, and the conversation's
turns count the stored responses either instance saved."""

from __future__ import annotations

import concurrent.futures
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from openai import OpenAI

from tests.fixtures.admin import Admin
from tests.fixtures.redis_server import RedisServer, redis_server
from tests.fixtures.servers import API_KEY, RunningServer, start_server

__all__ = ["redis_server"]  # fixtures this module uses

pytestmark = pytest.mark.slow
HEADERS = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="module")
def pair(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, RunningServer]]:
    """Two instances on one Redis (the first with two workers)."""
    prefix = f"test-{uuid.uuid4().hex[:12]}:"
    log_dir = tmp_path_factory.mktemp("sequences")
    servers = [
        start_server(
            [
                *("--api-key", API_KEY, "--workers", str(workers)),
                *("--state", redis_server.url, "--redis-prefix", prefix),
            ],
            log_dir=log_dir,
        )
        for workers in (2, 1)
    ]
    yield servers[0], servers[1]
    for server in servers:
        server.stop()


def chat(server: RunningServer, text: str) -> str:
    answer = requests.post(
        f"{server.base_url}/chat/completions",
        json={"model": "gpt-4", "messages": [{"role": "user", "content": text}]},
        headers=HEADERS,
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    content: str = answer.json()["choices"][0]["message"]["content"]
    return content


def test_each_step_is_given_once_across_instances(
    pair: tuple[RunningServer, RunningServer],
) -> None:
    a, b = pair
    Admin(a.url).reset()
    for server in (a, b):  # each builds its stub index before the stub exists
        chat(server, "warm up")
    steps = 20
    Admin(b.url).stub(
        match={"last_user_message": "^go$"},
        replies=[{"text": f"step {n}"} for n in range(steps)],
        after_last="stop_matching",
    )
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        said = list(pool.map(lambda server: chat(server, "go"), [a, b] * 15))
    stepped = sorted(text for text in said if text.startswith("step "))
    assert stepped == sorted(f"step {n}" for n in range(steps))
    (listed,) = Admin(a.url).stubs()
    assert listed["used"] == steps and listed["times"] == steps


def test_a_sequence_alternates_across_instances_in_order(
    pair: tuple[RunningServer, RunningServer],
) -> None:
    a, b = pair
    Admin(a.url).reset()
    Admin(a.url).stub(
        replies=[
            {"tool_call": {"name": "get_weather", "arguments": {"city": "Oslo"}}},
            {"text": "Snow in Oslo."},
        ],
        after_last="cycle",
    )
    clients = [OpenAI(base_url=server.base_url, api_key=API_KEY) for server in (a, b, a, b)]
    kinds: list[Any] = []
    for client in clients:
        message = (
            client.chat.completions.create(
                model="gpt-4", messages=[{"role": "user", "content": "weather?"}]
            )
            .choices[0]
            .message
        )
        kinds.append(message.tool_calls[0].function.name if message.tool_calls else message.content)
    assert kinds == ["get_weather", "Snow in Oslo.", "get_weather", "Snow in Oslo."]


def test_turns_count_a_conversation_stored_by_the_other_instance(
    pair: tuple[RunningServer, RunningServer],
) -> None:
    a, b = pair
    Admin(a.url).reset()
    Admin(a.url).stub(match={"turns": 2}, reply={"text": "the second turn"})
    first = OpenAI(base_url=a.base_url, api_key=API_KEY).responses.create(
        model="gpt-4", input="Remember kiwi.", store=True
    )
    second = OpenAI(base_url=b.base_url, api_key=API_KEY).responses.create(
        model="gpt-4", input="Which word?", previous_response_id=first.id
    )
    assert second.output_text == "the second turn"
