"""The one JSON-pointer writer (harness.json_pointer) writes what python-jsonpath writes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from jsonpath import JSONPointer

from harness.cassettes.drift import _pattern
from harness.json_pointer import escape, pointer
from harness.schema import Violation

TOKENS = st.lists(st.one_of(st.text(alphabet="ab~/01 ", max_size=6), st.integers(0, 99)))


@given(TOKENS)
def test_pointer_matches_the_library(tokens: list[str | int]) -> None:
    assert pointer(tokens) == str(JSONPointer.from_parts(tokens))


def test_the_order_of_the_replacements() -> None:
    # "~1" as a key is "~01", not "~1" read back as "/".
    assert escape("~1") == "~01"
    assert escape("a/b") == "a~1b"
    assert pointer([]) == ""


def test_the_callers_use_it() -> None:
    assert Violation(("a/b", 0, "~"), "m", "type").pointer == "/a~1b/0/~0"
    assert _pattern(("choices", 0, "a/b")) == "/choices/*/a~1b"
