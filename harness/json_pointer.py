"""JSON pointers (RFC 6901) as the reports and errors write them: ``/choices/0/delta``.

Written by hand: python-jsonpath (a dependency) builds the same text through
``JSONPointer.from_parts``, but as an object that parses and checks itself, and these run per
key while walking every recorded body; the escaping is the RFC's two replacements
(``tests/unit/test_json_pointer.py`` checks the text against the library's).
"""

from __future__ import annotations

from collections.abc import Iterable


def escape(token: object) -> str:
    """One reference token: ``~`` is written ``~0`` and ``/`` is written ``~1`` (that order)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(tokens: Iterable[object]) -> str:
    """The pointer to ``tokens`` (``""``, the whole document, when there are none)."""
    return "".join("/" + escape(token) for token in tokens)
