"""Judging an invalid instance costs a bounded amount, however many errors it holds.

jsonschema_rs builds every error eagerly (``iter_errors`` is not lazy): an array of 200,000
wrong items cost ~10 s and as many Violation objects before the cap, for a 1.4 MB body.
"""

from __future__ import annotations

from harness.schema import MAX_LISTED_VIOLATIONS, CompiledSchema


def test_a_huge_invalid_array_lists_a_bounded_number_of_violations() -> None:
    schema = CompiledSchema({"type": "array", "items": {"type": "string"}})
    violations = schema.violations(list(range(200_000)))
    assert 1 <= len(violations) <= MAX_LISTED_VIOLATIONS
    assert violations[0].path == (0,)
    assert violations[0].keyword == "type"


def test_a_small_invalid_instance_still_lists_every_violation() -> None:
    schema = CompiledSchema(
        {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}}
    )
    violations = schema.violations({"a": 1, "b": "x"})
    assert sorted(v.pointer for v in violations) == ["/a", "/b"]
