"""Output fields a prompt asks for in DSPy's protocol, and an answer that gives each of them.

DSPy (``dspy.Predict``, ``ChainOfThought``, ``ReAct``) asks for its signature's output fields
in words, not with ``response_format``, and parses the reply; prose fails to parse and the
module fails. A model follows the prompt, so the mock does too. The protocol (dspy 3.x,
``dspy/adapters/chat_adapter.py``, ``json_adapter.py``, ``utils.translate_field_type``):

* the last user message ends with the fields in order. The ``ChatAdapter``: "Respond with the
  corresponding output fields, starting with the field `[[ ## answer ## ]]`, then
  `[[ ## confidence ## ]]` (must be formatted as a valid Python float), and then ending with
  the marker for `[[ ## completed ## ]]`." The answer is each field's ``[[ ## name ## ]]``
  line then its value, then ``[[ ## completed ## ]]``. The ``JSONAdapter``: "Respond with a
  JSON object in the following order of fields: `answer`, then `confidence` (...)." The answer
  is a JSON object of the fields;
* the system message states each non-text field's type in a note after its placeholder:
  ``{confidence}        # note: the value you produce must be a single float value`` (in the
  JSONAdapter's template object, inside a JSON string): "must be True or False", "must be a
  single int value", "must be one of: a; b" (an enum), "must exactly match (no extra
  characters) one of: a; b" (a ``Literal``), "must adhere to the JSON schema: {...}" (lists,
  dicts, pydantic models, unions). A field with no note is text;
* ``ReAct`` asks for ``next_thought``, ``next_tool_name`` (one of the tools it lists as
  "(1) name, whose description is <desc>...</desc>. It takes arguments {...}.", the arguments
  a Python ``repr`` of their JSON schemas, or ``finish``) and ``next_tool_args``; the
  trajectory of the earlier steps is an input, with ``[[ ## observation_N ## ]]`` sections.

The values: text fields get the mock's usual reply (after a ReAct trajectory, one about its
last observation), ``reasoning`` and ``next_thought`` a short sentence; typed fields a value
generated from their type, taking the user's own values where they fit (as tool arguments do,
:mod:`engine.mentions`). ReAct calls the tool the question names (else the first listed) and,
once the trajectory holds an observation, ``finish``, so the loop ends.

Only a prompt that uses the protocol's exact sentence with backticked field names is read;
every other prompt is answered as before. Reading is bounded whatever the prompt holds: the
sentence is looked for in the last :data:`_TAIL` characters of the last user message, at most
:data:`_MAX_FIELDS` fields; the notes and tools in the first :data:`_TEXT_LIMIT` characters of
the system messages, each tool's arguments up to :data:`_ARGS_LIMIT` characters. Whatever
cannot be read or generated falls back: a tool's arguments to none, a note to the Python type
the sentence names, a field nothing fits to the usual text answer (``None`` here).
"""

from __future__ import annotations

import ast
import json
import random
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any, Final

from mockserver.engine.generation_limits import GenerationBudget, GenerationLimitError
from mockserver.engine.instances import UnsatisfiableSchemaError, generate_from_words
from mockserver.engine.mentions import Mentions
from mockserver.engine.text import compose_reply
from mockserver.engine.tool_mentions import named_tools

# The request closes the last user message; the inputs before it may be long (a document).
_TAIL: Final = 64 * 1024
_TEXT_LIMIT: Final = 256 * 1024
_MAX_FIELDS: Final = 64
_MAX_TOOLS: Final = 64
_ARGS_LIMIT: Final = 16 * 1024
# What a field asks for when nothing more is known of it.
_TEXT: Final = "text"
_CHAT_START: Final = "Respond with the corresponding output fields, starting with the field "
_CHAT_END: Final = ", and then ending with the marker for `[[ ## completed ## ]]`."
_JSON_START: Final = "Respond with a JSON object in the following order of fields: "
_CHAT_FIELD: Final = re.compile(r"`\[\[ ## (\w+) ## \]\]`")
_JSON_FIELD: Final = re.compile(r"`(\w+)`")
_PYTHON_TYPE: Final = re.compile(r"must be formatted as a valid Python (.+)\)")
_NOTE_PREFIX: Final = r"\{(\w+)\} +# note: the value you produce "
# A note runs to the end of its line (ChatAdapter) or of its JSON string (JSONAdapter).
_CHAT_NOTE: Final = re.compile(_NOTE_PREFIX + r"([^\n]*)")
_JSON_NOTE: Final = re.compile('"' + _NOTE_PREFIX + r'((?:[^"\\\n]|\\.)*)"')
_CHOICES: Final = re.compile(r"must (?:be|exactly match \(no extra characters\)) one of: (.*)")
_SCHEMA_NOTE: Final = "must adhere to the JSON schema: "
_TOOL: Final = re.compile(
    r"^[ \t]*\(\d+\) (\S+?)(?:, whose description is <desc>|\. It takes arguments )", re.M
)
_ARGS_MARK: Final = " It takes arguments "
# An input section: a line that starts with a marker, as DSPy's parser reads them.
_SECTION: Final = re.compile(r"^[ \t]*\[\[ ## (\w+) ## \]\][ \t]*$", re.M)
# The sections of a ReAct trajectory's steps (inside its `trajectory` input field).
_STEP: Final = re.compile(r"(thought|tool_name|tool_args|observation)_(\d+)")
_TRAJECTORY: Final = "trajectory"
_FINISH: Final = "finish"
_REASONING = (
    "Let me work through the question step by step.",
    "I will answer from what the question asks.",
    "The question is clear, so I can answer it directly.",
)
_SIMPLE_TYPES: Final[Mapping[str, Mapping[str, Any]]] = {
    "must be True or False": {"type": "boolean"},
    "must be a single int value": {"type": "integer"},
    "must be a single float value": {"type": "number"},
}
_PYTHON_SCHEMAS: Final[Mapping[str, Mapping[str, Any]]] = {
    "bool": {"type": "boolean"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
}


@dataclass(frozen=True)
class OutputField:
    """One field the prompt asks for: text (``schema`` None) or a value of ``schema``."""

    name: str
    schema: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class PromptTool:
    name: str
    # The arguments' JSON schemas by name; None when the prompt's text did not read as one.
    arguments: Mapping[str, Any] | None


@dataclass(frozen=True)
class PromptedFields:
    """What a DSPy prompt asks the answer to be."""

    fields: tuple[OutputField, ...]
    as_json: bool  # the JSONAdapter: one JSON object; else the marker sections
    inputs: str  # the input fields' values, where the user's own words are
    observation: str | None  # the last observation of a ReAct trajectory
    tools: tuple[PromptTool, ...] = ()


def prompted_fields(
    messages: Iterable[Mapping[str, Any]], text_of: Callable[[Any], str]
) -> PromptedFields | None:
    """The output fields the prompt asks for in DSPy's protocol, or ``None``.

    ``text_of`` reads a message's ``content`` as text (a string, or its parts).
    """
    listed = list(messages)
    users = [message for message in listed if message.get("role") == "user"]
    if not users:
        return None
    text = text_of(users[-1].get("content"))
    tail_start = max(len(text) - _TAIL, 0)
    asked = _asked_fields(text, tail_start)
    if asked is None:
        return None
    names, python_types, as_json, sentence_at = asked
    system = _system_text(listed, text_of)
    notes = _notes(system, as_json)
    fields = tuple(_field(name, notes.get(name), python_types.get(name)) for name in names)
    inputs, observation = _inputs(text[: min(sentence_at, _TEXT_LIMIT)])
    tools = _tools(system) if any(field.name == "next_tool_name" for field in fields) else ()
    return PromptedFields(fields, as_json, inputs, observation, tools)


def answer_fields(
    request: PromptedFields, rng: random.Random, budget: GenerationBudget
) -> str | None:
    """The answer DSPy parses, or ``None`` when a field gets no value (the usual text then)."""
    mentions = Mentions.of(request.inputs)
    values: dict[str, Any] = {}
    tool = _next_tool(request)
    for field in request.fields:
        if field.name == "next_tool_name" and tool is not None:
            values[field.name] = tool.name
        elif field.name == "next_tool_args" and tool is not None:
            values[field.name] = _tool_arguments(tool, mentions, rng, budget)
        elif field.name == "next_thought" and tool is not None:
            values[field.name] = _thought(tool)
        elif field.schema is None:
            values[field.name] = _text(field.name, request, mentions, rng)
        else:
            try:
                values[field.name] = generate_from_words(
                    field.schema, rng, mentions.suggest, budget
                )
            except (UnsatisfiableSchemaError, GenerationLimitError):
                return None
    if request.as_json:
        return json.dumps(values, ensure_ascii=False, indent=2)
    sections = [f"[[ ## {name} ## ]]\n{_written(value)}" for name, value in values.items()]
    return "\n\n".join([*sections, "[[ ## completed ## ]]"])


def _asked_fields(text: str, tail_start: int) -> tuple[list[str], dict[str, str], bool, int] | None:
    """The field names, their stated Python types, whether JSON is asked for, and where the
    sentence starts; ``None`` when the text holds no such sentence."""
    chat_at = text.rfind(_CHAT_START, tail_start)
    json_at = text.rfind(_JSON_START, tail_start)
    if chat_at < 0 and json_at < 0:
        return None
    as_json = json_at > chat_at
    if as_json:
        start = json_at + len(_JSON_START)
        end = text.find(".\n", start)
        listed = text[start : end if end >= 0 else len(text)]
        pattern = _JSON_FIELD
    else:
        start = chat_at + len(_CHAT_START)
        end = text.find(_CHAT_END, start)
        if end < 0:
            return None
        listed = text[start:end]
        pattern = _CHAT_FIELD
    names: list[str] = []
    python_types: dict[str, str] = {}
    matches = list(islice(pattern.finditer(listed), _MAX_FIELDS + 1))
    if not matches or len(matches) > _MAX_FIELDS or matches[0].start() != 0:
        return None
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        names.append(match.group(1))
        stated = listed[match.end() : following.start() if following else len(listed)]
        found = _PYTHON_TYPE.search(stated)
        if found:
            python_types[match.group(1)] = found.group(1)
    return names, python_types, as_json, json_at if as_json else chat_at


def _system_text(messages: Iterable[Mapping[str, Any]], text_of: Callable[[Any], str]) -> str:
    texts = [
        text_of(message.get("content"))[:_TEXT_LIMIT]
        for message in messages
        if message.get("role") in ("system", "developer")
    ]
    return "\n".join(texts)[:_TEXT_LIMIT]


def _notes(system: str, as_json: bool) -> dict[str, str]:
    """Each field's note, by name (the first one: the structure precedes the instructions)."""
    notes: dict[str, str] = {}
    for match in (_JSON_NOTE if as_json else _CHAT_NOTE).finditer(system):
        note = match.group(2)
        if as_json:
            try:
                note = json.loads(f'"{note}"')
            except json.JSONDecodeError:
                continue
        notes.setdefault(match.group(1), note)
    return notes


def _field(name: str, note: str | None, python_type: str | None) -> OutputField:
    """A field's type from its note, else from the Python type the request names."""
    if note is not None:
        schema = _note_schema(note)
        if schema is not None:
            return OutputField(name, schema)
    if python_type is not None:
        return OutputField(name, _python_schema(python_type))
    return OutputField(name)


def _note_schema(note: str) -> Mapping[str, Any] | None:
    note = note.strip()
    if note in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[note]
    choices = _CHOICES.fullmatch(note)
    if choices:
        return {"enum": choices.group(1).split("; ")}
    if note.startswith(_SCHEMA_NOTE):
        try:
            schema = json.loads(note[len(_SCHEMA_NOTE) :])
        except (json.JSONDecodeError, RecursionError):
            return None
        return schema if isinstance(schema, dict) else None
    return None


def _python_schema(python_type: str) -> Mapping[str, Any] | None:
    if python_type in _PYTHON_SCHEMAS:
        return _PYTHON_SCHEMAS[python_type]
    if python_type.startswith("list["):
        return {"type": "array"}
    if python_type.startswith("dict["):
        return {"type": "object"}
    return None  # str, or a type the mock cannot tell: text


def _inputs(text: str) -> tuple[str, str | None]:
    """The input fields' values (a trajectory's left out) and the last observation of a
    tool other than ``finish`` (whose observation only says the loop is done)."""
    sections = list(_SECTION.finditer(text))
    if not sections:
        return text.strip(), None
    values: list[str] = []
    observations: dict[str, str] = {}
    finished: set[str] = set()
    for section, following in zip(sections, [*sections[1:], None], strict=True):
        value = text[section.end() : following.start() if following else len(text)].strip()
        name = section.group(1)
        step = _STEP.fullmatch(name)
        if step is None:
            if name != _TRAJECTORY:
                values.append(value)
        elif step.group(1) == "observation":
            observations[step.group(2)] = value
        elif step.group(1) == "tool_name" and value == _FINISH:
            finished.add(step.group(2))
    observed = [value for index, value in observations.items() if index not in finished]
    return "\n\n".join(values), observed[-1] if observed else None


def _tools(system: str) -> tuple[PromptTool, ...]:
    tools: list[PromptTool] = []
    for match in islice(_TOOL.finditer(system), _MAX_TOOLS):
        line_end = system.find("\n", match.end())
        line = system[match.start() : line_end if line_end >= 0 else len(system)]
        tools.append(PromptTool(match.group(1), _arguments(line.rpartition(_ARGS_MARK)[2])))
    return tuple(tools)


def _arguments(text: str) -> Mapping[str, Any] | None:
    """A tool's arguments as DSPy writes them: the ``repr`` of a dict of JSON schemas.

    ``ast.literal_eval`` reads a Python literal and nothing else (no names, no calls); the
    text is cut first, and the parser refuses deep nesting with a ``SyntaxError``.
    """
    text = text.strip().removesuffix(".")
    if len(text) > _ARGS_LIMIT:
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(value, dict) or not all(isinstance(each, dict) for each in value.values()):
        return None
    return {str(name): schema for name, schema in value.items()}


def _next_tool(request: PromptedFields) -> PromptTool | None:
    """ReAct's next tool: ``finish`` once a tool was observed; else the tool the user names,
    else the first listed. ``None`` when the prompt is not a ReAct step."""
    names = {field.name for field in request.fields}
    if not {"next_tool_name", "next_tool_args"} <= names:
        return None
    choice = next(field for field in request.fields if field.name == "next_tool_name")
    allowed = choice.schema.get("enum") if choice.schema is not None else None
    listed = [
        tool for tool in request.tools if not isinstance(allowed, list) or tool.name in allowed
    ]
    finish = next((tool for tool in listed if tool.name == _FINISH), None)
    useful = [tool for tool in listed if tool.name != _FINISH]
    if request.observation is not None or not useful:
        return finish
    named = set(named_tools([tool.name for tool in useful], request.inputs))
    return next((tool for tool in useful if tool.name in named), useful[0])


def _tool_arguments(
    tool: PromptTool, mentions: Mentions, rng: random.Random, budget: GenerationBudget
) -> Any:
    if not tool.arguments:
        return {}
    schema = {
        "type": "object",
        "properties": dict(tool.arguments),
        "required": [name for name, each in tool.arguments.items() if "default" not in each],
    }
    try:
        return generate_from_words(schema, rng, mentions.suggest, budget)
    except (UnsatisfiableSchemaError, GenerationLimitError):
        return {}


def _thought(tool: PromptTool) -> str:
    if tool.name == _FINISH:
        return "I now have the information I need to answer."
    return f"I should call {tool.name} to find what the question asks."


def _text(name: str, request: PromptedFields, mentions: Mentions, rng: random.Random) -> str:
    if name in ("reasoning", "rationale", "next_thought"):
        return rng.choice(_REASONING)
    # A field named for a value the user wrote ("location", "city") takes it.
    found = [
        value for value in mentions.suggest(name, {"type": "string"}) if isinstance(value, str)
    ]
    if found and found[0] != mentions.request:
        return found[0]
    return compose_reply(rng, request.inputs, request.observation)


def _written(value: Any) -> str:
    """A value as a model writes it in a marker section: text as it is, a bool as Python's
    ``True``/``False`` (what the prompt asks for), anything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    return json.dumps(value, ensure_ascii=False)
