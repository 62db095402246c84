"""JSON pointers for error messages and $ref targets."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import chain
from typing import Any


def pointer(parts: Sequence[Any] | Iterator[Any]) -> str:
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return "/".join(chain(["#"], escaped))


def shorten(path: str, limit: int = 80) -> str:
    """A long JSON pointer with its middle elided, for error messages."""
    return path if len(path) <= limit else f"{path[: limit // 2]}...{path[-limit // 2 :]}"


def child_pointer(path: str, *parts: str | int) -> str:
    """JSON pointer `path` extended by the (unescaped) `parts`."""
    return path + "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)
