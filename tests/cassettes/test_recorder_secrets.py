"""Secrets and cookies through both record paths: `harness record` and `vcr_config()`.

A fake upstream on a free loopback port echoes a secret in one form per test (URL-encoded,
`\\/`-escaped, base64, upper-cased, in a `Location` header, ...). Each form is recorded once
through the recording proxy and once through vcrpy with the harness configuration; neither
cassette may hold the secret in any form, and every body must still parse.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
from flask import Flask, Response, request

from harness.cassettes import create_vcr, read_cassette
from harness.cassettes.recorder import RecorderConfig, create_recorder_app
from tests.fixtures.servers import serve_in_thread

# A key with the characters that URL-encoding, JSON escaping and base64 change.
KEY = "sk-proj-Ab3/De+Fg=Hi_Jk-9Lm8Np7Qr6"
ORGANIZATION = "org-Qz81Vb2Nc3Xm4L"
PROJECT = "proj_Wd5Ee6Rf7Tg8Yh"
QUERY_SECRET = "qsecret-Op9Iu8Yt7Re6"
SIGNATURE = "sig-Ab12Cd34Ef56Gh78"
COOKIE_VALUE = "upstream-session-Jk90Lm12"
# Credentials a client sends inside its JSON body: a Responses MCP tool's `headers` and
# `authorization` (its OAuth token), and a key in `metadata`.
MCP_TOKEN = "mcp-tok-Qw12Er34Ty56"
MCP_OAUTH = "oauth-Zx98Cv76Bn54"
METADATA_KEY = "meta-key-Lk43Jh21Gf09"


def _echo_body(text: str) -> str:
    # Built by hand so that the exact form (e.g. `\/`) reaches the wire; still valid JSON.
    return '{"object": "echo", "echo": "' + text + '", "n": 1}'


# form name -> (what the upstream puts in its JSON body, forms that must not be stored)
BODY_FORMS: dict[str, Callable[[str], str]] = {
    "plain": lambda key: key,
    "url-encoded": lambda key: quote(key, safe=""),
    "url-encoded-plus": lambda key: quote_plus(key),
    "url-encoded-lowercase-hex": lambda key: quote(key, safe="").replace("%2F", "%2f"),
    "json-slash-escaped": lambda key: key.replace("/", "\\/"),
    "base64": lambda key: base64.b64encode(key.encode()).decode(),
    "base64-url": lambda key: base64.urlsafe_b64encode(key.encode()).decode().rstrip("="),
    "base64-basic-auth": lambda key: base64.b64encode(f"user:{key}".encode()).decode(),
    "upper-cased": lambda key: key.upper(),
    "in-a-sentence": lambda key: f"Incorrect API key provided: {key[:3]}{key[3:]}.",
}


class FakeUpstream:
    """An upstream that sets a cookie, echoes what it is told to, and notes Cookie headers."""

    def __init__(self) -> None:
        self.cookies_seen: list[str | None] = []
        self.lock = threading.Lock()
        self.app = Flask("fake-upstream")
        self.app.add_url_rule(
            "/v1/echo", view_func=self.echo, methods=["GET", "POST"], endpoint="echo"
        )
        self.app.add_url_rule("/v1/stream", view_func=self.stream, methods=["POST"])

    def echo(self) -> Response:
        with self.lock:
            self.cookies_seen.append(request.headers.get("Cookie"))
        form = request.args.get("form", "plain")
        # `say`: what to echo, under a name that is not a secret's (what a `secret`
        # parameter holds is learned from the query already).
        secret = request.args.get("secret", request.args.get("say", KEY))
        if form == "query-values":
            text = " ".join(value for name, value in request.args.items() if name != "form")
        elif form == "as-number":
            body = '{"object": "echo", "n": ' + secret + "7}"
            return Response(body, status=200, content_type="application/json")
        else:
            text = BODY_FORMS[form](secret)
        answer = Response(_echo_body(text), status=200, content_type="application/json")
        answer.headers["Set-Cookie"] = f"session={COOKIE_VALUE}; Path=/; HttpOnly"
        answer.headers["OpenAI-Organization"] = ORGANIZATION
        answer.headers["OpenAI-Project"] = PROJECT
        if "location" in request.args:
            answer.headers["Location"] = (
                f"http://files.invalid/v1/files/f1?X-Amz-Signature={SIGNATURE}&page=2"
            )
            answer.headers["Content-Location"] = f"/v1/echo?q={quote(KEY, safe='')}"
        return answer

    def stream(self) -> Response:
        events = [
            {"object": "chat.completion.chunk", "echo": KEY.replace("/", "\\/")},
            {"object": "chat.completion.chunk", "echo": KEY.upper()},
        ]
        text = "".join(
            "data: " + json.dumps(event).replace("\\\\/", "\\/") + "\n\n" for event in events
        )
        return Response(text + "data: [DONE]\n\n", content_type="text/event-stream")


@pytest.fixture
def upstream() -> Iterator[tuple[FakeUpstream, str]]:
    fake = FakeUpstream()
    with serve_in_thread(fake.app) as url:
        yield fake, url


@pytest.fixture
def recorder(upstream: tuple[FakeUpstream, str], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    folder = tmp_path / "recorded"
    app = create_recorder_app(RecorderConfig(upstream=upstream[1], cassettes_dir=folder))
    with serve_in_thread(app) as url:
        yield url, folder


Recorder = Callable[[str, dict[str, Any]], Path]


@pytest.fixture(params=["harness-record", "vcr-config"])
def record(
    request: pytest.FixtureRequest,
    upstream: tuple[FakeUpstream, str],
    tmp_path: Path,
) -> Iterator[Recorder]:
    """Record one GET/POST of the fake upstream's `path` both ways; returns the cassette."""
    if request.param == "harness-record":
        recorder_url, folder = request.getfixturevalue("recorder")

        def through_proxy(path: str, options: dict[str, Any]) -> Path:
            with httpx.Client(base_url=recorder_url, timeout=10) as client:
                client.request(**{"method": "POST", "url": path, **options}).raise_for_status()
            files = sorted(folder.glob("*.yaml"))
            assert len(files) == 1, files
            return files[0]

        yield through_proxy
        return

    def through_vcrpy(path: str, options: dict[str, Any]) -> Path:
        cassette = tmp_path / "vcr" / "echo.yaml"
        recording = create_vcr(record_mode="all").use_cassette(str(cassette))
        with recording, httpx.Client(base_url=upstream[1], timeout=10) as client:
            client.request(**{"method": "POST", "url": path, **options}).raise_for_status()
        return cassette

    yield through_vcrpy


def assert_not_stored(cassette: Path, *secrets: str) -> None:
    """None of ``secrets`` is in the cassette, in any case, and every JSON body still parses."""
    text = cassette.read_text(encoding="utf-8")
    for secret in secrets:
        assert secret.lower() not in text.lower(), f"{secret!r} is in {cassette}:\n{text}"
    for interaction in read_cassette(cassette).interactions:
        if interaction.response.media_type == "application/json":
            json.loads(interaction.response.body)
        if interaction.request.body:
            json.loads(interaction.request.body)


def every_form(secret: str) -> list[str]:
    return sorted({make(secret) for make in BODY_FORMS.values()} | {secret}, key=len)


BEARER = {"Authorization": f"Bearer {KEY}"}


@pytest.mark.parametrize("form", sorted(BODY_FORMS))
def test_the_key_is_scrubbed_from_a_body_in_every_form(record: Recorder, form: str) -> None:
    cassette = record("/v1/echo", {"params": {"form": form}, "headers": BEARER, "json": {}})
    assert_not_stored(cassette, KEY, BODY_FORMS[form](KEY), quote(KEY, safe=""))
    (interaction,) = read_cassette(cassette).interactions
    echoed = json.loads(interaction.response.body)
    assert echoed["object"] == "echo" and "***" in echoed["echo"]
    if form == "in-a-sentence":
        assert echoed["echo"] == "Incorrect API key provided: ***."


def test_organization_and_project_headers_are_not_stored(record: Recorder) -> None:
    headers = {**BEARER, "OpenAI-Organization": ORGANIZATION, "OpenAI-Project": PROJECT}
    cassette = record("/v1/echo", {"headers": headers, "json": {}})
    assert_not_stored(cassette, ORGANIZATION, PROJECT)


def test_organization_echoed_in_a_body_is_scrubbed(record: Recorder) -> None:
    headers = {**BEARER, "OpenAI-Organization": ORGANIZATION}
    options = {"params": {"secret": ORGANIZATION}, "headers": headers, "json": {}}
    assert_not_stored(record("/v1/echo", options), ORGANIZATION)


def test_a_secret_query_value_echoed_in_a_body_is_scrubbed(record: Recorder) -> None:
    options = {"params": {"form": "query-values", "api_key": QUERY_SECRET}, "json": {}}
    cassette = record("/v1/echo", options)
    assert_not_stored(cassette, QUERY_SECRET)


def test_the_key_under_a_plain_query_name_is_scrubbed(record: Recorder) -> None:
    options = {"params": {"q": KEY, "form": "query-values"}, "headers": BEARER, "json": {}}
    cassette = record("/v1/echo", options)
    assert_not_stored(cassette, *every_form(KEY))


def test_location_headers_lose_their_secrets(record: Recorder) -> None:
    cassette = record("/v1/echo", {"params": {"location": "1"}, "headers": BEARER, "json": {}})
    assert_not_stored(cassette, SIGNATURE, KEY, quote(KEY, safe=""))
    text = cassette.read_text()
    assert "files.invalid/v1/files/f1" in text and "page=2" in text


def test_a_stream_keeps_its_events_whole(record: Recorder) -> None:
    cassette = record("/v1/stream", {"headers": BEARER, "json": {}})
    assert_not_stored(cassette, *every_form(KEY))
    (interaction,) = read_cassette(cassette).interactions
    events = [
        line.removeprefix("data: ")
        for line in interaction.response.text.splitlines()
        if line.startswith("data: ")
    ]
    assert events[-1] == "[DONE]"
    assert [json.loads(event)["object"] for event in events[:-1]] == ["chat.completion.chunk"] * 2


def test_a_body_stays_json_when_the_key_looks_like_a_number(record: Recorder) -> None:
    digits = "31415926535"
    options = {
        "params": {"form": "as-number", "secret": digits},
        "headers": {"Authorization": f"Bearer {digits}"},
        "json": {},
    }
    cassette = record("/v1/echo", options)
    assert_not_stored(cassette, digits)


def test_credentials_inside_a_json_request_body_are_scrubbed(record: Recorder) -> None:
    """A Responses MCP tool carries its server's credentials in the body (`headers`,
    `authorization`), and an upstream may echo the tool back: neither may reach the cassette.
    Values under secret-looking names that are not credentials stay as sent."""
    body = {
        "model": "gpt-4",
        "input": "What is in the repository?",
        "max_output_tokens": 64,
        "prompt_cache_key": "docs-cache",
        "tools": [
            {
                "type": "mcp",
                "server_label": "wiki",
                "server_url": "https://mcp.example.com/sse",
                "headers": {"Authorization": f"Bearer {MCP_TOKEN}", "X-Region": "eu"},
                "authorization": MCP_OAUTH,
                "require_approval": "never",
            }
        ],
        "metadata": {"api_key": METADATA_KEY, "session": "assistant", "tokens": "many"},
    }
    options = {"params": {"say": MCP_TOKEN}, "headers": BEARER, "json": body}
    cassette = record("/v1/echo", options)
    assert_not_stored(cassette, *every_form(MCP_TOKEN), MCP_OAUTH, METADATA_KEY)
    (interaction,) = read_cassette(cassette).interactions
    stored = json.loads(interaction.request.body)
    tool = stored["tools"][0]
    assert "***" in tool["headers"]["Authorization"] and tool["authorization"] == "***"
    assert tool["headers"]["X-Region"] == "eu" and stored["metadata"]["api_key"] == "***"
    assert stored["metadata"]["session"] == "assistant" and stored["metadata"]["tokens"] == "many"
    assert stored["prompt_cache_key"] == "docs-cache" and stored["max_output_tokens"] == 64
    assert "***" in json.loads(interaction.response.body)["echo"]


def test_the_recorder_keeps_no_cookie_jar(
    upstream: tuple[FakeUpstream, str], recorder: tuple[str, Path]
) -> None:
    fake, _ = upstream
    recorder_url, _ = recorder
    # Each call is a new client without cookies of its own, like separate test processes.
    first = httpx.post(f"{recorder_url}/v1/echo", json={}, timeout=10)
    # The client gets the upstream's cookie (it is its own to keep or drop) ...
    assert COOKIE_VALUE in first.headers["set-cookie"]
    # ... but no later request of another client carries it.
    for _ in range(3):
        assert httpx.post(f"{recorder_url}/v1/echo", json={}, timeout=10).status_code == 200
    assert fake.cookies_seen == [None, None, None, None]
    # A cookie a client sends itself still goes through, and only on its own request.
    httpx.post(f"{recorder_url}/v1/echo", json={}, headers={"Cookie": "mine=1"}, timeout=10)
    httpx.post(f"{recorder_url}/v1/echo", json={}, timeout=10)
    assert fake.cookies_seen[-2:] == ["mine=1", None]


def test_the_keys_in_an_mcp_server_url_are_scrubbed(record: Recorder) -> None:
    """A key in an MCP server's URL (its path, its query) reached the cassette as sent, in
    the request body and wherever the upstream echoed it; the host stays."""
    path_key, query_key = "zap9Kq27Lm35Wp41", "key-Ab12Cd34Ef56"
    url = f"https://mcp.example.com/api/s/{path_key}/mcp?api_key={query_key}&version=2024-11-05"
    body = {"model": "gpt-4", "input": "Hi", "tools": [{"type": "mcp", "server_url": url}]}
    options = {"params": {"say": path_key}, "headers": BEARER, "json": body}
    cassette = record("/v1/echo", options)
    assert_not_stored(cassette, path_key, query_key)
    (interaction,) = read_cassette(cassette).interactions
    stored = json.loads(interaction.request.body)
    assert stored["tools"][0]["server_url"] == (
        "https://mcp.example.com/api/s/***/mcp?api_key=***&version=2024-11-05"
    )
    assert "***" in json.loads(interaction.response.body)["echo"]
