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


# A server URL as MCP servers hand them out: a key in the user info, in the path (Zapier's
# /s/<key>/mcp), and in the query, beside parts that are no credential.
URL_PASSWORD = "pw-Lm34Nb56Vc78"
URL_PATH_KEY = "zap9Kq27Lm35Wp41"
URL_QUERY_KEY = "key-Ab12Cd34Ef56"
KEYED_URL = (
    f"https://robot:{URL_PASSWORD}@mcp2.example.com:8443/api/s/{URL_PATH_KEY}/mcp"
    f"?api_key={URL_QUERY_KEY}&version=2024-11-05&k=tok%2FQw12Er34Ty"
)


def test_the_keys_in_an_mcp_server_url_are_learned_and_its_host_is_not() -> None:
    """The live API echoes an mcp tool's ``server_url`` as its host alone, since a URL's
    path and query are where MCP servers take a key; the scrub kept the URL as sent."""
    learned = body_secrets(_body({"tools": [{"type": "mcp", "server_url": KEYED_URL}]}))
    assert {URL_PASSWORD, URL_PATH_KEY, URL_QUERY_KEY, "tok/Qw12Er34Ty"} <= learned
    assert not {piece for piece in learned if "example.com" in piece or "2024" in piece}
    recorded = json.loads(body_as_recorded(_body({"tools": [{"server_url": KEYED_URL}]})))
    assert recorded["tools"][0]["server_url"] == (
        "https://***@mcp2.example.com:8443/api/s/***/mcp?api_key=***&version=2024-11-05&k=***"
    )


def test_a_server_url_without_a_key_teaches_nothing() -> None:
    for url in (
        "https://mcp.example.com/sse",
        "http://[::1]:8000/mcp",
        "https://user@example.com/v1beta2/mcp?version=2024-11-05",
        "not a url at all",
        "",
    ):
        assert body_secrets(_body({"tools": [{"server_url": url}]})) == set(), url
