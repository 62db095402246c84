"""What the mock reads from a chat request's function tools, remembered by their definitions.

An application sends the same tools with every request (an agent's toolbox) while its
messages change, and what the mock read from them cost it per tool on every request: with
32 tools, reading them as :class:`FunctionTool`, counting the prompt tokens they add and
writing them as the content key's canonical JSON took some 130 µs of a 400 µs request (in
process). A tool set seen before is found by its bytes (orjson: some 3 µs for 32 tools)
and then compared whole with the tools it was read from: orjson writes an infinity as
``null``, so two tool sets can share bytes, and one that only shares them is read anew.

Kept in an :class:`~mockserver.engine.memo.Memo` (``functools.lru_cache`` keys on its
argument itself, and a list of tools is unhashable), bounded by the tools' bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from mockserver.engine.memo import Memo
from mockserver.engine.reply import FunctionTool
from mockserver.engine.tokens import count_tool_tokens

# Tool sets remembered per process, and the bytes of their definitions in all: the Python
# objects a set holds are several times its bytes. A set over an eighth of the total is
# read anew each time (Memo).
MAX_TOOL_SETS = 64
MAX_TOOL_SET_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class ToolFacts:
    """What a request's ``tools`` come to.

    ``canonical_json`` holds for any list of tools; ``functions`` and ``prompt_tokens`` read
    chat's shape (``{type, function}``), and are empty for Responses' flat tools.
    """

    tools: Any  # what they were read from
    functions: tuple[FunctionTool, ...]
    prompt_tokens: int
    # The tools as content_key writes them: json.dumps(sort_keys=True, ensure_ascii=True).
    canonical_json: str
    size: int  # the bytes they were found by


_FACTS: Memo[ToolFacts] = Memo(
    lambda facts: facts.size, max_entries=MAX_TOOL_SETS, max_weight=MAX_TOOL_SET_BYTES
)


def tool_facts(tools: Any) -> ToolFacts:
    """The facts of a body's ``tools``."""
    if tools is None:
        return _NO_TOOLS
    if tools == []:
        return _EMPTY_LIST
    try:
        key: bytes | None = orjson.dumps(tools)
    except (TypeError, orjson.JSONEncodeError):  # lone surrogates, integers over 64 bits
        key = None
    facts = _FACTS.get(key, lambda: read_tools(tools, len(key) if key else 0))
    if facts.tools is not tools and facts.tools != tools:  # bytes shared, tools not
        return read_tools(tools, 0)
    return facts


def read_tools(tools: Any, size: int) -> ToolFacts:
    """Read ``tools`` afresh (see :func:`tool_facts`)."""
    listed = tools if isinstance(tools, list) else []
    return ToolFacts(
        tools=tools,
        functions=function_tools(listed),
        prompt_tokens=count_tool_tokens(listed),
        canonical_json=json.dumps(tools, sort_keys=True, ensure_ascii=True, default=str),
        size=size,
    )


def function_tools(tools: list[Any]) -> tuple[FunctionTool, ...]:
    found = []
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            parameters = function.get("parameters")
            found.append(
                FunctionTool(
                    name=function["name"],
                    description=str(function.get("description") or ""),
                    parameters=parameters if isinstance(parameters, Mapping) else None,
                    param=f"tools[{index}].function.parameters",
                )
            )
    return tuple(found)


_NO_TOOLS = read_tools(None, 0)
_EMPTY_LIST = read_tools([], 0)
