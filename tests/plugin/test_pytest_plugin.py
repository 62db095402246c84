"""The pytest plugin as users meet it: a test file using only its fixtures, run by pytest."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

USER_TESTS = """
import httpx
from openai import OpenAI


def test_stubbed_reply_and_journal(mock_server, assert_conforms):
    mock_server.stub(match={"last_user_message": "ping"}, reply={"text": "pong"}, times=1)
    client = OpenAI(base_url=mock_server.base_url, api_key="test-key")
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4", messages=[{"role": "user", "content": "ping"}]
    )
    assert_conforms(raw)
    assert raw.parse().choices[0].message.content == "pong"
    (entry,) = mock_server.requests
    assert entry["method"] == "POST"
    assert entry["path"] == "/v1/chat/completions"
    assert entry["body"]["messages"][0]["content"] == "ping"


def test_state_is_reset_between_tests(mock_server):
    assert mock_server.requests == []
    reply = OpenAI(base_url=mock_server.base_url, api_key="k").chat.completions.create(
        model="gpt-4", messages=[{"role": "user", "content": "ping"}]
    )
    assert reply.choices[0].message.content != "pong"


def test_streams_conform(mock_server, assert_conforms):
    with httpx.Client() as http:
        response = http.post(
            f"{mock_server.base_url}/responses",
            json={"model": "gpt-4", "input": "Hello", "stream": True},
            headers={"Authorization": "Bearer k"},
        )
    assert_conforms(response)
    assert mock_server.url.startswith("http://127.0.0.1:")


def test_a_broken_body_is_reported(assert_conforms):
    body = {"id": "x", "object": "chat.completion", "created": "yesterday", "model": "gpt-4",
            "choices": [{"index": 0, "finish_reason": "banana",
                         "message": {"role": "assistant", "content": "hi"}}]}
    assert_conforms(body, path="/v1/chat/completions")


def test_a_stub_that_never_answered_is_reported(mock_server):
    # A stub whose match is wrong lets the test pass on a generated reply; the test can ask.
    used = mock_server.stub(match={"last_user_message": "^ping$"}, reply={"text": "pong"})
    unused = mock_server.stub(match={"last_user_message": "^pnig$"}, reply={"text": "gnop"})
    client = OpenAI(base_url=mock_server.base_url, api_key="test-key")
    client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "ping"}])
    assert [stub["id"] for stub in mock_server.unused_stubs()] == [unused["id"]]
    assert used["id"] not in [stub["id"] for stub in mock_server.unused_stubs()]
"""


def test_a_user_test_file_runs_with_the_plugin_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user_app=USER_TESTS)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, failed=1)
    output = result.stdout.str()
    # The failing assertion lists every violation, each with its JSON pointer.
    assert "spec violation(s)" in output
    assert "/created" in output
    assert "/choices/0/finish_reason" in output
    assert '"usage" is a required property' in output


def test_config_fixture_can_be_overridden(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest
from mockserver import MockConfig

@pytest.fixture(scope="session")
def mock_server_config():
    return MockConfig(api_key="only-this-key")
"""
    )
    pytester.makepyfile(
        test_key="""
import openai, pytest
from openai import OpenAI

def test_fixed_key(mock_server):
    with pytest.raises(openai.AuthenticationError):
        OpenAI(base_url=mock_server.base_url, api_key="wrong", max_retries=0).models.list()
    OpenAI(base_url=mock_server.base_url, api_key="only-this-key").models.list()
"""
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


KEYED_TEST = """
import openai, pytest
from openai import OpenAI

def test_keyed(mock_server):
    with pytest.raises(openai.AuthenticationError):
        OpenAI(base_url=mock_server.base_url, api_key="wrong", max_retries=0).models.list()
    OpenAI(base_url=mock_server.base_url, api_key="secret").models.list()
"""
OPEN_TEST = """
from openai import OpenAI

def test_open(mock_server):
    OpenAI(base_url=mock_server.base_url, api_key="any-key", max_retries=0).models.list()
"""


@pytest.mark.parametrize("order", [("test_open.py", "keyed"), ("keyed", "test_open.py")])
def test_a_config_overridden_in_a_folder_applies_to_that_folder_only(
    pytester: pytest.Pytester, order: tuple[str, str]
) -> None:
    # The session's one server took the config of whichever test came first: in one order
    # the folder's key was ignored, in the other it applied to every test of the session.
    keyed = pytester.mkpydir("keyed")
    (keyed / "conftest.py").write_text(
        "import pytest\nfrom mockserver import MockConfig\n\n"
        '@pytest.fixture(scope="session")\n'
        "def mock_server_config():\n"
        # A list, as users write it: the configuration is not hashable.
        '    return MockConfig(api_key="secret", model_aliases=["gpt-4o"])\n'
    )
    (keyed / "test_keyed.py").write_text(KEYED_TEST)
    pytester.makepyfile(test_open=OPEN_TEST)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", *order)
    result.assert_outcomes(passed=2)
