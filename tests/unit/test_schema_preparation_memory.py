"""A schema object prepared again (a tool's parameters on every request) is not prepared anew."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from mockserver.engine.instances import preparation
from mockserver.engine.instances.preparation import _RememberedByIdentity, prepare


@pytest.fixture
def remembered(monkeypatch: pytest.MonkeyPatch) -> _RememberedByIdentity:
    fresh = _RememberedByIdentity()
    monkeypatch.setattr(preparation, "_REMEMBERED", fresh)
    return fresh


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The schemas whose shape is walked, that is, prepared anew."""
    walked: list[Any] = []
    walk = preparation.check_schema_shape

    def counted(schema: Any) -> None:
        walked.append(schema)
        walk(schema)

    monkeypatch.setattr(preparation, "check_schema_shape", counted)
    return walked


def _parameters() -> dict[str, Any]:
    return {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def test_the_same_object_is_prepared_twice_then_remembered(
    remembered: _RememberedByIdentity, walks: list[Any]
) -> None:
    schema = _parameters()
    compiled = [prepare(schema) for _ in range(5)]
    assert len(walks) == 2  # once seen, then held
    assert all(each is compiled[0] for each in compiled)


def test_an_equal_object_is_not_the_same_schema(
    remembered: _RememberedByIdentity, walks: list[Any]
) -> None:
    schema = _parameters()
    prepare(schema)
    prepare(schema)
    prepare(copy.deepcopy(schema))  # a new request's schema, the same text
    assert len(walks) == 3


def test_a_schema_of_every_request_is_never_held(
    remembered: _RememberedByIdentity, walks: list[Any]
) -> None:
    for _ in range(20):
        prepare(_parameters())  # a response_format: a new object on each request
    assert len(walks) == 20
    assert not remembered._held


def test_a_large_schema_is_not_held(remembered: _RememberedByIdentity, walks: list[Any]) -> None:
    big = {"type": "object", "properties": {f"p{n}": {"type": "string"} for n in range(2000)}}
    for _ in range(3):
        prepare(big)
    assert len(walks) == 3
    assert not remembered._held


def test_what_is_held_is_bounded(remembered: _RememberedByIdentity) -> None:
    schemas = [{"type": "object", "properties": {f"k{n}": {"type": "integer"}}} for n in range(100)]
    for schema in schemas:
        prepare(schema)
        prepare(schema)
    assert len(remembered._held) == _RememberedByIdentity.MAX_SCHEMAS
    assert remembered.get(schemas[-1]) is not None
    assert remembered.get(schemas[0]) is None
