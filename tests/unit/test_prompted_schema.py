"""A JSON Schema in the prompt: which one is read, and the bounds on reading it."""

from __future__ import annotations

import json
from typing import Any

import pytest

import mockserver.engine.instances.api as instances_api
from mockserver.engine.chat import message_text, plan_chat, reply_request_from_chat
from mockserver.engine.prompted_schema import prompted_schema
from mockserver.engine.reply import plan_reply, seeded_rng

CITY = {
    "properties": {"name": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["name", "population"],
    "type": "object",
}


def found(*texts: str, role: str = "system") -> Any:
    return prompted_schema([{"role": role, "content": text} for text in texts], message_text)


def test_the_schema_of_a_prompt_that_asks_for_json_is_found() -> None:
    assert found(f"Answer in JSON matching this schema:\n{json.dumps(CITY, indent=2)}") == CITY


def test_the_last_schema_is_the_one_read_and_an_instance_is_not_a_schema() -> None:
    # LangChain's format instructions: an example schema, an example instance, a wrong
    # instance shaped like a schema, then the model's own schema in a code block.
    example = {"properties": {"foo": {"type": "array", "items": {"type": "string"}}}}
    text = (
        "The output should be formatted as a JSON instance that conforms to the JSON schema "
        f"below.\nFor the schema {json.dumps(example)} the object "
        '{"foo": ["bar", "baz"]} is well-formatted; {"properties": {"foo": ["bar", "baz"]}} '
        f"is not.\nHere is the output schema:\n```\n{json.dumps(CITY)}\n```"
    )
    assert found(text) == CITY


def test_a_schema_without_the_word_json_or_in_an_assistant_message_is_not_read() -> None:
    assert found(f"Explain this schema: {json.dumps(CITY)}") is None
    assert found(f"Here is JSON: {json.dumps(CITY)}", role="assistant") is None
    assert found("Reply in JSON about {city} and {topic}.") is None


def test_parts_content_and_a_pydantic_ref_schema_are_read() -> None:
    ref = {"$ref": "#/$defs/City", "$defs": {"City": CITY}}
    message = {"role": "user", "content": [{"type": "text", "text": f"json: {json.dumps(ref)}"}]}
    assert prompted_schema([message], message_text) == ref


def test_reading_is_bounded_by_text_length_and_by_attempts() -> None:
    late = "json " + " " * (256 * 1024) + json.dumps(CITY)
    assert found(late) is None
    # Broken objects before the schema: 32 attempts are all there are.
    broken = '{"a": ' * 40
    assert found("json " + broken + json.dumps(CITY)) is None
    assert found("json " + '{"a": ' * 20 + json.dumps(CITY)) == CITY
    deep = "json " + '{"a": ' * 100_000
    assert found(deep) is None


def test_an_instance_answers_json_mode_and_a_code_block_answers_words() -> None:
    system = {"role": "system", "content": f"Answer in json like: {json.dumps(CITY)}"}
    user = {"role": "user", "content": "Tell me about Paris"}
    json_mode = {"messages": [system, user], "response_format": {"type": "json_object"}}
    text = plan_reply(reply_request_from_chat(json_mode), seeded_rng(b"k")).text
    assert json.loads(text)["name"] == "Paris"
    worded = plan_reply(reply_request_from_chat({"messages": [system, user]}), seeded_rng(b"k"))
    assert worded.text.startswith("```json\n") and worded.text.endswith("\n```")
    assert json.loads(worded.text[len("```json\n") : -len("\n```")])["name"] == "Paris"


def test_a_schema_the_generator_cannot_meet_falls_back_to_text() -> None:
    impossible = {
        "properties": {"x": {"type": "string", "minLength": 5, "maxLength": 2}},
        "required": ["x"],
    }
    body = {"messages": [{"role": "user", "content": f"json please {json.dumps(impossible)}"}]}
    reply = plan_reply(reply_request_from_chat(body), seeded_rng(b"k"))
    assert reply.text and not reply.text.startswith("```")


def test_the_tries_of_all_messages_share_one_budget() -> None:
    broken = "json " + '{"a": [' + "1," * 100_000  # 200 KB that never closes
    schema = f"json {json.dumps(CITY)}"
    assert found(broken, schema) == CITY
    assert found(broken, broken, broken, schema) is None


# agno's JSON mode (`use_json_mode=True`, agno/utils/prompts.py get_json_output_prompt) for
# Person(name: str, age: int, address: Address(city: str, zip: str | None)).
AGNO_PROMPT = """\
Provide your output as a JSON containing the following fields:
<json_fields>
["name", "age", "address"]
</json_fields>

Here are the properties for each field:
<json_field_properties>
{
  "name": {
    "type": "string"
  },
  "age": {
    "type": "integer"
  },
  "address": {
    "$ref": "#/$defs/Address"
  },
  "$defs": {
    "Address": {
      "city": {
        "type": "string"
      },
      "zip": {
        "anyOf": [
          {
            "type": "string"
          },
          {
            "type": "null"
          }
        ],
        "default": null
      }
    }
  }
}
</json_field_properties>
Start your response with `{` and end it with `}`.
Your output will be passed to json.loads() to convert it to a Python object.
Make sure it only contains valid JSON."""


def test_agno_json_fields_are_read_as_the_object_they_describe() -> None:
    system = {"role": "system", "content": "You are a helpful assistant.\n" + AGNO_PROMPT}
    user = {"role": "user", "content": "Alice Smith is 30 years old and lives in Paris."}
    body = {"messages": [system, user], "response_format": {"type": "json_object"}}
    person = json.loads(plan_reply(reply_request_from_chat(body), seeded_rng(b"k")).text)
    assert set(person) == {"name", "age", "address"}
    assert person["name"] == "Alice Smith" and person["age"] == 30
    assert isinstance(person["address"]["city"], str)
    # Without its closing tags the prompt is not read (the usual JSON object then).
    cut = AGNO_PROMPT.replace("</json_field_properties>", "")
    assert found(cut) is None


def test_a_prompt_schema_that_fails_is_tried_once_a_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A schema the generator gives up on was tried again for each of n choices, up to the
    # request's time limit (a backtracking pattern: 10 s for n: 16).
    impossible = {
        "properties": {"x": {"type": "string", "minLength": 5, "maxLength": 2}},
        "required": ["x"],
    }
    body = {
        "model": "gpt-4",
        "n": 16,
        "messages": [{"role": "user", "content": f"Answer in JSON: {json.dumps(impossible)}"}],
    }
    calls: list[object] = []
    real = instances_api.generate_instance

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(instances_api, "generate_instance", counting)
    plan = plan_chat(body)
    assert len(plan.choices) == 16
    assert all(not (choice.text or "").startswith("```") for choice in plan.choices)
    assert len(calls) == 1


def test_responses_instructions_are_read_like_a_system_message() -> None:
    # The same prompt in `instructions` got prose; in a system input item, the instance.
    from mockserver.engine.responses import plan_response

    asked = f"Answer in JSON matching this schema: {json.dumps(CITY)}"
    by_instructions = plan_response(
        {"model": "gpt-4", "instructions": asked, "input": "Tell me about Paris"}
    )
    assert by_instructions.output_text.startswith("```json\n")
    assert json.loads(by_instructions.output_text[8:-4])["name"] == "Paris"
