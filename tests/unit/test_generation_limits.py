"""The bounded cost of generation (mockserver.engine.generation_limits and its use).

Each schema here used to freeze or crash the generator; each test runs in a subprocess-free
way but under a timeout of its own through the generator's limits: a regression shows as a
slow test, then as a hang, so the expectations are also asserted on the error raised.
"""

from __future__ import annotations

import contextlib
import random
import re
import time
from typing import Any

import jsonschema
import pytest

from mockserver.engine import generation_limits as limits
from mockserver.engine.generation_limits import GenerationBudget, GenerationLimitError
from mockserver.engine.instances import generate_instance
from mockserver.engine.reply import FunctionTool, ReplyRequest, plan_reply


def nested(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"a": schema}, "required": ["a"]}
    return schema


def generate(schema: Any, seed: int = 0, budget: GenerationBudget | None = None) -> Any:
    return generate_instance(schema, random.Random(seed), budget=budget)


class Ticks:
    """A clock that advances a fixed step at each reading: the budget's backstop then ends
    after a fixed number of readings, whatever the machine's speed or load."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def ticking_budget(readings: int = 1000) -> GenerationBudget:
    clock = Ticks(limits.MAX_GENERATION_S / readings)
    return GenerationBudget(deadline=limits.MAX_GENERATION_S, clock=clock)


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        ({"type": "string", "minLength": 100_000_000}, "100000 characters per string"),
        ({"type": "string", "pattern": "^(?:(?:a{1000}){1000}){100}$"}, "at least 100000000"),
        ({"type": "array", "minItems": 10**9}, "minItems 1000000000"),
        ({"type": "object", "minProperties": 10**9}, "minProperties 1000000000"),
        (nested(100), "nested more than 64 levels"),
        ({"type": "string", "pattern": "(" * 3000 + "a" + ")" * 3000}, "nests groups more than"),
        (
            {"type": "object", "patternProperties": {"(" * 3000 + "a" + ")" * 3000: {}}},
            "nests groups more than",
        ),
        ({"type": "string", "pattern": "a" * 20_000}, "limit is 10000 characters per pattern"),
        (
            {"type": "string", "allOf": [{"pattern": "^a{30}b$"}, {"pattern": "^(a|a)+$"}]},
            "backtracks catastrophically",
        ),
        (
            {
                "$defs": {"n": {"type": "array", "items": {"$ref": "#/$defs/n"}, "minItems": 1}},
                "$ref": "#/$defs/n",
            },
            "",  # required recursion: the value depth or the $ref recursion bound ends it
        ),
    ],
    ids=[
        "minLength",
        "pattern-min-width",
        "minItems",
        "minProperties",
        "schema-depth",
        "pattern-groups",
        "pattern-property-groups",
        "pattern-length",
        "backtracking",
        "required-recursion",
    ],
)
def test_schemas_beyond_the_limits_fail_fast(schema: Any, words: str) -> None:
    # Fast in work done: the named limit is met before the wall-clock backstop, measured on a
    # clock that does not depend on the machine's speed.
    try:
        generate(schema, budget=ticking_budget())
    except GenerationLimitError as error:
        assert words in error.detail
    except ValueError as error:  # UnsatisfiableSchemaError is a ValueError
        assert not words, error
    else:
        pytest.fail("no limit was hit")


def test_value_depth_is_bounded_even_when_the_document_is_shallow() -> None:
    # Nesting made by $ref, not written out: the document is 5 levels deep.
    schema = {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {"child": {"$ref": "#/$defs/node"}},
                "required": ["child"],
            }
        },
        "$ref": "#/$defs/node",
    }
    with pytest.raises((GenerationLimitError, ValueError)):
        generate(schema)


def test_the_step_budget_is_shared_by_the_choices_of_a_request() -> None:
    schema = {"type": "array", "minItems": 300, "items": {"type": "integer"}}
    budget = GenerationBudget(steps=1000)
    for seed in range(3):  # about 301 steps each
        generate(schema, seed, budget)
    with pytest.raises(GenerationLimitError, match="all choices together"):
        generate(schema, 3, budget)


def test_the_output_budget_counts_copied_constants() -> None:
    big = "x" * 60_000
    schema = {"type": "array", "minItems": 100, "items": {"const": big}}
    with pytest.raises(GenerationLimitError, match="characters of generated values"):
        generate(schema)


def test_the_wall_clock_is_a_backstop(monkeypatch: pytest.MonkeyPatch) -> None:
    budget = GenerationBudget(deadline=time.monotonic() - 1)
    with pytest.raises(GenerationLimitError, match="longer than"):
        generate({"type": "array", "minItems": 1000, "items": {"type": "integer"}}, 0, budget)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "number", "multipleOf": 1e-320},
        {"type": "number", "multipleOf": 1e-320, "minimum": 5, "maximum": 6},
        {"type": "number", "multipleOf": 3e-310, "minimum": -6, "maximum": -5},
        {"type": "integer", "multipleOf": 1e-320},
        {"type": "number", "multipleOf": 5e-324},
        nested(25),
        {"type": "string", "minLength": 50_000},
        {"type": "string", "pattern": "^(?=.*[A-Z])(?=.*\\d)[A-Za-z\\d]{8,12}$"},
        {"type": "string", "pattern": "^(a+)+$"},  # backtracks only on a non-match
        {"type": "string", "enum": [f"v{i}" for i in range(100_000)]},
        {"type": ["integer", "null"], "enum": [*[f"s{i}" for i in range(5000)], None, 7]},
    ],
    ids=[
        "multipleOf-1e-320",
        "multipleOf-1e-320-bounded",
        "multipleOf-subnormal-negative",
        "integer-multipleOf-1e-320",
        "multipleOf-smallest-double",
        "nested-25",
        "minLength-50000",
        "lookaheads",
        "nested-plus",
        "large-enum",
        "large-enum-filtered-by-type",
    ],
)
def test_odd_but_feasible_schemas_get_a_valid_value(schema: Any) -> None:
    for seed in range(3):
        jsonschema.validate(generate(schema, seed), schema)


def test_large_enums_are_sampled_not_shuffled(monkeypatch: pytest.MonkeyPatch) -> None:
    # Cost measured in work done, not seconds: 128 choices of a 300,000-value enum sample by
    # index and share one membership index of the strings, built without a per-member copy.
    schema = {"type": "string", "enum": [f"v{i}" for i in range(300_000)]}
    frozen: list[Any] = []
    real_freeze = limits.freeze
    monkeypatch.setattr(limits, "freeze", lambda value: frozen.append(value) or real_freeze(value))
    budget = GenerationBudget()
    values = {generate(schema, seed, budget) for seed in range(128)}
    assert len(values) > 100
    assert limits.MAX_STEPS - budget.steps < 128 * 8  # no walk through the members
    assert len(frozen) <= 128  # at most the values looked up, never the members


def test_the_backstops_leave_room_for_a_loaded_machine() -> None:
    # A valid request on a loaded CI machine (2 cores, tens of runnable processes) must never
    # meet them; pathological work is stopped by the other limits long before.
    assert limits.MAX_GENERATION_S >= 10
    assert limits.REGEX_TIMEOUT_S >= 0.5


def test_a_limit_names_the_request_field() -> None:
    too_long = {
        "type": "object",
        "properties": {"a": {"type": "string", "minLength": 10**9}},
        "required": ["a"],
    }
    request = ReplyRequest(
        user_text="call it",
        tools=(FunctionTool("call", parameters=too_long, param="tools[3].function.parameters"),),
        tool_choice="required",
    )
    with pytest.raises(GenerationLimitError) as caught:
        plan_reply(request, random.Random(0))
    assert caught.value.param == "tools[3].function.parameters"
    assert "'tools[3].function.parameters'" in caught.value.message
    assert "#/properties/a" in caught.value.message


def test_a_generator_bug_is_not_hidden_as_an_empty_object(monkeypatch: pytest.MonkeyPatch) -> None:
    # A bug inside validation used to be caught by `except Exception`, reported as an
    # unsatisfiable schema, and answered as `{}`.
    def broken(*_: Any) -> Any:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(limits, "search", broken)  # what the `pattern` keyword calls
    request = ReplyRequest(output_schema={"type": "string", "pattern": "^a+$"})
    with pytest.raises(ZeroDivisionError):
        plan_reply(request, random.Random(0))


def test_regex_search_keeps_python_semantics() -> None:
    assert limits.search(r"^\d{3}$", "123")
    assert not limits.search(r"^\d{3}$", "1234")
    assert limits.search(r"(?<=a)b", "ab")
    assert limits.search(r"^(\w)\1$", "aa")


def strict_object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def strict_nesting(levels: int) -> dict[str, Any]:
    schema = strict_object({"name": {"type": "string"}})
    for _ in range(levels - 1):
        child = {"anyOf": [schema, {"type": "null"}]}
        schema = strict_object({"name": {"type": "string"}, "child": child})
    return schema


@pytest.mark.parametrize(
    "schema",
    [
        strict_nesting(10),
        strict_object(
            {
                f"group{g}": strict_object({f"field{f}": {"type": "string"} for f in range(100)})
                for g in range(49)
            }
        ),
        strict_object(
            {
                f"p{p}": {"type": "string", "enum": [f"{p}-{v}" for v in range(10)]}
                for p in range(100)
            }
        ),
        strict_object({"big": {"type": "string", "enum": [f"{v:04d}" for v in range(1000)]}}),
    ],
    ids=["10-levels", "5000-properties", "1000-enum-values", "one-1000-value-enum"],
)
def test_schemas_at_the_live_apis_structured_output_limits_are_within_ours(schema: Any) -> None:
    # OpenAI's structured outputs accept at most 10 levels of nesting, 5000 properties and
    # 1000 enum values in all: whatever the live API accepts, the mock generates.
    jsonschema.validate(generate(schema), schema)


def test_a_multiple_that_overflows_to_infinity_is_skipped() -> None:
    schema = {"type": "number", "multipleOf": 1e308, "minimum": 1e308}
    jsonschema.validate(generate(schema), schema)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "pattern": "(a*)*b", "minLength": 50_000},
        {"type": "string", "pattern": "^(a|aa)+$", "minLength": 99_999},
        {"type": "string", "pattern": "^(?:a{0,1000}){0,1000}$", "minLength": 90_000},
    ],
    ids=["nested-star", "alternation-plus", "nested-ranges"],
)
def test_slow_regex_strings_end_within_the_time_backstop(schema: Any) -> None:
    # The slow work reads the budget's clock as it goes: on a clock that reaches the backstop
    # after 200 readings, it ends (a value, or a 400 naming the limit) instead of running on.
    budget = ticking_budget(readings=200)
    with contextlib.suppress(GenerationLimitError):
        jsonschema.validate(generate(schema, budget=budget), schema)


def chain(links: int, link: Any) -> dict[str, Any]:
    """`links` definitions, each pointing at the next through `link(ref)`."""
    defs = {f"d{i}": link(f"#/$defs/d{i + 1}") for i in range(links)}
    defs[f"d{links}"] = {"type": "integer"}
    return {"$defs": defs, "$ref": "#/$defs/d0"}


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        (chain(3000, lambda ref: {"$ref": ref}), "more than 64 $refs"),
        (chain(3000, lambda ref: {"allOf": [{"$ref": ref}]}), "more than 64 $refs"),
        (chain(3000, lambda ref: {"anyOf": [{"$ref": ref}]}), "more than 64 $refs"),
        (chain(3000, lambda ref: {"not": {"$ref": ref}}), "deeper than Python's stack"),
    ],
    ids=["ref", "allOf", "anyOf", "not"],
)
def test_long_ref_chains_are_a_limit_not_a_recursion_error(schema: Any, words: str) -> None:
    # A flat document (depth 3) whose definitions point at each other 3000 times.
    with pytest.raises(GenerationLimitError, match=re.escape(words)):
        generate(schema)


def test_short_ref_chains_still_generate() -> None:
    for link in (lambda ref: {"$ref": ref}, lambda ref: {"anyOf": [{"$ref": ref}]}):
        schema = chain(40, link)
        jsonschema.validate(generate(schema), schema)
