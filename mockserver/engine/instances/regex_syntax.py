"""Patterns in the ``regex`` package's syntax, rewritten for drawing strings with rstr.

Patterns are matched with the ``regex`` package (see :mod:`engine.generation_limits`), which
accepts more than Python's ``re`` parser, the one rstr draws from: Unicode properties (``\\p{L}``,
``\\P{N}``, ``\\p{Script=Greek}``) and ``(?<name>...)`` groups (the JSON Schema / ECMA-262
spellings). :func:`drawable` rewrites those into ``re`` syntax that
matches a subset of the same strings: a property becomes a class of the characters that have
it (every printable ASCII one, so that a negated class stays right; a sample from the Basic
Multilingual Plane when no ASCII character has it). The drawn string is then matched with
``regex`` against the original pattern, so a rewrite can only make a draw fail, never pass a
wrong value. Hand-written: no library translates between the two dialects.
"""

from __future__ import annotations

import functools
import re
from itertools import islice
from typing import Final

import regex  # type: ignore[import-untyped]  # no type information is installed

_PROPERTY: Final = re.compile(r"\\([pP])(\{[^}\\]{1,60}\}|[A-Za-z])")
_NAMED_GROUP: Final = re.compile(r"\(\?<(?![=!])([A-Za-z_]\w*)>")
# The characters a property is tested on first, and how many others are sampled when none
# of them has it.
_ASCII: Final = "".join(chr(code) for code in range(0x20, 0x7F))
_SAMPLE: Final = 32


def drawable(pattern: str) -> str:
    """`pattern` in the ``re`` syntax rstr parses (unchanged when it already is)."""
    if "\\p" not in pattern and "\\P" not in pattern and "(?<" not in pattern:
        return pattern
    out: list[str] = []
    index, in_class, class_start = 0, False, 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            piece, index = _escape(pattern, index, in_class)
            out.append(piece)
            continue
        if in_class:
            # `]` right after `[` or `[^` is a literal, as in `re`.
            if char == "]" and index > class_start:
                in_class = False
        elif char == "[":
            in_class = True
            class_start = index + 1 + (pattern.startswith("^", index + 1))
            if pattern.startswith("]", class_start):
                class_start += 1
            class_start = min(class_start, len(pattern))
        elif char == "(":
            named = _NAMED_GROUP.match(pattern, index)
            if named:
                out.append(f"(?P<{named.group(1)}>")
                index = named.end()
                continue
        out.append(char)
        index += 1
    return "".join(out)


def _escape(pattern: str, index: int, in_class: bool) -> tuple[str, int]:
    """The rewrite of the escape at `index` and the index after it."""
    prop = _PROPERTY.match(pattern, index)
    if prop:
        members = _members(prop.group(0))
        if members:
            body = "".join(re.escape(member) for member in members)
            return (body if in_class else f"[{body}]"), prop.end()
    return pattern[index : index + 2], index + 2


@functools.lru_cache(maxsize=256)
def _members(escape: str) -> str:
    """The characters `escape` (``\\p{L}``, ``\\PN``, ...) stands for: every printable
    ASCII one it matches, so that a negated class (``[^\\p{L}]``, drawn from ASCII) excludes
    all of them; a sample from the BMP when it matches no ASCII character (``\\p{Han}``);
    "" when ``regex`` does not know the property either."""
    try:
        compiled = regex.compile(escape)
    except regex.error:
        return ""
    found = "".join(char for char in _ASCII if compiled.fullmatch(char))
    if found:
        return found
    # One scan in C over the printable BMP: cheap even for a property with no member there.
    return "".join(match.group() for match in islice(compiled.finditer(_bmp()), _SAMPLE))


@functools.lru_cache(maxsize=1)
def _bmp() -> str:
    """The printable characters of the Basic Multilingual Plane beyond ASCII."""
    return "".join(
        chr(code)
        for code in range(0x80, 0x10000)
        if not 0xD800 <= code <= 0xDFFF and chr(code).isprintable()
    )


def is_regex(pattern: str) -> bool:
    """Whether the ``regex`` package (the one that matches) accepts `pattern`."""
    try:
        regex.compile(pattern)
    except regex.error:
        return False
    return True
