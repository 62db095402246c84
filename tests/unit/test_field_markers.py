"""DSPy's field-marker protocol: the prompt names its output fields, the answer gives each.

The prompts in ``dspy_prompts.json`` are the messages dspy 3.4.1's ``ChatAdapter`` and
``JSONAdapter`` write (``adapter.format(signature, [], inputs)``) for a typed question, a
signature of every kind of type, ChainOfThought, and the steps of a ReAct loop with two tools.
The answers are read back here the way DSPy reads them.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from mockserver.engine.chat import message_text, reply_request_from_chat
from mockserver.engine.field_markers import prompted_fields
from mockserver.engine.reply import plan_reply, seeded_rng

PROMPTS = Path(__file__).with_name("dspy_prompts.json")
# DSPy's ChatAdapter.parse: a line that starts with a marker opens that field's section.
_HEADER = re.compile(r"\[\[ ## (\w+) ## \]\]")


@cache
def prompts() -> dict[str, list[dict[str, str]]]:
    loaded: dict[str, list[dict[str, str]]] = json.loads(PROMPTS.read_text(encoding="utf-8"))
    return loaded


def answer(name: str, json_object: bool = False, key: bytes = b"k") -> str:
    body: dict[str, Any] = {"model": "gpt-4", "messages": prompts()[name]}
    if json_object:
        body["response_format"] = {"type": "json_object"}
    return plan_reply(reply_request_from_chat(body), seeded_rng(key)).text


def sections(text: str) -> dict[str, str]:
    """The fields of a ChatAdapter answer, as DSPy splits it (the first of a name is kept)."""
    found: list[tuple[str | None, list[str]]] = [(None, [])]
    for line in text.splitlines():
        match = _HEADER.match(line.strip())
        if match:
            rest = line.strip()[match.end() :].strip()
            found.append((match.group(1), [rest] if rest else []))
        else:
            found[-1][1].append(line)
    fields: dict[str, str] = {}
    for name, lines in found:
        if name is not None and name not in fields:
            fields[name] = "\n".join(lines).strip()
    return fields


def test_a_chat_adapter_prompt_is_answered_field_by_field_in_order() -> None:
    text = answer("qa_chat")
    assert [match.group(1) for match in _HEADER.finditer(text)] == [
        "answer",
        "confidence",
        "completed",
    ]
    fields = sections(text)
    assert fields["answer"] and "[[" not in fields["answer"]
    assert isinstance(float(fields["confidence"]), float)
    assert text.rstrip().endswith("[[ ## completed ## ]]")


def test_every_kind_of_type_is_answered_with_a_value_of_that_type() -> None:
    for key in (b"a", b"b", b"c", b"d"):
        fields = sections(answer("typed_chat", key=key))
        assert isinstance(int(fields["count"]), int)
        assert fields["ok"] in {"True", "False"}
        tags = json.loads(fields["tags"])
        assert isinstance(tags, list) and all(isinstance(tag, str) for tag in tags)
        assert fields["kind"] in {"fact", "opinion"}
        assert isinstance(json.loads(fields["extra"]), dict)
        city = json.loads(fields["city"])
        assert isinstance(city["name"], str) and isinstance(city["population"], int)
        assert fields["color"] in {"red", "blue"}
        nums = json.loads(fields["nums"])
        assert isinstance(nums, list) and all(isinstance(num, int) for num in nums)


def test_the_users_own_values_fill_the_fields_they_fit() -> None:
    # The question names Paris; the pydantic model's `name` takes it, as tool arguments do.
    assert json.loads(sections(answer("typed_chat"))["city"])["name"] == "Paris"


def test_chain_of_thought_reasoning_is_a_short_sentence_before_the_fields() -> None:
    text = answer("cot_chat")
    assert next(match.group(1) for match in _HEADER.finditer(text)) == "reasoning"
    reasoning = sections(text)["reasoning"]
    assert reasoning.endswith(".") and "\n" not in reasoning and len(reasoning) < 200
    assert sections(text)["answer"]


def test_the_json_adapter_is_answered_with_a_json_object_of_its_fields() -> None:
    value = json.loads(answer("qa_json", json_object=True))
    assert list(value) == ["answer", "confidence"]
    assert isinstance(value["answer"], str) and value["answer"]
    assert isinstance(value["confidence"], int | float)
    typed = json.loads(answer("typed_json", json_object=True))
    assert typed["ok"] in {True, False} and typed["kind"] in {"fact", "opinion"}
    assert typed["city"]["name"] == "Paris" and isinstance(typed["nums"], list)


@pytest.mark.parametrize("adapter", ["chat", "json"])
def test_react_calls_the_tool_the_user_asked_for_then_finishes(adapter: str) -> None:
    def step(name: str) -> dict[str, Any]:
        if adapter == "json":
            read: dict[str, Any] = json.loads(answer(name, json_object=True))
            return read
        fields = sections(answer(name))
        return {**fields, "next_tool_args": json.loads(fields["next_tool_args"])}

    first = step(f"react_start_{adapter}")
    # get_time is listed first; the question asks about the weather.
    assert first["next_tool_name"] == "get_weather"
    assert first["next_tool_args"] == {"location": "Paris"}
    assert first["next_thought"]
    after = step(f"react_observed_{adapter}")
    assert after["next_tool_name"] == "finish" and after["next_tool_args"] == {}


def test_the_answer_after_a_react_loop_repeats_the_observation() -> None:
    fields = sections(answer("react_extract_chat"))
    assert "Sunny in Paris" in fields["answer"] and fields["reasoning"]


def test_the_finish_steps_observation_is_not_the_one_repeated() -> None:
    system, user = prompts()["react_extract_chat"]
    finished = user["content"].replace(
        "Sunny in Paris\n",
        "Sunny in Paris\n\n[[ ## thought_1 ## ]]\nDone.\n\n[[ ## tool_name_1 ## ]]\nfinish\n\n"
        "[[ ## tool_args_1 ## ]]\n{}\n\n[[ ## observation_1 ## ]]\nCompleted.\n",
    )
    assert "observation_1" in finished
    assert (
        "Sunny in Paris" in sections(answer_of([system, {**user, "content": finished}]))["answer"]
    )


def test_a_prompt_that_does_not_use_the_protocol_answers_as_before() -> None:
    qa = prompts()["qa_chat"]
    plain = [qa[0], {"role": "user", "content": "[[ ## question ## ]]\nWhat is 2 + 2?"}]
    assert prompted_fields(plain, message_text) is None
    # The sentence without the backticked markers, or in an assistant message, is not asked.
    loose = "Respond with the corresponding output fields, starting with the field answer."
    assert prompted_fields([{"role": "user", "content": loose}], message_text) is None
    said = [*qa[:1], {"role": "assistant", "content": qa[1]["content"]}]
    assert prompted_fields(said, message_text) is None
    assert "[[ ##" not in answer_of(plain)


def answer_of(messages: list[dict[str, str]]) -> str:
    body = {"model": "gpt-4", "messages": messages}
    return plan_reply(reply_request_from_chat(body), seeded_rng(b"k")).text


def test_fields_beyond_the_limit_or_a_sentence_that_never_ends_are_not_read() -> None:
    many = ", then ".join(f"`[[ ## f{index} ## ]]`" for index in range(1000))
    sentence = (
        f"Respond with the corresponding output fields, starting with the field {many}, "
        "and then ending with the marker for `[[ ## completed ## ]]`."
    )
    assert prompted_fields([{"role": "user", "content": sentence}], message_text) is None
    open_ended = "Respond with the corresponding output fields, starting with the field `[[ ## a"
    assert prompted_fields([{"role": "user", "content": open_ended * 5000}], message_text) is None


def test_hostile_notes_and_tool_lists_fall_back_to_text_not_an_error() -> None:
    qa = prompts()["react_start_chat"]
    system = qa[0]["content"]
    deep = '{"type": "object", "properties": {"a": ' * 5000
    hostile = system.replace(
        "must adhere to the JSON schema: {", f"must adhere to the JSON schema: {deep}"
    ).replace("{'location': {'type': 'string'}}", "{'a': " * 5000 + "[" * 100_000)
    text = answer_of([{"role": "system", "content": hostile}, qa[1]])
    fields = sections(text)
    # The tool's arguments were unreadable: it is called with none; the note unreadable: the
    # field is an object, as its Python type (dict[str, Any]) says.
    assert fields["next_tool_name"] == "get_weather"
    assert json.loads(fields["next_tool_args"]) == {}


def test_a_note_the_generator_cannot_meet_falls_back_to_the_usual_text() -> None:
    qa = prompts()["typed_chat"]
    impossible = '{"type": "string", "minLength": 5, "maxLength": 2}'
    system = qa[0]["content"].replace(
        'must adhere to the JSON schema: {"type": "array", "items": {"type": "string"}}',
        f"must adhere to the JSON schema: {impossible}",
    )
    text = answer_of([{"role": "system", "content": system}, qa[1]])
    assert "[[ ##" not in text and text


def test_a_huge_prompt_is_read_only_to_its_limits() -> None:
    qa = prompts()["qa_chat"]
    padded = "x" * (2 * 1024 * 1024) + qa[1]["content"]
    fields = prompted_fields([qa[0], {"role": "user", "content": padded}], message_text)
    assert fields is not None  # the request sits at the end; the padding is not read
    buried = qa[1]["content"] + "x" * (2 * 1024 * 1024)
    assert prompted_fields([qa[0], {"role": "user", "content": buried}], message_text) is None
