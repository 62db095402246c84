"""explain_mismatch agrees with the matcher, and names each field that differs."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.stub_diagnosis import explain_mismatch, near_misses, user_text
from mockserver.stubs import Stub

CHAT = "/v1/chat/completions"
WORDS = st.sampled_from(["hi", "ping", "Paris", "", "weather in Paris"])
SCALARS = st.one_of(st.integers(-2, 2), st.booleans(), st.floats(-2, 2), st.none(), WORDS)
VALUES = st.recursive(
    SCALARS, lambda inner: st.dictionaries(st.sampled_from("abc"), inner, max_size=3), max_leaves=6
)
MATCHES = st.fixed_dictionaries(
    {},
    optional={
        "endpoint": st.sampled_from([CHAT, "/chat/completions", "/v1/responses"]),
        "model": st.sampled_from(["gpt-4", "gpt-4o"]),
        "last_user_message": st.sampled_from(["hi", "^ping$", "(?i)paris", "in \\w+"]),
        "body": st.dictionaries(st.sampled_from("abc"), VALUES, max_size=2),
    },
)
BODIES = st.fixed_dictionaries(
    {
        "model": st.sampled_from(["gpt-4", "gpt-4o"]),
        "messages": st.lists(
            st.fixed_dictionaries(
                {"role": st.sampled_from(["user", "assistant"]), "content": WORDS}
            ),
            max_size=2,
        ),
    },
    optional={key: VALUES for key in "abc"},
)


def stub(match: dict[str, Any], **extra: Any) -> Stub:
    return Stub("s", match, {"text": "x"}, **extra)


@given(MATCHES, BODIES, st.sampled_from([CHAT, "/chat/completions", "/v1/responses"]))
def test_no_mismatch_exactly_when_the_matcher_matches(
    match: dict[str, Any], body: dict[str, Any], endpoint: str
) -> None:
    candidate = stub(match)
    matches = candidate.matches(endpoint, body, user_text(endpoint, body))
    assert (explain_mismatch(candidate, endpoint, body) == []) is matches


def test_body_fields_are_named_by_pointer_and_type() -> None:
    wanted = {"a/b": {"c": 1}, "n": 1, "flag": True}
    body = {"model": "gpt-4", "a/b": {"c": 2}, "n": 1.0, "flag": 1}
    found = [m.as_json() for m in explain_mismatch(stub({"body": wanted}), CHAT, body)]
    assert found == [
        {
            "field": "match.body",
            "expected": 1,
            "actual": 2,
            "pointer": "/a~1b/c",
            "reason": "another value in the request",
        },
        {
            "field": "match.body",
            "expected": 1,
            "actual": 1.0,
            "pointer": "/n",
            "reason": "float in the request, int in the stub",
        },
        {
            "field": "match.body",
            "expected": True,
            "actual": 1,
            "pointer": "/flag",
            "reason": "int in the request, bool in the stub",
        },
    ]


def test_a_request_without_user_text_says_so() -> None:
    body = {"model": "gpt-4", "messages": [{"role": "system", "content": "be brief"}]}
    (mismatch,) = explain_mismatch(stub({"last_user_message": "hi"}), CHAT, body)
    assert mismatch.reason == "the request has no user message text"


def test_a_long_text_is_quoted_in_part() -> None:
    body = {"model": "gpt-4", "messages": [{"role": "user", "content": "x" * 10_000}]}
    (mismatch,) = explain_mismatch(stub({"last_user_message": "^y"}), CHAT, body)
    assert mismatch.actual == "x" * 200 + "…"


def test_closest_first_by_the_share_of_conditions_failed() -> None:
    body = {"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}], "a": 1}
    stubs = [
        Stub("far", {"model": "gpt-4o"}, {"text": "x"}, seq=2),
        Stub(
            "near",
            {"model": "gpt-4", "last_user_message": "bye", "body": {"a": 1}},
            {"text": "x"},
            seq=1,
        ),
        Stub("fits", {}, {"text": "x"}, seq=3),
        Stub("fourth", {"model": "gpt-4o", "body": {"a": 2}}, {"text": "x"}, seq=4),
    ]
    shown = near_misses(stubs, CHAT, body)
    assert [(miss["stub_id"], miss["distance"]) for miss in shown] == [
        ("fits", 0),
        ("near", 0.333),
        ("far", 1.0),  # as far as "fourth", with fewer fields differing
    ]


def test_an_unknown_fault_lists_every_fault() -> None:
    from mockserver.faults.registry import FAULTS
    from mockserver.stubs import StubError, parse_stub

    with pytest.raises(StubError) as caught:
        parse_stub({"match": {}, "reply": {"fault": "bogus"}})
    for name in FAULTS:
        assert f'"{name}"' in str(caught.value)
