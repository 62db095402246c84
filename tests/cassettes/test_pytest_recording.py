"""pytest-recording replays a shipped cassette with the exported config, as a user's suite would."""

from __future__ import annotations

import pytest

from tests.cassettes.conftest import SHIPPED

CONFTEST = """
import pytest
from harness.cassettes import register_matchers, vcr_config as harness_vcr_config

@pytest.fixture(scope="session")
def vcr_config():
    return harness_vcr_config()

def pytest_recording_configure(config, vcr):
    register_matchers(vcr)
"""

TESTS = f"""
import pytest
import requests
from openai import OpenAI

CASSETTE = {str(SHIPPED / "documented" / "chat-completion.yaml")!r}
BASE_URL = "http://127.0.0.1:9/v1"  # nothing listens; --block-network stops any real call
HELLO = [{{"role": "user", "content": "Hello"}}]


@pytest.mark.vcr(CASSETTE)
def test_sdk():
    client = OpenAI(base_url=BASE_URL, api_key="sk-user-test-key", max_retries=0)
    reply = client.chat.completions.create(model="gpt-4", messages=HELLO)
    assert reply.choices[0].message.content == "Hello! How can I assist you today?"
    assert reply.model == "gpt-4-0613"


@pytest.mark.vcr(CASSETTE)
def test_requests_with_another_key_order():
    answer = requests.post(
        BASE_URL + "/chat/completions",
        data='{{"messages": [{{"role": "user", "content": "Hello"}}], "model": "gpt-4"}}',
        headers={{"Content-Type": "application/json", "Authorization": "Bearer x"}},
        timeout=5,
    )
    assert answer.json()["id"] == "chatcmpl-BKKWkzVpUFHEDbw7MlOsqBIbm9Vi2"


@pytest.mark.vcr(CASSETTE)
def test_an_unrecorded_body_is_not_replayed():
    client = OpenAI(base_url=BASE_URL, api_key="sk-user-test-key", max_retries=0)
    with pytest.raises(Exception, match="json_body"):
        bye = [{{"role": "user", "content": "Bye"}}]
        client.chat.completions.create(model="gpt-4", messages=bye)
"""


def test_pytest_recording_replays_a_shipped_cassette(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_user=TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "recording", "--record-mode=none", "--block-network", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=3)
