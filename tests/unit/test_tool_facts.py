"""A request's tools are read once per tool set, and read the same as read afresh."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from mockserver.engine import tool_facts as facts_module
from mockserver.engine.chat import content_key, plan_chat
from mockserver.engine.tokens import count_tool_tokens
from mockserver.engine.tool_facts import read_tools, tool_facts


def _tool(name: str, **parameters: Any) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": "Look it up.",
            "parameters": {"type": "object", "properties": parameters},
        },
    }


TOOL_SETS = [
    [],
    [_tool("get_weather", city={"type": "string"})],
    [_tool("lookup", key={"type": "string", "default": None}), _tool("ünïcødé_name")],
    [_tool("f", x={"type": "number", "maximum": 1.5e300, "enum": [1, 2.0, -0.0, True]})],
    [_tool("g", y={"description": "\ud800 a lone surrogate, \u2603 and \x00"})],
    [_tool("h", z={"type": "integer", "maximum": 2**70})],
    [_tool("i", w={"type": "number", "maximum": float("inf")})],
    [{"type": "function", "function": {"name": "no_parameters"}}, {"type": "other"}],
    # Responses' flat tools, beside a hosted one.
    [
        {"type": "web_search"},
        {"type": "function", "name": "flat", "parameters": {"type": "object"}},
    ],
]


def _bodies() -> list[dict[str, Any]]:
    bodies = []
    for tools in TOOL_SETS:
        bodies.append(
            {"model": "gpt-4", "messages": [{"role": "user", "content": "Hi"}], "tools": tools}
        )
        bodies.append(
            {
                "tools": tools,
                "tool_choice": "auto",
                "model": "gpt-4",
                "temperature": 0.5,
                "messages": [{"role": "user", "content": "Weather in Zürich?"}],
                "zzz": {"nested": [1, None]},
                "max_tokens": 7,  # a delivery field, left out of the key
            }
        )
        # What a fuzzer sends: a lone surrogate, a number past a float's range (1e999).
        bodies.append(
            {"model": "gpt-4", "messages": [{"role": "user", "content": "\ud800?"}], "tools": tools}
            | {"top_p": float("inf")}
        )
    return bodies


@pytest.mark.parametrize("body", _bodies())
def test_the_content_key_is_byte_for_byte_what_one_call_writes(body: dict[str, Any]) -> None:
    facts = tool_facts(body["tools"])
    assert content_key(body, tools_json=facts.canonical_json) == content_key(body)
    relevant = {key: value for key, value in body.items() if key != "max_tokens"}
    one_call = json.dumps(relevant, sort_keys=True, ensure_ascii=True, default=str).encode()
    assert content_key(body) == one_call


@pytest.mark.parametrize("tools", TOOL_SETS)
def test_facts_remembered_are_the_facts_read_afresh(tools: list[Any]) -> None:
    first = tool_facts(tools)
    again = tool_facts(copy.deepcopy(tools))  # a new request's objects, the same tools
    fresh = read_tools(copy.deepcopy(tools), 0)
    for found in (first, again):
        assert found.functions == fresh.functions
        assert found.prompt_tokens == fresh.prompt_tokens == count_tool_tokens(tools)
        assert found.canonical_json == fresh.canonical_json


def test_a_tool_set_seen_before_is_not_read_again() -> None:
    tools = [_tool(f"lookup_record_{n}", key={"type": "string"}) for n in range(32)]
    assert tool_facts(copy.deepcopy(tools)) is tool_facts(copy.deepcopy(tools))


def test_tools_that_share_their_bytes_but_differ_are_each_read_as_they_are() -> None:
    # orjson writes an infinity as null: the two sets have the same bytes.
    with_null = [_tool("bounded", x={"type": "number", "maximum": None})]
    with_infinity = [_tool("bounded", x={"type": "number", "maximum": float("inf")})]
    assert "null" in tool_facts(with_null).canonical_json
    assert "Infinity" in tool_facts(with_infinity).canonical_json
    assert "null" in tool_facts(copy.deepcopy(with_null)).canonical_json


def test_what_is_remembered_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    memo = facts_module.Memo(
        lambda facts: facts.size, max_entries=4, max_weight=facts_module.MAX_TOOL_SET_BYTES
    )
    monkeypatch.setattr(facts_module, "_FACTS", memo)
    for n in range(10):
        tool_facts([_tool(f"tool_{n}")])
    assert len(memo._entries) == 4
    big = [_tool(f"t{n}", key={"description": "x" * 1000}) for n in range(300)]  # 300 KB
    tool_facts(big)
    assert all(facts.tools is not big for facts, _ in memo._entries.values())


def test_a_chat_plan_counts_the_tools_prompt_tokens() -> None:
    tools = [_tool("get_weather", city={"type": "string", "description": "The city."})]
    body = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hi"}], "tools": tools}
    without = plan_chat({key: value for key, value in body.items() if key != "tools"})
    assert plan_chat(body).prompt_tokens == without.prompt_tokens + count_tool_tokens(tools)
