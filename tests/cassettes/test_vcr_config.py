"""The exported vcrpy configuration: matching JSON bodies as data, scrubbing at record time."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import vcr
from openai import OpenAI
from vcr.errors import CannotOverwriteExistingCassetteException

from harness.cassettes import (
    body_differences,
    create_vcr,
    is_secret_name,
    read_cassette,
    register_matchers,
    vcr_config,
)
from harness.cassettes.matching import bodies_match
from tests.cassettes.conftest import SHIPPED, assert_no_secret
from tests.fixtures.servers import API_KEY, RunningServer

CLOSED_PORT_URL = "http://127.0.0.1:9/v1"  # nothing listens: any request that gets out fails


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ('{"a": 1, "b": [1, 2]}', '{"b":[1,2],"a":1}', True),
        ('{"a": 1}', '{\n  "a": 1.0\n}', True),
        ('{"stream": true}', '{"stream": 1}', False),
        ('{"a": [1, 2]}', '{"a": [2, 1]}', False),
        ("", None, True),
        ("not json", "not json", True),
        ("not json", "not  json", False),
    ],
)
def test_bodies_match_as_json_data(first: str, second: str | None, same: bool) -> None:
    assert bodies_match(first, second) is same


def test_differences_are_json_pointers() -> None:
    recorded = '{"model": "gpt-4", "messages": [{"role": "user", "content": "Hi"}], "n": 1}'
    received = '{"model": "gpt-4", "messages": [{"role": "user", "content": "Yo"}], "seed": 2}'
    assert [str(d) for d in body_differences(recorded, received)] == [
        '/messages/0/content (recorded "Hi", got "Yo")',
        "/n (recorded 1, got nothing)",
        "/seed (recorded nothing, got 2)",
    ]


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("Authorization", True),
        ("x-api-key", True),
        ("Api-Key", True),
        ("apiKey", True),
        ("access_token", True),
        ("X-Auth-Token", True),
        ("client_secret", True),
        ("Set-Cookie", True),
        ("password", True),
        ("Authentication", True),  # a misspelt Authorization still holds the key
        ("X-Authentication-Token", True),
        ("X-Author", False),
        ("x-ratelimit-remaining-tokens", False),
        ("Content-Type", False),
        ("x-request-id", False),
        ("openai-processing-ms", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_the_matcher_must_be_registered() -> None:
    with pytest.raises(KeyError, match="json_body"):
        vcr.VCR(**vcr_config()).get_merged_config()
    assert register_matchers(vcr.VCR(**vcr_config())).get_merged_config()["match_on"]


def test_plain_vcrpy_replays_a_shipped_cassette_with_the_sdk_and_requests() -> None:
    cassette = str(SHIPPED / "documented" / "chat-completion.yaml")
    recorded = read_cassette(Path(cassette)).interactions[0].response.body
    my_vcr = create_vcr(record_mode="none")
    with my_vcr.use_cassette(cassette, allow_playback_repeats=True):
        client = OpenAI(base_url=CLOSED_PORT_URL, api_key="sk-test-not-used", max_retries=0)
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-4", messages=[{"role": "user", "content": "Hello"}]
        )
        assert raw.http_response.content == recorded
        assert raw.parse().model == "gpt-4-0613"
        # Key order and whitespace of the body do not matter.
        answer = requests.post(
            f"{CLOSED_PORT_URL}/chat/completions",
            data='{"messages": [{"content": "Hello", "role": "user"}],\n "model": "gpt-4"}',
            headers={"Content-Type": "application/json"},
            timeout=5,
        )
        assert answer.content == recorded
        # Another body is not replayed; vcrpy says which matcher failed and where.
        with pytest.raises(CannotOverwriteExistingCassetteException, match="/messages/0/content"):
            requests.post(
                f"{CLOSED_PORT_URL}/chat/completions",
                timeout=5,
                json={"model": "gpt-4", "messages": [{"role": "user", "content": "Bye"}]},
            )


def test_recording_with_the_config_scrubs_every_key(
    live_server: RunningServer, tmp_path: Path
) -> None:
    path = tmp_path / "recorded.yaml"
    client = OpenAI(
        base_url=live_server.base_url,
        api_key=API_KEY,
        max_retries=0,
        default_headers={"X-Api-Key": API_KEY, "Cookie": "session=abcdef123456"},
        default_query={"api_key": API_KEY, "page": "1"},
    )
    messages = [{"role": "user", "content": f"Say {API_KEY} back"}]
    with create_vcr(record_mode="all").use_cassette(str(path)):
        live = client.chat.completions.with_raw_response.create(model="gpt-4", messages=messages)
        wrong = client.with_options(api_key="wrong-key-0123456789")
        with pytest.raises(Exception, match="401"):
            wrong.chat.completions.create(model="gpt-4", messages=messages)
    assert_no_secret(tmp_path, API_KEY, "abcdef123456", "wrong-key-0123456789")
    text = path.read_text()
    assert "page=1" in text and "Cookie" not in text and "X-Api-Key" not in text
    # The scrubbed cassette still replays: the key in the body was redacted on both sides.
    with create_vcr(record_mode="none").use_cassette(str(path)):
        replayed = OpenAI(base_url=CLOSED_PORT_URL, api_key=API_KEY, max_retries=0)
        again = replayed.chat.completions.with_raw_response.create(model="gpt-4", messages=messages)
    assert again.http_response.content == live.http_response.content
