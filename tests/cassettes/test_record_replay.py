"""`harness record` in front of a real upstream, then the same calls replayed two ways.

Upstream: `harness serve` (a subprocess on a free port). The official SDK talks to the proxy;
the cassettes it writes are replayed with plain vcrpy (upstream stopped) and served by
`harness serve --replay`, and every body must come back byte for byte.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import vcr
from openai import OpenAI

from harness.cassettes import create_vcr, read_cassette
from harness.cassettes.recorder import cassette_name, upstream_url
from tests.cassettes.conftest import assert_no_secret, start_recorder
from tests.fixtures.clients import RecordingTransport, sdk_client
from tests.fixtures.servers import API_KEY, RunningServer, start_server

# A key shaped like a real one, so a leak would also trip the repository's hook.
SECRET = "sk-e2e-Zq7Xw4Rt9Lp2Vn6Bm8Kc3Hs5"
CLOSED_PORT_URL = "http://127.0.0.1:9/v1"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "parameters": {
                "type": "object",
                "properties": {"q": {"type": "string"}},
                "required": ["q"],
            },
        },
    }
]

Call = Callable[[OpenAI], None]


def chat_plain(client: OpenAI) -> None:
    client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "Hello"}])


def chat_stream(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4",
        messages=[{"role": "user", "content": "Stream please"}],
        tools=TOOLS,
        stream=True,
        stream_options={"include_usage": True},
    )
    assert list(stream)


def responses_plain(client: OpenAI) -> None:
    client.responses.create(model="gpt-4", input="Hello", instructions="Be brief.")


def responses_stream(client: OpenAI) -> None:
    with client.responses.stream(model="gpt-4", input="Stream please") as events:
        assert events.get_final_response().status == "completed"


CALLS: dict[str, Call] = {
    "chat": chat_plain,
    "chat-stream": chat_stream,
    "responses": responses_plain,
    "responses-stream": responses_stream,
}
CASSETTE_OF = {
    "chat": "chat_completions.yaml",
    "chat-stream": "chat_completions.yaml",
    "responses": "responses.yaml",
    "responses-stream": "responses.yaml",
}


def run_calls(base_url: str, api_key: str = SECRET, **options: Any) -> dict[str, bytes]:
    """Each call through the SDK; the body bytes the client read, by call."""
    bodies: dict[str, bytes] = {}
    for name, call in CALLS.items():
        transport = RecordingTransport()
        with sdk_client(base_url, transport, api_key=api_key) as client:
            call(client.with_options(**options) if options else client)
        (exchange,) = transport.exchanges
        assert exchange.status == 200, (name, exchange)
        bodies[name] = exchange.body
    return bodies


@pytest.mark.slow
def test_record_then_replay_with_vcrpy_and_serve_replay(tmp_path: Path) -> None:
    logs, folder = tmp_path / "logs", tmp_path / "cassettes"
    logs.mkdir()
    upstream = start_server(["--api-key", SECRET, "--workers", "1"], log_dir=logs)
    proxy = start_recorder(upstream.url, folder, log_dir=logs)
    try:
        live = run_calls(proxy.base_url)
    finally:
        proxy.stop()
        upstream.stop()
    assert sorted(p.name for p in folder.glob("*.yaml")) == [
        "chat_completions.yaml",
        "responses.yaml",
    ]
    assert_no_secret(folder, SECRET)
    assert (
        b"data: [DONE]" in live["chat-stream"]
        and b"event: response.completed" in live["responses-stream"]
    )

    # Plain vcrpy with the exported configuration; nothing listens anywhere.
    replayed: dict[str, bytes] = {}
    for name, call in CALLS.items():
        with create_vcr(record_mode="none").use_cassette(str(folder / CASSETTE_OF[name])):
            transport = RecordingTransport()
            with sdk_client(CLOSED_PORT_URL, transport, api_key=SECRET) as client:
                call(client)
            replayed[name] = transport.exchanges[0].body
    assert replayed == live

    # `harness serve --replay`, streams paced as the mock paces its own.
    replay = start_server(["--replay", str(folder), "--workers", "1"], log_dir=logs)
    try:
        served = run_calls(
            replay.base_url, api_key="any-key", default_headers={"X-Mock-Chunk-Delay-Ms": "5"}
        )
        missing = requests.post(
            f"{replay.base_url}/chat/completions",
            headers={"Authorization": "Bearer any-key"},
            timeout=10,
            json={"model": "gpt-4", "messages": [{"role": "user", "content": "Goodbye"}]},
        )
    finally:
        replay.stop()
    assert served == live
    assert missing.status_code == 404
    error = missing.json()["error"]
    assert error["code"] == "no_recorded_interaction"
    assert "chat_completions.yaml#0" in error["message"]
    assert '/messages/0/content (recorded "Hello", got "Goodbye")' in error["message"]


@pytest.fixture(scope="module")
def keyed_recorder(
    live_server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, Path]]:
    """A recorder in front of the session's mock that sends the mock's key from the env."""
    folder = tmp_path_factory.mktemp("keyed")
    env = {**os.environ, "UPSTREAM_KEY": API_KEY}
    proxy = start_recorder(
        live_server.url,
        folder,
        log_dir=folder.parent,
        args=["--api-key-env", "UPSTREAM_KEY"],
        env=env,
    )
    yield proxy, folder
    proxy.stop()


@pytest.mark.slow
def test_api_key_env_replaces_the_clients_key_and_names_pick_the_cassette(
    keyed_recorder: tuple[RunningServer, Path],
) -> None:
    proxy, folder = keyed_recorder
    client_key = "sk-client-Q4wE8rT2yU6iO0pA"
    answer = requests.post(
        f"{proxy.base_url}/chat/completions?api_key={client_key}&page=2",
        json={"model": "gpt-4", "messages": [{"role": "user", "content": "Hi"}]},
        headers={
            "Authorization": f"Bearer {client_key}",  # replaced by the mock's key
            "X-Api-Key": client_key,
            "Cookie": "session=0123456789abcdef",
            "X-Harness-Cassette": "../tests/test_x.py::test_y[gpt-4]",
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    path = folder / "tests_test_x.py_test_y_gpt-4.yaml"
    (interaction,) = read_cassette(path).interactions
    assert interaction.request.uri.endswith("/v1/chat/completions?page=2")
    recorded_headers = {name.lower() for name in interaction.request.headers}
    assert not recorded_headers & {"authorization", "x-api-key", "cookie", "x-harness-cassette"}
    assert_no_secret(folder, API_KEY, client_key, "0123456789abcdef")


@pytest.mark.slow
def test_a_placeholder_key_the_recorder_replaces_is_not_scrubbed_from_the_content(
    keyed_recorder: tuple[RunningServer, Path],
) -> None:
    # record-replay.md has clients send api_key="anything" to a recorder holding the real
    # key: that word was redacted wherever it appeared ("Is there *** you cannot do?"), in
    # any letter case, and the recording no longer matched the request it came from.
    proxy, folder = keyed_recorder
    question = "Is there Anything you cannot do? Tell me anything."
    answer = requests.post(
        f"{proxy.base_url}/chat/completions",
        json={"model": "gpt-4", "messages": [{"role": "user", "content": question}]},
        headers={"Authorization": "Bearer anything", "X-Harness-Cassette": "placeholder"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    (interaction,) = read_cassette(folder / "placeholder.yaml").interactions
    assert json.loads(interaction.request.body)["messages"][0]["content"] == question
    assert "***" not in interaction.response.body.decode()
    assert_no_secret(folder, API_KEY)


MCP_TOKEN = "mcp-tok-Rt56Yu78Io90Pa12"


def responses_with_an_mcp_tool(client: OpenAI, token: str = MCP_TOKEN) -> str:
    """A Responses call whose MCP tool carries its server's key; the answer's id."""
    tool = {
        "type": "mcp",
        "server_label": "wiki",
        "server_url": "https://mcp.example.com/sse",
        "headers": {"Authorization": f"Bearer {token}"},
        "require_approval": "never",
    }
    answer = client.responses.create(model="gpt-4", input="What is in the wiki?", tools=[tool])
    return answer.id


@pytest.mark.slow
def test_a_key_inside_the_request_body_is_not_recorded_and_the_cassette_still_replays(
    live_server: RunningServer, tmp_path: Path
) -> None:
    """The official SDK sends a Responses MCP tool with its server's bearer key in the body
    (which an upstream may echo): the cassette holds neither copy, and it replays for the
    same call with plain vcrpy and with `harness serve --replay`, fallback to the mock on."""
    folder, logs = tmp_path / "cassettes", tmp_path / "logs"
    logs.mkdir()
    proxy = start_recorder(live_server.url, folder, log_dir=logs)
    try:
        with sdk_client(proxy.base_url, httpx.HTTPTransport()) as client:
            recorded_id = responses_with_an_mcp_tool(client)
    finally:
        proxy.stop()
    assert_no_secret(folder, MCP_TOKEN)
    (interaction,) = read_cassette(folder / "responses.yaml").interactions
    assert '"Authorization":"***"' in interaction.request.body.decode()

    cassette = create_vcr(record_mode="none").use_cassette(str(folder / "responses.yaml"))
    with cassette, sdk_client(CLOSED_PORT_URL, httpx.HTTPTransport()) as client:
        assert responses_with_an_mcp_tool(client) == recorded_id

    replay = start_server(
        ["--replay", str(folder), "--replay-fallback", "mock", "--workers", "1"], log_dir=logs
    )
    try:
        with sdk_client(replay.base_url, httpx.HTTPTransport(), api_key="any-key") as client:
            assert responses_with_an_mcp_tool(client) == recorded_id
            # Another key for the same MCP server is the same recorded request.
            assert responses_with_an_mcp_tool(client, "mcp-tok-Other1234Key") == recorded_id
    finally:
        replay.stop()


@pytest.mark.slow
def test_a_stream_is_relayed_as_it_arrives_and_a_killed_proxy_leaves_whole_cassettes(
    live_server: RunningServer, tmp_path: Path
) -> None:
    folder = tmp_path / "cassettes"
    proxy = start_recorder(live_server.url, folder, log_dir=tmp_path)
    headers = {"Authorization": f"Bearer {API_KEY}"}
    body = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]}
    try:
        done = requests.post(
            f"{proxy.base_url}/chat/completions", json=body, headers=headers, timeout=10
        )
        assert done.status_code == 200
        slow = {**headers, "X-Mock-Chunk-Delay-Ms": "300"}
        started = time.monotonic()
        with requests.post(
            f"{proxy.base_url}/chat/completions",
            json={**body, "stream": True},
            headers=slow,
            stream=True,
            timeout=10,
        ) as streaming:
            lines = streaming.iter_lines()
            first = next(line for line in lines if line)
            # The first chunk came through long before the stream (10+ chunks) could end.
            assert time.monotonic() - started < 2.0
            assert first.startswith(b"data: {")
            os.kill(proxy.process.pid, signal.SIGKILL)
            proxy.process.wait(timeout=5)
            with pytest.raises(requests.exceptions.RequestException):
                for _ in lines:
                    pass
    finally:
        proxy.stop()
    path = folder / "chat_completions.yaml"
    with vcr.use_cassette(str(path), record_mode="none") as cassette:
        assert len(cassette) == 1
        assert cassette.responses[0]["body"]["string"] == done.content
    assert len(read_cassette(path).interactions) == 1


@pytest.mark.slow
def test_an_upstream_that_is_down_gets_a_json_502(tmp_path: Path) -> None:
    proxy = start_recorder("http://127.0.0.1:9", tmp_path / "c", log_dir=tmp_path)
    try:
        answer = httpx.post(f"{proxy.base_url}/chat/completions", json={}, timeout=10)
    finally:
        proxy.stop()
    assert answer.status_code == 502
    assert answer.json()["error"]["code"] == "upstream_unreachable"
    assert not (tmp_path / "c").exists() or not list((tmp_path / "c").glob("*.yaml"))


@pytest.mark.parametrize(
    ("path", "header", "expected"),
    [
        ("/v1/chat/completions", None, "chat_completions.yaml"),
        ("/chat/completions", None, "chat_completions.yaml"),
        ("/v1/responses/resp_67ccd2bed1ec8190b14f964abc05", None, "responses.yaml"),
        ("/v1/models", None, "models.yaml"),
        ("/", None, "root.yaml"),
        ("/v1/responses", "test_one.yaml", "test_one.yaml"),
        ("/v1/responses", "../../etc/passwd", "etc_passwd.yaml"),
        ("/v1/responses", "a b/c\\d", "a_b_c_d.yaml"),
    ],
)
def test_cassette_names(path: str, header: str | None, expected: str) -> None:
    assert cassette_name(path, header) == expected


def test_an_unusable_cassette_name_is_refused() -> None:
    with pytest.raises(ValueError, match="no usable file name"):
        cassette_name("/v1/responses", "../..")


@pytest.mark.parametrize(
    ("upstream", "path", "expected"),
    [
        (
            "https://api.example.com",
            "/v1/chat/completions",
            "https://api.example.com/v1/chat/completions",
        ),
        (
            "https://api.example.com/v1",
            "/v1/responses?x=1",
            "https://api.example.com/v1/responses?x=1",
        ),
        ("https://api.example.com/v1/", "/responses", "https://api.example.com/v1/responses"),
    ],
)
def test_upstream_urls(upstream: str, path: str, expected: str) -> None:
    assert upstream_url(upstream, path) == expected


@pytest.mark.slow
def test_a_stream_read_to_its_end_is_already_recorded(
    live_server: RunningServer, tmp_path: Path
) -> None:
    """The write comes after the last chunk but before the end of the chunked body."""
    folder = tmp_path / "c"
    proxy = start_recorder(live_server.url, folder, log_dir=tmp_path)
    headers = {"Authorization": f"Bearer {API_KEY}"}
    bodies: list[bytes] = []

    def stream(number: int) -> None:
        asked = {
            "model": "gpt-4",
            "stream": True,
            "messages": [{"role": "user", "content": f"Count to {number}"}],
        }
        answer = requests.post(
            f"{proxy.base_url}/chat/completions", json=asked, headers=headers, timeout=10
        )
        bodies.append(answer.content)

    try:
        threads = [threading.Thread(target=stream, args=(n,)) for n in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        recorded = read_cassette(folder / "chat_completions.yaml").interactions
    finally:
        proxy.stop()
    assert sorted(i.response.body for i in recorded) == sorted(bodies)
    assert all(body.endswith(b"data: [DONE]\n\n") for body in bodies)


@pytest.mark.slow
def test_a_stop_lets_a_stream_in_flight_finish_and_be_recorded(
    live_server: RunningServer, tmp_path: Path
) -> None:
    folder = tmp_path / "c"
    proxy = start_recorder(live_server.url, folder, log_dir=tmp_path)
    headers = {"Authorization": f"Bearer {API_KEY}", "X-Mock-Chunk-Delay-Ms": "80"}
    asked = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hi"}], "stream": True}
    with requests.post(
        f"{proxy.base_url}/chat/completions", json=asked, headers=headers, stream=True, timeout=10
    ) as streaming:
        chunks = streaming.iter_content(chunk_size=None)
        received = [next(chunks)]
        proxy.process.send_signal(signal.SIGTERM)
        received.extend(chunks)
    assert proxy.process.wait(timeout=15) == 0
    body = b"".join(received)
    assert body.endswith(b"data: [DONE]\n\n")
    (interaction,) = read_cassette(folder / "chat_completions.yaml").interactions
    assert interaction.response.body == body


def test_credentials_in_the_upstream_url_are_refused(tmp_path: Path) -> None:
    # They were written into every cassette's uri and printed at start.
    from click.testing import CliRunner

    from harness.cli import main

    result = CliRunner().invoke(
        main,
        [
            "record",
            "--upstream",
            "http://admin:UrlPassw0rd123@127.0.0.1:9",
            "--cassettes",
            str(tmp_path / "c"),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "UrlPassw0rd123" not in result.output
    assert "http://127.0.0.1:9" in result.output and "--api-key-env" in result.output
    assert not (tmp_path / "c").exists()
