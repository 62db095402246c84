"""Regenerate ``cassettes/mock/``: real ``harness record`` traffic recorded off the mock.

Starts ``harness serve`` (the upstream) and ``harness record`` in front of it, both on free
loopback ports, drives both endpoints through the proxy with the official ``openai`` SDK
(plain and streamed answers, tools, errors), then stops both. One cassette per scenario,
named by the ``X-Harness-Cassette`` header::

    python scripts/record_mock_cassettes.py            # writes cassettes/mock/*.yaml
    python scripts/record_mock_cassettes.py --out DIR  # somewhere else

The mock's ids and timestamps change on every run; the content is deterministic.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from openai import APIStatusError, OpenAI
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam
from openai.types.responses import FunctionToolParam

ROOT = Path(__file__).resolve().parents[1]
# The key the mock is started with; the recorder scrubs it (and any other) from the cassettes.
API_KEY = "mock-recording-key-0001"
STARTUP_TIMEOUT_S = 30.0
WEATHER_PARAMETERS: dict[str, object] = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"enum": ["C", "F"]}},
    "required": ["city"],
}
WEATHER_TOOL: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": WEATHER_PARAMETERS,
    },
}
RESPONSES_TOOL: FunctionToolParam = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": WEATHER_PARAMETERS,
    "strict": False,
}
HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello"}]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "cassettes" / "mock")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.yaml"):
        old.unlink()
    with (
        running("serve", "--api-key", API_KEY) as mock_url,
        running(
            "record", "--upstream", mock_url, "--cassettes", str(out), health="/_harness/health"
        ) as proxy_url,
    ):
        client = OpenAI(base_url=f"{proxy_url}/v1", api_key=API_KEY, max_retries=0)
        record_chat(client)
        record_responses(client)
    for path in sorted(out.glob("*.yaml")):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


def named(client: OpenAI, cassette: str) -> OpenAI:
    return client.with_options(default_headers={"X-Harness-Cassette": cassette})


def expect_error(call: Callable[[], Any]) -> None:
    try:
        call()
    except APIStatusError as exc:
        print(f"  expected error {exc.status_code}: {exc.message[:70]}")
    else:
        raise SystemExit("an error scenario got an answer")


def record_chat(client: OpenAI) -> None:
    chat = named(client, "chat").chat.completions
    chat.create(model="gpt-4", messages=HELLO)
    chat.create(
        model="gpt-4",
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Name three primary colours."},
        ],
        n=2,
        seed=7,
    )
    chat.create(model="gpt-4", messages=HELLO, max_tokens=3, logprobs=True, top_logprobs=2)

    stream = named(client, "chat-stream").chat.completions
    for _ in stream.create(model="gpt-4", messages=HELLO, stream=True):
        pass
    for _ in stream.create(
        model="gpt-4",
        messages=[{"role": "user", "content": "Tell me about streams."}],
        stream=True,
        stream_options={"include_usage": True},
    ):
        pass

    tools = named(client, "chat-tools").chat.completions
    asked: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "What is the weather in Paris?"}
    ]
    first = tools.create(
        model="gpt-4", messages=asked, tools=[WEATHER_TOOL], tool_choice="required"
    )
    calls = first.choices[0].message.tool_calls
    assert calls and calls[0].type == "function"
    call = calls[0]
    # The standard round trip: the assistant's tool call echoed back with content null.
    tools.create(
        model="gpt-4",
        messages=[
            *asked,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {
                            "name": call.function.name,
                            "arguments": call.function.arguments,
                        },
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call.id, "content": '{"temp": 18, "unit": "C"}'},
        ],
        tools=[WEATHER_TOOL],
    )
    for _ in tools.create(
        model="gpt-4", messages=asked, tools=[WEATHER_TOOL], tool_choice="required", stream=True
    ):
        pass

    errors = named(client, "chat-errors")
    expect_error(lambda: errors.chat.completions.create(model="gpt-5", messages=HELLO))
    expect_error(
        lambda: errors.chat.completions.create(model="gpt-4", messages=HELLO, temperature=5)
    )
    wrong_key = errors.with_options(api_key="not-the-mock-key-42")
    expect_error(lambda: wrong_key.chat.completions.create(model="gpt-4", messages=HELLO))
    expect_error(
        lambda: errors.chat.completions.create(
            model="gpt-4", messages=HELLO, extra_headers={"X-Mock-Fault": "rate_limit"}
        )
    )


def record_responses(client: OpenAI) -> None:
    responses = named(client, "responses").responses
    responses.create(model="gpt-4", input="Hello")
    responses.create(model="gpt-4", input="Write a haiku.", instructions="Answer in English.")
    responses.create(model="gpt-4", input="Tell me a long story.", max_output_tokens=16)
    responses.create(
        model="gpt-4",
        input="Give me a colour.",
        text={
            "format": {
                "type": "json_schema",
                "name": "colour",
                "schema": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "hex": {"type": "string"}},
                    "required": ["name", "hex"],
                    "additionalProperties": False,
                },
                "strict": True,
            }
        },
    )
    stored = responses.create(model="gpt-4", input="Remember me.", store=True)
    responses.create(model="gpt-4", input="And now?", previous_response_id=stored.id, store=True)
    responses.retrieve(stored.id)
    responses.delete(stored.id)

    streamed = named(client, "responses-stream").responses
    with streamed.stream(model="gpt-4", input="Hello") as events:
        events.get_final_response()
    with streamed.stream(
        model="gpt-4", input="Tell me a long story.", max_output_tokens=16
    ) as events:
        for _ in events:
            pass

    tools = named(client, "responses-tools").responses
    tools.create(
        model="gpt-4",
        input="What is the weather in Paris?",
        tools=[RESPONSES_TOOL],
        tool_choice="required",
    )
    with tools.stream(
        model="gpt-4",
        input="What is the weather in Oslo?",
        tools=[RESPONSES_TOOL],
        tool_choice="required",
    ) as events:
        events.get_final_response()

    errors = named(client, "responses-errors")
    expect_error(lambda: errors.responses.create(model="gpt-5", input="Hello"))
    expect_error(
        lambda: errors.responses.create(model="gpt-4", input="Hello", max_output_tokens=10)
    )
    expect_error(lambda: errors.responses.retrieve("resp_does_not_exist_0123456789"))


@contextmanager
def running(command: str, *args: str, health: str = "/_mock/health") -> Iterator[str]:
    """``harness <command> ... --port <free>``, until it answers ``health``; yields its URL."""
    port = _free_port()
    full = [sys.executable, "-m", "harness", command, *args, "--port", str(port)]
    process = subprocess.Popen(full, cwd=ROOT, env=dict(os.environ))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise SystemExit(f"harness {command} exited with {process.returncode}")
            try:
                if httpx.get(url + health, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"harness {command} did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


if __name__ == "__main__":
    sys.exit(main())
