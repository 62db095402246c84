"""A JSON Schema written into the prompt, for the answers that should be an instance of it.

Libraries ask for structured output in words as often as with ``response_format``:
instructor's ``JSON`` mode puts the schema in a system message and sends ``response_format:
{"type": "json_object"}``; its ``MD_JSON`` mode and LangChain's ``PydanticOutputParser`` /
``JsonOutputParser`` send the schema in the prompt alone and ask for JSON (in a ```json code
block). A model follows the prompt; the mock reads the schema from it, so these libraries get
an answer they can parse instead of prose.

The schema is the last JSON object in the system, developer and user messages that reads as
a schema (``properties`` of schemas, or an array's ``items``, or a ``$ref`` into ``$defs``):
LangChain's instructions show an example schema first and the model's own last. agno's JSON
mode writes the fields apart instead, a ``<json_fields>`` list and a ``<json_field_properties>``
map of each field's schema (its ``$defs`` maps of properties): they are read as the object
schema they describe.

Finding it is bounded whatever the prompt holds: only texts that mention JSON are read, each
to its first :data:`_TEXT_LIMIT` characters; at most :data:`_ATTEMPTS` objects are tried per
text, and all the tries of a request together read at most :data:`_SCAN_BUDGET` characters
(an object that does not parse costs the text up to where it breaks).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

# A schema in a prompt is a few kilobytes; a pydantic model with nested models some tens.
_TEXT_LIMIT: Final = 256 * 1024
_ATTEMPTS: Final = 32
_SCAN_BUDGET: Final = 2 * _TEXT_LIMIT
# What a parse that ran out of nesting depth is charged (its error says nowhere it stopped).
_TOO_DEEP_COST: Final = 16 * 1024
_MENTIONS_JSON: Final = re.compile("json", re.IGNORECASE)
# Where a JSON object with a key may start: "{" then a quote ("{city}" templates are not).
_OBJECT_START: Final = re.compile(r'\{\s*"')
_DECODER: Final = json.JSONDecoder()
_PROMPT_ROLES: Final = frozenset({"system", "developer", "user"})


def prompted_schema(
    messages: Iterable[Mapping[str, Any]], text_of: Callable[[Any], str]
) -> Mapping[str, Any] | None:
    """The last JSON Schema in the prompt's messages, or ``None``.

    ``text_of`` reads a message's ``content`` as text (a string, or its parts).
    """
    found: Mapping[str, Any] | None = None
    budget = [_SCAN_BUDGET]
    for message in messages:
        if message.get("role") not in _PROMPT_ROLES:
            continue
        text = text_of(message.get("content"))
        if not _MENTIONS_JSON.search(text, 0, _TEXT_LIMIT):
            continue
        schema = _last_schema(text[:_TEXT_LIMIT], budget) or _agno_fields(text[:_TEXT_LIMIT])
        if schema is not None:
            found = schema
    return found


_AGNO_FIELDS: Final = re.compile(r"<json_fields>(.*?)</json_fields>", re.DOTALL)
_AGNO_PROPERTIES: Final = re.compile(
    r"<json_field_properties>(.*?)</json_field_properties>", re.DOTALL
)


def _agno_fields(text: str) -> Mapping[str, Any] | None:
    """The object schema agno's ``<json_fields>`` and ``<json_field_properties>`` describe."""
    fields_at = _AGNO_FIELDS.search(text)
    properties_at = _AGNO_PROPERTIES.search(text, fields_at.end()) if fields_at else None
    if fields_at is None or properties_at is None:
        return None
    try:
        fields = json.loads(fields_at.group(1))
        properties = json.loads(properties_at.group(1))
    except (ValueError, RecursionError):
        return None
    if not isinstance(fields, list) or not isinstance(properties, dict):
        return None
    defs = properties.pop("$defs", None)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {name: each for name, each in properties.items() if isinstance(each, dict)},
        "required": [name for name in fields if name in properties],
    }
    if isinstance(defs, dict):
        # agno writes each definition as its properties alone.
        schema["$defs"] = {
            name: {"type": "object", "properties": each, "required": list(each)}
            for name, each in defs.items()
            if isinstance(each, dict)
        }
    return schema if _reads_as_schema(schema) else None


def _last_schema(text: str, budget: list[int]) -> Mapping[str, Any] | None:
    """The last schema in ``text``; ``budget[0]``, the characters left to parse, is spent."""
    found: Mapping[str, Any] | None = None
    position = 0
    for _ in range(_ATTEMPTS):
        start = _OBJECT_START.search(text, position)
        if start is None or budget[0] <= 0:
            break
        try:
            value, end = _DECODER.raw_decode(text, start.start())
        except json.JSONDecodeError as error:
            budget[0] -= error.pos - start.start() + 1
            position = start.start() + 1
            continue
        except RecursionError:
            budget[0] -= _TOO_DEEP_COST
            position = start.start() + 1
            continue
        budget[0] -= end - start.start()
        if _reads_as_schema(value):
            found = value
        # The objects inside this one are its parts, not schemas of their own.
        position = end
    return found


def _reads_as_schema(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    properties = value.get("properties")
    if isinstance(properties, dict) and properties:
        # LangChain's counter-example `{"properties": {"foo": ["bar", "baz"]}}` is an
        # instance, not a schema: a schema's properties are schemas.
        return all(isinstance(each, dict | bool) for each in properties.values())
    if value.get("type") == "array" and isinstance(value.get("items"), dict):
        return True
    return isinstance(value.get("$ref"), str) and isinstance(value.get("$defs"), dict)
