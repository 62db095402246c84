"""The classic text ReAct protocol: Thought / Action / Action Input lines, then the tool's
Observation, then a Final Answer.

Agent frameworks that run tools without function calling describe the tools in the prompt and
ask for the next step in a fixed format; they parse the reply, run the tool themselves and send
its result back after ``Observation:``. Prose fails to parse (LangChain classic appends "Invalid
Format: Missing 'Action:' after 'Thought:'" and loops to its iteration limit); a model follows
the format, so the mock does too. The frameworks and how they word it:

* LangChain classic, ``create_react_agent`` with the ``hwchase17/react`` prompt: one user
  message, the tools as ``get_weather(city: str) -> str - description`` lines, "Action: the
  action to take, should be one of [get_weather]", "Action Input: the input to the action" (a
  plain string: the tool's single argument), then "Question: {input}" and "Thought:" followed
  by the scratchpad of earlier steps and their ``Observation:`` lines; ``stop:
  ["\\nObservation"]``;
* crewai's text path (a model without function calling): the system message lists each tool as
  "Tool Name: get_weather" / "Tool Arguments: {JSON schema}" and asks for "Action: ... only one
  name of [get_weather]" and "Action Input: ... just a simple JSON object"; the task is the
  user's "Current Task: ..." and each step comes back as an assistant message that ends with
  ``Observation: <result>``;
* llama-index's ``ReActAgent``: "> Tool Name: get_weather" / "Tool Args: {JSON schema}",
  "Action: tool name (one of get_weather) if using a tool.", "Action Input: ... in a JSON
  format representing the kwargs"; the question is the next user message, each observation a
  user message ``Observation: <result>``, and the final format is ``Answer:``.

The answer: while the question's tools are not all observed, "Thought: ...", "Action: <the
tool the question names, else the first listed>" and "Action Input: <input>": a JSON object of
the tool's arguments when the format asks for JSON, else the value for its first argument,
taking the user's own values as tool calls do (:mod:`engine.mentions`); once an observation
is there, "Thought: I now know the final answer" and the format's final label with the usual
answer after a tool result (:func:`engine.text.compose_reply`), or, when the prompt also holds
a JSON Schema for the answer that is not a tool's arguments (crewai's ``output_pydantic``:
"Format your final answer according to the following OpenAPI schema: {...}"), an instance of
it as JSON, its values taken from the question and an ``answer``/``summary`` field the answer.

Only a prompt with the format's exact lines is read (a ``Thought:`` line, then ``Action:`` and
``Action Input:`` lines, then an ``Observation:`` line and a ``Final Answer:`` or ``Answer:``
line within :data:`_FORMAT_SPAN` characters); every other prompt is answered as before, and so
is one whose tool list cannot be read. Reading is bounded whatever the prompt holds: the first
:data:`_TEXT_LIMIT` characters of each system, developer or user message are searched for the
format, at most :data:`_MAX_TOOLS` tools are read, a tool's arguments up to
:data:`_ARGS_LIMIT` characters (each listed tool's, to tell an answer's schema from them), and
the last :data:`_SCRATCHPAD_LIMIT` characters of the steps
after the question.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, Final

from mockserver.engine.generation_limits import GenerationBudget, GenerationLimitError
from mockserver.engine.instances import UnsatisfiableSchemaError, generate_from_words
from mockserver.engine.mentions import Mentions
from mockserver.engine.text import compose_reply
from mockserver.engine.tool_mentions import named_tools

_TEXT_LIMIT: Final = 256 * 1024
# From the Action lines to the final-answer line (llama-index's: about 1,000 characters).
_FORMAT_SPAN: Final = 4 * 1024
_SCRATCHPAD_LIMIT: Final = 256 * 1024
_MAX_TOOLS: Final = 64
_LONGEST_NAME: Final = 256
_ARGS_LIMIT: Final = 16 * 1024
_QUESTION_LIMIT: Final = 4000
_ROLES: Final = frozenset({"system", "developer", "user"})
_FORMAT: Final = re.compile(r"^Thought: [^\n]*\nAction: ([^\n]*)\nAction Input: ([^\n]*)$", re.M)
_ACTION_INPUT: Final = "\nAction Input: "
_OBSERVATION_LINE: Final = re.compile(r"^Observation: ", re.M)
_FINAL_LINE: Final = re.compile(r"^Thought: [^\n]*\n(Final Answer|Answer): ", re.M)
# The tool list on the Action line: "[a, b]" (LangChain, crewai) or "(one of a, b)" (llama).
_TOOL_LIST: Final = re.compile(r"\[([^\]\n]*)\]|\(one of ([^)\n]*)\)")
_QUESTION: Final = re.compile(r"^Question: ", re.M)
_CREW_TASK: Final = "Current Task: "
_OBSERVATION: Final = "Observation:"
_CALLED: Final = re.compile(r"^Action: *([^\n]{1,256})$", re.M)
# "Tool Name: x" (crewai) or "> Tool Name: x" (llama-index), then its arguments' schema.
_TOOL_NAME: Final = "Tool Name: "
_TOOL_ARGS: Final = re.compile(r"^Tool Arg(?:ument)?s: ", re.M)
_TYPE_NAMES: Final[Mapping[str, str]] = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
}
_DONE_THOUGHT: Final = "I now know the final answer"
_DECODER: Final = json.JSONDecoder()


@dataclass(frozen=True)
class ReactTurn:
    """A request in the text ReAct format: the prompt's tools and what the steps so far hold."""

    tools: tuple[str, ...]
    json_input: bool  # Action Input is a JSON object of the arguments (else plain text)
    final_label: str  # "Final Answer" or "Answer"
    question: str
    observation: str | None  # the last observation of the steps so far
    called: tuple[str, ...]  # the tools the steps so far named in an Action line
    # The text the tools are described in (the format's message), for their arguments.
    described: str


def react_turn(
    messages: Iterable[Mapping[str, Any]], text_of: Callable[[Any], str]
) -> ReactTurn | None:
    """The ReAct step ``messages`` ask for, or ``None`` when they do not use the format.

    ``text_of`` reads a message's ``content`` as text (a string, or its parts).
    """
    listed = list(messages)
    for index, message in enumerate(listed):
        if message.get("role") not in _ROLES:
            continue
        text = text_of(message.get("content"))[:_TEXT_LIMIT]
        # A plain search first: every chat request passes here, few use the format.
        found = _format(text) if _ACTION_INPUT in text else None
        if found is not None:
            tools, json_input, final_label, end = found
            question, steps = _question_and_steps(listed, index, text, end, text_of)
            called = (name.strip() for step in steps for name in _CALLED.findall(step))
            return ReactTurn(
                tools,
                json_input,
                final_label,
                question,
                _last_observation(steps),
                tuple(name for name in called if name in tools),
                text,
            )
    return None


def answer_react(
    turn: ReactTurn,
    rng: random.Random,
    budget: GenerationBudget,
    answer_schema: Mapping[str, Any] | None = None,
) -> str:
    """The next step: an Action for a tool the question needs, else the final answer.

    ``answer_schema``: a JSON Schema the prompt asks the final answer to follow
    (:mod:`engine.prompted_schema`), unless it is one of the tools' arguments.
    """
    named = named_tools(turn.tools, turn.question)
    called = set(turn.called)
    if turn.observation is None:
        tool: str | None = (named or list(turn.tools))[0]
    else:
        tool = next((name for name in named if name not in called), None)
    if tool is None:
        answer = _final_answer(turn, rng, budget, answer_schema)
        return f"Thought: {_DONE_THOUGHT}\n{turn.final_label}: {answer}"
    return (
        f"Thought: I should use {tool} to answer the question.\n"
        f"Action: {tool}\nAction Input: {_action_input(turn, tool, rng, budget)}"
    )


def _final_answer(
    turn: ReactTurn,
    rng: random.Random,
    budget: GenerationBudget,
    answer_schema: Mapping[str, Any] | None,
) -> str:
    """The usual answer after a tool result; an instance of ``answer_schema`` as JSON when the
    prompt gives one for the answer (crewai's ``output_pydantic``: "Format your final answer
    according to the following OpenAPI schema: {...}", without code block markers)."""
    answer = compose_reply(rng, turn.question, turn.observation)
    if answer_schema is None or _is_arguments_schema(turn, answer_schema):
        return answer
    suggest = Mentions.of(turn.question).suggest_answering(answer)
    try:
        value = generate_from_words(answer_schema, rng, suggest, budget)
    except (UnsatisfiableSchemaError, GenerationLimitError):
        return answer
    return json.dumps(value, ensure_ascii=False, indent=2)


def _is_arguments_schema(turn: ReactTurn, schema: Mapping[str, Any]) -> bool:
    """Whether ``schema`` is a listed tool's arguments (crewai and llama-index write them as
    JSON schemas, which the prompted-schema reading finds too)."""
    return any(_json_arguments(turn.described, tool) == schema for tool in turn.tools)


def _format(text: str) -> tuple[tuple[str, ...], bool, str, int] | None:
    """The listed tools, whether the input is JSON, the final label, and where the format
    ends; ``None`` without the whole format or a readable tool list."""
    match = _FORMAT.search(text)
    if match is None:
        return None
    span_end = match.end() + _FORMAT_SPAN
    if _OBSERVATION_LINE.search(text, match.end(), span_end) is None:
        return None
    final = _FINAL_LINE.search(text, match.end(), span_end)
    if final is None:
        return None
    listed = _TOOL_LIST.search(match.group(1))
    if listed is None:
        return None
    names = (listed.group(1) if listed.group(1) is not None else listed.group(2)).split(",")
    tools = tuple(
        name
        for name in (each.strip() for each in islice(names, _MAX_TOOLS))
        if name and len(name) <= _LONGEST_NAME
    )
    if not tools:
        return None
    return tools, "JSON" in match.group(2), final.group(1), final.end()


def _question_and_steps(
    messages: Sequence[Mapping[str, Any]],
    index: int,
    text: str,
    format_end: int,
    text_of: Callable[[Any], str],
) -> tuple[str, list[str]]:
    """The question and the texts of the steps after it, oldest first (their last
    characters).

    LangChain writes "Question: ..." into the format's own message, its steps after it; crewai
    and llama-index put the format in the system message, the question in the next user
    message and each step in messages of their own.
    """
    asked = _QUESTION.search(text, format_end)
    if asked is not None:
        rest = text[asked.end() :]
        question, separator, steps = rest.partition("\nThought:")
        later = messages[index + 1 :]
        return question[:_QUESTION_LIMIT], _steps_text(steps if separator else "", later, text_of)
    for position in range(index + 1, len(messages)):
        if messages[position].get("role") == "user":
            question = _task(text_of(messages[position].get("content"))[:_TEXT_LIMIT])
            return question, _steps_text("", messages[position + 1 :], text_of)
    return "", []


def _task(text: str) -> str:
    """crewai's task, "Current Task: ..." to its blank line; another message as it is."""
    at = text.find(_CREW_TASK)
    if at >= 0:
        return text[at + len(_CREW_TASK) :].partition("\n\n")[0][:_QUESTION_LIMIT]
    return text[:_QUESTION_LIMIT]


def _steps_text(
    first: str, messages: Sequence[Mapping[str, Any]], text_of: Callable[[Any], str]
) -> list[str]:
    """The steps' texts, one a message, oldest first: the last :data:`_SCRATCHPAD_LIMIT`
    characters of them, read from the end."""
    parts: list[str] = []
    left = _SCRATCHPAD_LIMIT
    for message in reversed(messages):
        if left <= 0:
            break
        text = text_of(message.get("content"))
        part = text[-left:]
        parts.append(part)
        left -= len(part) + 1
    if left > 0 and first:
        parts.append(first[-left:])
    return parts[::-1]


def _last_observation(steps: Sequence[str]) -> str | None:
    """The text after the last line that starts with ``Observation:``, to the next
    ``Thought:`` line or the end of its message (crewai's next message is an instruction)."""
    for step in reversed(steps):
        at = step.rfind(_OBSERVATION)
        while at > 0 and step[at - 1] != "\n":
            at = step.rfind(_OBSERVATION, 0, at)
        if at >= 0:
            return step[at + len(_OBSERVATION) :].partition("\nThought:")[0].strip()
    return None


def _action_input(turn: ReactTurn, tool: str, rng: random.Random, budget: GenerationBudget) -> str:
    mentions = Mentions.of(turn.question)
    if turn.json_input:
        schema = _json_arguments(turn.described, tool)
        arguments = _instance(schema, rng, budget, mentions) if schema is not None else None
        return json.dumps(arguments if isinstance(arguments, dict) else {}, ensure_ascii=False)
    signature = _signature(turn.described, tool)
    if signature:
        name, schema = next(iter(signature.items()))
        value = _instance(schema, rng, budget, mentions, name)
        if value is not None:
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    # A tool with no readable argument gets the request itself, as a model passes it on.
    return " ".join(turn.question.split())


def _json_arguments(text: str, tool: str) -> Mapping[str, Any] | None:
    """The JSON schema after the tool's "Tool Arguments:" / "Tool Args:" line, or ``None``."""
    at = text.find(f"{_TOOL_NAME}{tool}\n")
    if at < 0:
        return None
    following = text.find(_TOOL_NAME, at + len(_TOOL_NAME))
    args = _TOOL_ARGS.search(text, at, following if following >= 0 else len(text))
    if args is None:
        return None
    try:
        value, _ = _DECODER.raw_decode(text[args.end() : args.end() + _ARGS_LIMIT])
    except (json.JSONDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _signature(text: str, tool: str) -> dict[str, Mapping[str, Any]]:
    """The arguments of LangChain's "name(city: str, ...) -> str - description" line, by name;
    a type this cannot tell is text."""
    found = re.search(rf"^{re.escape(tool)}\(([^)\n]{{0,{_ARGS_LIMIT}}})\)", text, re.M)
    if found is None:
        return {}
    arguments: dict[str, Mapping[str, Any]] = {}
    for parameter in islice(found.group(1).split(","), _MAX_TOOLS):
        name, _, annotation = parameter.partition(":")
        name = name.strip().lstrip("*")
        if not name.isidentifier():
            continue
        written = annotation.partition("=")[0].strip().strip("'\"")
        arguments[name] = {"type": _TYPE_NAMES.get(written, "string")}
    return arguments


def _instance(
    schema: Mapping[str, Any],
    rng: random.Random,
    budget: GenerationBudget,
    mentions: Mentions,
    name: str | None = None,
) -> Any:
    """A value of ``schema`` (of the argument ``name``, when given) from the user's values
    where they fit; ``None`` when the generator finds none."""
    if name is not None:
        schema = {"type": "object", "properties": {name: schema}, "required": [name]}
    try:
        value = generate_from_words(schema, rng, mentions.suggest, budget)
    except (UnsatisfiableSchemaError, GenerationLimitError):
        return None
    return value.get(name) if name is not None and isinstance(value, dict) else value
