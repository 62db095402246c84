"""match.turns and match.has_tool_result: what they count, in chat and Responses, and the
near-miss diagnosis agreeing with the matcher on them."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mockserver.storage import StoredResponse
from mockserver.stub_diagnosis import explain_mismatch
from mockserver.stub_facts import chat_facts, facts_for, responses_facts
from mockserver.stubs import Stub, parse_stub

CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"
ROLES = st.sampled_from(["system", "user", "assistant", "tool"])
CHAT_BODIES = st.fixed_dictionaries(
    {
        "model": st.just("gpt-4"),
        "messages": st.lists(
            st.fixed_dictionaries({"role": ROLES, "content": st.sampled_from(["hi", "x"])}),
            max_size=5,
        ),
    }
)
MATCHES = st.fixed_dictionaries(
    {},
    optional={
        "turns": st.one_of(
            st.integers(0, 4),
            st.fixed_dictionaries(
                {}, optional={"min": st.integers(0, 2), "max": st.integers(2, 4)}
            ).filter(bool),
        ),
        "has_tool_result": st.booleans(),
        "last_user_message": st.sampled_from(["hi", "^x$"]),
    },
)


class Stored:
    """A response store holding one conversation."""

    def __init__(self, conversation: list[dict[str, Any]]) -> None:
        self.conversation = conversation

    def get(self, response_id: str) -> StoredResponse | None:
        return StoredResponse({}, self.conversation) if response_id == "resp_1" else None


def chat_body(*roles: str) -> dict[str, Any]:
    return {"model": "gpt-4", "messages": [{"role": role, "content": "x"} for role in roles]}


def test_chat_turns_are_user_messages_and_a_tool_result_ends_the_conversation() -> None:
    facts = chat_facts(chat_body("system", "user", "assistant", "tool"))
    assert (facts.turns, facts.has_tool_result) == (1, True)
    facts = chat_facts(chat_body("user", "assistant", "tool", "user"))
    assert (facts.turns, facts.has_tool_result) == (2, False)
    assert (chat_facts({}).turns, chat_facts({}).has_tool_result) == (0, False)


def test_responses_turns_count_the_stored_conversation() -> None:
    stored = Stored([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}])
    body = {
        "model": "gpt-4",
        "previous_response_id": "resp_1",
        "input": [{"type": "function_call_output", "call_id": "c", "output": "12"}],
    }
    facts = responses_facts(stored)(body)  # type: ignore[arg-type]
    assert (facts.turns, facts.has_tool_result) == (1, True)
    facts = responses_facts(stored)({**body, "input": "and now?"})  # type: ignore[arg-type]
    assert (facts.turns, facts.has_tool_result) == (2, False)
    unknown = responses_facts(stored)({**body, "previous_response_id": "resp_x"})  # type: ignore[arg-type]
    assert unknown.turns == 0


def test_facts_are_worked_out_only_when_a_stub_asks() -> None:
    asked: list[str] = []

    class Counting(Stored):
        def get(self, response_id: str) -> StoredResponse | None:
            asked.append(response_id)
            return super().get(response_id)

    body = {"model": "gpt-4", "previous_response_id": "resp_1", "input": "hi"}
    facts = facts_for(RESPONSES, body, Counting([]))  # type: ignore[arg-type]
    assert Stub("s", {"last_user_message": "hi"}, {"text": "x"}).matches(RESPONSES, body, facts)
    assert asked == []
    assert not Stub("s", {"turns": 3}, {"text": "x"}).matches(RESPONSES, body, facts)
    assert asked == ["resp_1"]


@given(MATCHES, CHAT_BODIES)
def test_no_mismatch_exactly_when_the_matcher_matches(
    match: dict[str, Any], body: dict[str, Any]
) -> None:
    stub = parse_stub({"match": match, "reply": {"text": "x"}})
    matches = stub.matches(CHAT, body, facts_for(CHAT, body))
    found = explain_mismatch(stub, CHAT, body)
    assert (found == []) is matches
    fields = {mismatch.field for mismatch in found}
    assert "match" not in fields  # every refusal is explained by a field


def test_the_mismatch_says_what_the_conversation_has() -> None:
    stub = parse_stub(
        {"match": {"turns": {"min": 2}, "has_tool_result": True}, "reply": {"text": "x"}}
    )
    found = [m.as_json() for m in explain_mismatch(stub, CHAT, chat_body("user"))]
    assert found == [
        {
            "field": "match.turns",
            "expected": {"min": 2},
            "actual": 1,
            "reason": "the conversation has 1 user message(s)",
        },
        {
            "field": "match.has_tool_result",
            "expected": True,
            "actual": False,
            "reason": "the conversation does not end with a tool result",
        },
    ]
