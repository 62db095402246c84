"""The plugin's reset before each test: a response one test stored is gone for the next."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

USER_TESTS = """
import openai
from openai import OpenAI

STORED = []


def client(mock_server):
    return OpenAI(base_url=mock_server.base_url, api_key="k", max_retries=0)


def test_one_stores_a_response(mock_server):
    created = client(mock_server).responses.create(model="gpt-4", input="hi", store=True)
    assert client(mock_server).responses.retrieve(created.id).id == created.id
    STORED.append(created.id)


def test_the_next_does_not_see_it(mock_server):
    assert STORED
    try:
        client(mock_server).responses.retrieve(STORED[0])
    except openai.NotFoundError:
        return
    raise AssertionError("a response stored by the previous test is still there")
"""


def test_a_stored_response_does_not_leak_into_the_next_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user_isolation=USER_TESTS)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
