"""Which tools a text names: the words of a tool's name found among the text's words.

``get_weather`` is named by "what's the weather in Paris?": a name's words (split at
underscores and capitals, less the generic verbs every tool name starts with) against the
text's words, both without a plural ``s``. The reply planner picks the tools a ``tool_choice``
of ``auto`` calls with it; DSPy's ReAct and the text ReAct format pick their tool with it too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Final

_NAME_PART: Final = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_TEXT_WORD: Final = re.compile(r"[a-z0-9]+")
_GENERIC_NAME_PARTS: Final = frozenset(
    {"get", "set", "fetch", "do", "run", "call", "the", "for", "by"}
)
# How much of the text is read: a question names its tools in its first lines.
_TEXT_LIMIT: Final = 4000
# The same tools come with every request of an application: read, each name cost 1 µs of
# every request (32 tools: 36 µs to find which the user mentions). The live API's names are
# at most 64 characters; a longer one is read each time, so the cache stays small.
_LONGEST_CACHED_NAME: Final = 64


def named_tools(names: Sequence[str], text: str) -> list[str]:
    """The ``names`` the text names, in their order."""
    words = {_stem(word) for word in _TEXT_WORD.findall(text[:_TEXT_LIMIT].lower())}
    return [name for name in names if name_words(name) & words]


def name_words(name: str) -> frozenset[str]:
    """The stems of the words of a tool's name that tell it apart from other tools."""
    if len(name) > _LONGEST_CACHED_NAME:
        return _read_name_words(name)
    return _cached_name_words(name)


def _read_name_words(name: str) -> frozenset[str]:
    return frozenset(_stem(part.lower()) for part in _NAME_PART.findall(name)) - _GENERIC_NAME_PARTS


_cached_name_words = functools.lru_cache(maxsize=4096)(_read_name_words)


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word
