"""The plugin's journal helpers as a user's tests call them: requests.filter, near_misses, chaos."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

USER_TESTS = """
import json

import openai
import pytest
from openai import OpenAI


def ask(mock_server, text, **options):
    client = OpenAI(base_url=mock_server.base_url, api_key="k", max_retries=0)
    return client.chat.completions.create(
        model="gpt-4", messages=[{"role": "user", "content": text}], **options
    )


def test_requests_is_still_the_list_it_was(mock_server):
    assert mock_server.requests == []
    assert isinstance(mock_server.requests, list)
    ask(mock_server, "one")
    ask(mock_server, "two")
    entries = mock_server.requests
    assert len(entries) == 2
    assert entries[-1]["body"]["messages"][0]["content"] == "two"
    assert [entry["status"] for entry in entries[:1]] == [200]
    assert entries == list(entries)
    assert json.loads(json.dumps(entries)) == entries
    assert entries + [] == list(entries)


def test_filter_by_fields_body_and_predicate(mock_server):
    stub = mock_server.stub(match={"last_user_message": "ping"}, reply={"text": "pong"})
    ask(mock_server, "ping", temperature=0.5)
    ask(mock_server, "hello")
    with pytest.raises(openai.RateLimitError):
        ask(mock_server, "hello", extra_headers={"X-Mock-Fault": "rate_limit"})
    requests = mock_server.requests
    assert len(requests.filter(path="/v1/chat/completions")) == 3
    assert len(requests.filter(path="/v1/responses")) == 0
    (stubbed,) = requests.filter(stub_id=stub["id"])
    assert stubbed["body"]["temperature"] == 0.5
    assert len(requests.filter(stub_id=None)) == 2
    (limited,) = requests.filter(fault="rate_limit")
    assert limited["status"] == 429
    assert len(requests.filter(fault=None, status=200)) == 2
    assert len(requests.filter(model="gpt-4")) == 3
    assert len(requests.filter(model="gpt-4o")) == 0
    assert len(requests.filter(body_contains="hell")) == 2
    assert len(requests.filter(body_contains={"temperature": 0.5})) == 1
    assert len(requests.filter(body_contains={"temperature": 0.5, "model": "gpt-4o"})) == 0
    assert len(requests.filter(lambda entry: entry["status"] >= 400)) == 1
    # Filters chain, and what they return is a list too.
    chained = requests.filter(status=200).filter(body_contains="hello")
    assert isinstance(chained, list) and len(chained) == 1


def test_near_misses_say_why_no_stub_answered(mock_server):
    mock_server.stub(
        id="weather",
        match={"model": "gpt-4", "last_user_message": "^weather in \\\\w+$",
               "body": {"temperature": 0}},
        reply={"text": "sunny"},
    )
    mock_server.stub(id="other-model", match={"model": "gpt-4o"}, reply={"text": "x"})
    reply = ask(mock_server, "weather in Paris?", temperature=1)
    assert reply.choices[0].message.content != "sunny"

    (report,) = mock_server.near_misses()
    assert report["request"]["last_user_message"] == "weather in Paris?"
    closest, further = report["near_misses"]
    assert closest["stub_id"] == "weather"
    assert [(m["field"], m.get("pointer")) for m in closest["mismatches"]] == [
        ("match.last_user_message", None),
        ("match.body", "/temperature"),
    ]
    assert closest["mismatches"][1]["expected"] == 0
    assert closest["mismatches"][1]["actual"] == 1
    assert further["stub_id"] == "other-model"
    assert further["mismatches"] == [
        {"field": "match.model", "expected": "gpt-4o", "actual": "gpt-4",
         "reason": "another model"}
    ]
    # One request, from the journal or written by hand.
    (entry,) = mock_server.requests.filter(stub_id=None)
    assert mock_server.near_misses(entry)[0]["stub_id"] == "weather"
    fixed = {"path": "/v1/chat/completions", "body": {**entry["body"], "temperature": 0,
             "messages": [{"role": "user", "content": "weather in Paris"}]}}
    assert mock_server.near_misses(fixed)[0]["mismatches"] == []
"""

CHAOS_CONFTEST = """
import pytest
from mockserver import MockConfig

@pytest.fixture(scope="session")
def mock_server_config():
    return MockConfig(chaos=(("rate_limit", 0.3),), chaos_seed=7)
"""

CHAOS_TESTS = """
from openai import OpenAI

FIRST = []


def test_retries_recover_from_chaos(mock_server):
    client = OpenAI(base_url=mock_server.base_url, api_key="k", max_retries=4)
    for _ in range(3):
        reply = client.chat.completions.create(
            model="gpt-4", messages=[{"role": "user", "content": "Hello"}]
        )
        assert reply.choices[0].message.content
    requests = mock_server.requests
    retried = requests.filter(fault="rate_limit")
    assert retried and all(entry["status"] == 429 for entry in retried)
    assert len(requests.filter(status=200)) == 3
    assert len(requests) == 3 + len(retried)
    FIRST.extend(entry["status"] for entry in requests)


def test_each_test_meets_the_same_faults(mock_server):
    # The numbering restarts at each test's reset: this test sees what the first saw.
    client = OpenAI(base_url=mock_server.base_url, api_key="k", max_retries=4)
    for _ in range(3):
        client.chat.completions.create(
            model="gpt-4", messages=[{"role": "user", "content": "Hello"}]
        )
    assert FIRST and [entry["status"] for entry in mock_server.requests] == FIRST
"""


def test_journal_helpers_in_a_user_test_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user_journal=USER_TESTS)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_chaos_through_the_config_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CHAOS_CONFTEST)
    pytester.makepyfile(test_user_chaos=CHAOS_TESTS)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
