"""Credentials a client sends inside a JSON body: what the scrub learns, and what replay
compares a received body in (`body_as_recorded`)."""

from __future__ import annotations

import base64
import json

from harness.cassettes.scrub import body_as_recorded, body_secrets

TOKEN = "mcp-tok-Qw12Er34Ty56"


def _body(value: object) -> bytes:
    return json.dumps(value).encode()


def test_a_bearer_key_in_a_tools_headers_and_its_oauth_token_are_learned() -> None:
    tool = {
        "type": "mcp",
        "headers": {"Authorization": f"Bearer {TOKEN}"},
        "authorization": "oauth-Zx98Cv76Bn54",
    }
    learned = body_secrets(_body({"model": "gpt-4", "tools": [tool]}))
    assert {TOKEN, f"Bearer {TOKEN}", "oauth-Zx98Cv76Bn54"} <= learned


def test_a_basic_credentials_password_is_learned() -> None:
    basic = base64.b64encode(b"robot:pw-Lm34Nb56Vc78").decode()
    learned = body_secrets(_body({"headers": {"Proxy-Authorization": f"Basic {basic}"}}))
    assert "pw-Lm34Nb56Vc78" in learned


def test_words_and_numbers_under_secret_names_are_not_learned() -> None:
    body = {
        "max_output_tokens": 64,
        "prompt_cache_key": "docs-cache",
        "metadata": {"session": "assistant", "api_key": "short1"},
        "headers": {"Authorization": "Bearer anything"},
        "token_ids": ["abcdefgh12345678"],  # a list is no credential's value
        "note": "sk-looks-Like-A-Key-123456",  # not under a secret name
    }
    assert body_secrets(_body(body)) == set()


def test_bodies_that_are_not_json_or_too_deep_teach_nothing() -> None:
    assert body_secrets(b"") == set()
    assert body_secrets(b"api_key=sk-Ab12Cd34Ef56Gh") == set()
    assert body_secrets(b'{"api_key": "sk-Ab12') == set()
    deep = b'{"a": ' * 100_000 + b"1" + b"}" * 100_000
    assert body_secrets(deep) == set()


def test_a_nested_body_is_walked_without_recursion() -> None:
    nested: object = {"api_key": TOKEN}
    for _ in range(500):  # within what json.loads reads, past nothing a walk must bound
        nested = [nested]
    assert body_secrets(_body({"items": nested})) == {TOKEN}


def test_replay_compares_a_received_body_as_the_recorder_stored_it() -> None:
    sent = _body({"tools": [{"headers": {"Authorization": f"Bearer {TOKEN}"}}], "n": 1})
    other_key = _body(
        {"tools": [{"headers": {"Authorization": "Bearer mcp-Other1234Key"}}], "n": 1}
    )
    assert json.loads(body_as_recorded(sent)) == json.loads(body_as_recorded(other_key))
    assert json.loads(body_as_recorded(sent))["tools"][0]["headers"]["Authorization"] == "***"
    plain = _body({"model": "gpt-4", "messages": [{"role": "user", "content": "Hi"}]})
    assert body_as_recorded(plain) == plain
