"""Tests for the schema-instance generator (mockserver.engine.instances).

Every generated value is checked with jsonschema (format assertions on), generation is checked to
be reproducible per seed, and a Hypothesis property test throws random function-parameter schemas
at the generator.
"""

from __future__ import annotations

import copy
import datetime
import ipaddress
import json
import os
import random
import re
import subprocess
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jsonschema
import pytest
import regex  # type: ignore[import-untyped]  # no type information is installed
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import mockserver
from mockserver.engine.instances import (
    CannotGenerateError,
    UnsatisfiableSchemaError,
    generate_instance,
)
from mockserver.engine.instances.preparation import compile_schema

SEEDS = range(10)
# The directory holding the `mockserver` package, for the subprocess test.
REPO_ROOT = Path(mockserver.__file__).resolve().parents[1]


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def openapi_to_jsonschema(node: Any) -> Any:
    """Independent re-statement of OpenAPI 3.0 `nullable` for the test-side validator."""
    if isinstance(node, list):
        return [openapi_to_jsonschema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: openapi_to_jsonschema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True and "type" in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = [*types, "null"]
    return out


def assert_valid(schema: Any, instance: Any) -> None:
    schema = openapi_to_jsonschema(schema)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls(schema, format_checker=cls.FORMAT_CHECKER).validate(instance)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def generate_checked(schema: Any, seeds: Iterable[int] = SEEDS) -> list[Any]:
    """Generate once per seed; check validity, JSON-ness and same-seed reproducibility."""
    outputs = []
    for seed in seeds:
        first = generate_instance(schema, random.Random(seed))
        again = generate_instance(schema, random.Random(seed))
        assert canonical(first) == canonical(again), f"seed {seed} is not reproducible"
        assert json.loads(json.dumps(first)) == first  # plain JSON types only
        assert_valid(schema, first)
        outputs.append(first)
    return outputs


def assert_varies(outputs: list[Any]) -> None:
    assert len({canonical(o) for o in outputs}) > 1, f"all seeds gave {outputs[0]!r}"


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


# --------------------------------------------------------------------------------------------
# pinned schemas
# --------------------------------------------------------------------------------------------

WEATHER = {
    "type": "object",
    "properties": {
        "location": {"type": "string", "description": "The city and state, e.g. Paris, France"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    },
    "required": ["location"],
}


def test_weather_tool() -> None:
    outputs = generate_checked(WEATHER, range(20))
    assert_varies(outputs)
    for args in outputs:
        assert set(args) <= {"location", "unit"}
        assert re.search(r"[A-Za-z]{3}", args["location"])
        assert args.get("unit", "celsius") in ("celsius", "fahrenheit")
    # Optional properties: sometimes present, sometimes not.
    assert {"unit" in args for args in outputs} == {True, False}


def test_all_required_properties_always_present() -> None:
    schema = {
        "type": "object",
        "properties": {f"p{i}": {"type": "integer"} for i in range(8)},
        "required": ["p1", "p4", "p7"],
    }
    for args in generate_checked(schema, range(30)):
        assert {"p1", "p4", "p7"} <= set(args)


def test_property_name_hints_give_plausible_values() -> None:
    schema = {
        "type": "object",
        "properties": {
            "unit": {"type": "string"},
            "email": {"type": "string"},
            "user_id": {"type": "string"},
            "name": {"type": "string"},
            "count": {"type": "integer"},
        },
        "required": ["unit", "email", "user_id", "name", "count"],
    }
    for args in generate_checked(schema):
        assert args["unit"] == "celsius"
        assert re.fullmatch(r"[a-z]+\.[a-z]+@example\.(com|org|net)", args["email"])
        assert re.fullmatch(r"user_[0-9a-f]{6}", args["user_id"])
        assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", args["name"])
        assert 0 <= args["count"] <= 100


def test_nested_objects() -> None:
    schema = {
        "type": "object",
        "properties": {
            "customer": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 2},
                    "address": {
                        "type": "object",
                        "properties": {
                            "street": {"type": "string"},
                            "zip": {"type": "string", "pattern": r"^\d{5}$"},
                        },
                        "required": ["street", "zip"],
                    },
                },
                "required": ["name", "address"],
            },
            "notes": {"type": "string", "maxLength": 40},
        },
        "required": ["customer"],
    }
    outputs = generate_checked(schema)
    assert_varies(outputs)
    assert all(re.fullmatch(r"\d{5}", o["customer"]["address"]["zip"]) for o in outputs)


def test_arrays_bounds_and_unique_items() -> None:
    schema = {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": 6},
        "minItems": 3,
        "maxItems": 5,
        "uniqueItems": True,
    }
    outputs = generate_checked(schema, range(30))
    assert_varies(outputs)
    for value in outputs:
        assert 3 <= len(value) <= 5
        assert len(set(value)) == len(value)


def test_unique_items_with_a_tight_item_space() -> None:
    schema = {
        "type": "array",
        "items": {"enum": ["a", "b", "c"]},
        "minItems": 3,
        "uniqueItems": True,
    }
    for value in generate_checked(schema):
        assert sorted(value) == ["a", "b", "c"]


def test_tuple_items_draft7_and_prefix_items_2020() -> None:
    draft7 = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "array",
        "items": [{"type": "number"}, {"type": "string", "enum": ["N", "S"]}],
        "additionalItems": False,
    }
    modern = {
        "type": "array",
        "prefixItems": [{"type": "number"}, {"type": "string", "enum": ["N", "S"]}],
        "items": False,
    }
    untagged_tuple = {"type": "array", "items": [{"type": "integer"}, {"type": "boolean"}]}
    for schema in (draft7, modern):
        for value in generate_checked(schema):
            assert len(value) <= 2
    # Draft-7 tuple form without a $schema: read as prefixItems (2020-12 has no array `items`).
    for seed in SEEDS:
        value = generate_instance(untagged_tuple, random.Random(seed))
        jsonschema.Draft7Validator(untagged_tuple).validate(value)
        assert isinstance(value[0], int) and isinstance(value[1], bool)


def test_defs_and_definitions_refs() -> None:
    schema = {
        "type": "object",
        "$defs": {"money": {"type": "number", "minimum": 0, "multipleOf": 0.01}},
        "definitions": {"currency": {"type": "string", "enum": ["EUR", "USD"]}},
        "properties": {
            "amount": {"$ref": "#/$defs/money"},
            "currency": {"$ref": "#/definitions/currency"},
        },
        "required": ["amount", "currency"],
    }
    outputs = generate_checked(schema)
    assert_varies(outputs)


TREE = {
    "type": "object",
    "properties": {
        "value": {"type": "integer"},
        "children": {"type": "array", "items": {"$ref": "#"}},
    },
    "required": ["value"],
}


def test_recursive_tree_schema_terminates() -> None:
    outputs = generate_checked(TREE, range(25))
    assert_varies(outputs)
    assert max(depth_of(o) for o in outputs) <= 12
    assert any("children" in o and o["children"] for o in outputs)


def test_recursion_that_requires_nesting_still_terminates() -> None:
    linked = {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "label": {"type": "string"},
                    "next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]},
                },
                "required": ["label", "next"],
            }
        },
        "$ref": "#/$defs/node",
    }
    for value in generate_checked(linked):
        assert depth_of(value) <= 12


def test_non_recursive_refs_are_not_treated_as_recursion() -> None:
    # pydantic emits a $ref for every nested model; only a repeated target means recursion.
    schema = {
        "$defs": {
            "Address": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "zip": {"type": "string"}},
            },
            "Person": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "home": {"$ref": "#/$defs/Address"}},
                "required": ["home"],
            },
        },
        "type": "object",
        "properties": {"owner": {"$ref": "#/$defs/Person"}},
        "required": ["owner"],
    }
    outputs = generate_checked(schema, range(20))
    assert any(o["owner"]["home"] for o in outputs)  # optional content at the third level


def test_any_of() -> None:
    schema = {"anyOf": [{"type": "string", "format": "email"}, {"type": "integer", "minimum": 10}]}
    outputs = generate_checked(schema, range(20))
    assert {type(o) for o in outputs} == {str, int}


def test_one_of_with_overlapping_branches() -> None:
    # Every non-negative integer matches both branches, so a naive pick-a-branch generator
    # would often produce an instance that matches two branches (invalid for oneOf).
    overlapping = {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 0}]}
    for value in generate_checked(overlapping, range(30)):
        assert value < 0 or not float(value).is_integer()
    both_objects = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
    }
    for value in generate_checked(both_objects, range(30)):
        assert ("a" in value) != ("b" in value)
    strings = {"oneOf": [{"type": "string"}, {"type": "string", "maxLength": 5}]}
    for value in generate_checked(strings):
        assert len(value) > 5


def test_all_of_is_merged() -> None:
    schema = {
        "allOf": [
            {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
            {"properties": {"size": {"type": "integer", "minimum": 2}}, "required": ["size"]},
            {"properties": {"size": {"maximum": 4}}},
        ]
    }
    for value in generate_checked(schema):
        assert 2 <= value["size"] <= 4


def test_all_of_with_additional_properties_false() -> None:
    schema = {
        "allOf": [
            {
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                "additionalProperties": False,
            },
            {"properties": {"b": {"minimum": 5}, "c": {"type": "string"}}, "required": ["b"]},
        ]
    }
    for value in generate_checked(schema):
        assert set(value) <= {"a", "b"} and value["b"] >= 5


def test_const_and_enum() -> None:
    assert generate_checked({"const": {"kind": "fixed", "n": [1, 2]}}) == [
        {"kind": "fixed", "n": [1, 2]}
    ] * len(SEEDS)
    outputs = generate_checked({"enum": ["red", 3, None, {"x": 1}]}, range(30))
    assert_varies(outputs)


def test_returned_values_are_not_shared_with_the_schema() -> None:
    schema = {"type": "object", "properties": {"tags": {"const": ["a"]}}, "required": ["tags"]}
    value = generate_instance(schema, random.Random(0))
    value["tags"].append("mutated")
    assert generate_instance(schema, random.Random(0)) == {"tags": ["a"]}


def test_pattern() -> None:
    schema = {"type": "string", "pattern": r"^[A-Z]{3}-\d{4}$"}
    outputs = generate_checked(schema)
    assert_varies(outputs)
    assert all(re.fullmatch(r"[A-Z]{3}-\d{4}", o) for o in outputs)


def test_pattern_with_length_bounds_and_unanchored_pattern() -> None:
    generate_checked({"type": "string", "pattern": "^[a-z]+$", "minLength": 20, "maxLength": 25})
    generate_checked({"type": "string", "pattern": "ab+c"})


@pytest.mark.parametrize(
    ("fmt", "check"),
    [
        ("date-time", lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))),
        ("date", datetime.date.fromisoformat),
        ("time", lambda s: datetime.time.fromisoformat(s.replace("Z", "+00:00"))),
        ("email", lambda s: re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", s) or 1 / 0),
        ("uri", lambda s: urlparse(s).scheme in ("http", "https") or 1 / 0),
        ("uuid", uuid.UUID),
        ("ipv4", ipaddress.IPv4Address),
        ("hostname", lambda s: re.fullmatch(r"([a-z0-9-]+\.)+[a-z]{2,}", s) or 1 / 0),
    ],
)
def test_formats(fmt: str, check: Any) -> None:
    outputs = generate_checked({"type": "string", "format": fmt})
    assert_varies(outputs)
    for value in outputs:
        check(value)


def test_exclusive_bounds_numeric_form() -> None:
    schema = {"type": "integer", "exclusiveMinimum": 3, "exclusiveMaximum": 6}
    assert {o for o in generate_checked(schema, range(30))} <= {4, 5}
    floats = {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.001}
    assert all(0 < o < 0.001 for o in generate_checked(floats))


def test_exclusive_bounds_draft4_boolean_form() -> None:
    draft4 = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "number",
        "minimum": 0,
        "exclusiveMinimum": True,
        "maximum": 1,
        "exclusiveMaximum": True,
    }
    assert all(0 < o < 1 for o in generate_checked(draft4))
    # OpenAPI 3.0 also spells it the draft-4 way, without a $schema.
    openapi = {k: v for k, v in draft4.items() if k != "$schema"}
    openapi.update(type="integer", minimum=1, maximum=3)
    for seed in SEEDS:
        assert generate_instance(openapi, random.Random(seed)) == 2


def test_multiple_of_floats() -> None:
    money = {"type": "number", "minimum": 0, "maximum": 50, "multipleOf": 0.01}
    assert_varies(generate_checked(money))
    tenths = {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "multipleOf": 0.1}
    assert_varies(generate_checked(tenths, range(20)))
    assert set(generate_checked({"type": "integer", "multipleOf": 2.5, "maximum": 20})) <= {
        0,
        5,
        10,
        15,
        20,
        -5,
        -10,
        -15,
    }
    generate_checked({"type": "number", "multipleOf": 0.25, "minimum": 100.1, "maximum": 100.4})


def test_nullable_prefers_a_real_value() -> None:
    schema = {
        "type": "object",
        "properties": {"nickname": {"type": "string", "nullable": True}},
        "required": ["nickname"],
    }
    for value in generate_checked(schema):
        assert isinstance(value["nickname"], str)
    # If no non-null value exists, null is the answer.
    impossible_string = {"type": "string", "minLength": 3, "maxLength": 1, "nullable": True}
    assert generate_checked(impossible_string) == [None] * len(SEEDS)


def test_additional_properties_false() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "boolean"}},
        "additionalProperties": False,
        "minProperties": 1,
    }
    for value in generate_checked(schema, range(20)):
        assert len(value) >= 1 and set(value) <= {"a", "b"}


def test_maps_and_pattern_properties() -> None:
    schema = {
        "type": "object",
        "patternProperties": {"^x-[a-z]+$": {"type": "integer"}},
        "additionalProperties": False,
        "minProperties": 2,
    }
    for value in generate_checked(schema):
        assert len(value) >= 2 and all(re.fullmatch("x-[a-z]+", k) for k in value)
    generate_checked({"type": "object", "additionalProperties": {"type": "number"}})


def test_empty_schema_and_true() -> None:
    outputs = generate_checked({}, range(20)) + generate_checked(True, range(20))
    assert_varies(outputs)


def test_examples_and_defaults_are_used_when_valid() -> None:
    schema = {"type": "string", "examples": ["Quick brown fox"], "default": "bad", "maxLength": 20}
    outputs = generate_checked(schema, range(40))
    assert "Quick brown fox" in outputs
    invalid_only = {"type": "integer", "minimum": 10, "default": 1, "examples": [2, 3]}
    assert all(o >= 10 for o in generate_checked(invalid_only, range(20)))


def test_not_if_then_else_and_dependencies() -> None:
    generate_checked({"type": "integer", "minimum": 0, "maximum": 3, "not": {"const": 2}})
    conditional = {
        "type": "object",
        "properties": {"kind": {"enum": ["a", "b"]}, "n": {"type": "integer"}},
        "required": ["kind", "n"],
        "if": {"properties": {"kind": {"const": "a"}}},
        "then": {"properties": {"n": {"minimum": 100}}},
        "else": {"properties": {"n": {"maximum": -100}}},
    }
    generate_checked(conditional, range(20))
    dependent = {
        "type": "object",
        "properties": {"card": {"type": "string"}, "cvv": {"type": "string"}},
        "dependentRequired": {"card": ["cvv"]},
    }
    generate_checked(dependent, range(20))


def test_openai_strict_style_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "filters": {
                "type": ["object", "null"],
                "properties": {
                    "since": {"type": "string", "format": "date"},
                    "max_results": {"type": "integer", "minimum": 1, "maximum": 50},
                },
                "required": ["since", "max_results"],
                "additionalProperties": False,
            },
        },
        "required": ["query", "filters"],
        "additionalProperties": False,
    }
    outputs = generate_checked(schema)
    assert all(isinstance(o["filters"], dict) for o in outputs)  # non-null preferred


# --------------------------------------------------------------------------------------------
# determinism
# --------------------------------------------------------------------------------------------


def test_global_random_state_is_irrelevant() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "pattern": "^[a-f]{8}$"}}}
    random.seed(1)
    first = generate_instance(schema, random.Random(42))
    random.seed(2)
    assert generate_instance(schema, random.Random(42)) == first


def test_input_schema_is_not_mutated() -> None:
    schema = {"allOf": [TREE, {"nullable": True, "type": "object"}], "$defs": {"x": {}}}
    before = copy.deepcopy(schema)
    generate_checked(schema, range(3))
    assert schema == before


DETERMINISM_SCRIPT = """
import json, random
from mockserver.engine.instances import generate_instance
schemas = [
    {"type": "string", "pattern": r"^[^,;]{5}\\W\\w\\s[^a-z]{4}.{3}$"},
    {"type": "object", "properties": {"when": {"type": "string", "format": "date-time"},
     "who": {"type": "string"}, "n": {"type": "number"}}, "additionalProperties": True,
     "minProperties": 5},
]
print(json.dumps([generate_instance(s, random.Random(seed)) for s in schemas for seed in range(5)]))
"""


@pytest.mark.slow
def test_output_does_not_depend_on_the_hash_seed() -> None:
    # Set iteration order changes with PYTHONHASHSEED; the output must not.
    results = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO_ROOT)}
        done = subprocess.run(
            [sys.executable, "-c", DETERMINISM_SCRIPT],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        results.append(done.stdout)
    assert results[0] == results[1]


def test_each_schema_is_compiled_once() -> None:
    """Generation speed rests on the compiled-validator cache; speed itself is a benchmark."""
    schema = {"type": "object", "properties": {"cache_probe_field": {"type": "integer"}}}
    rng = random.Random(0)
    generate_instance(schema, rng)
    before = compile_schema.cache_info()
    for _ in range(20):
        # A new object each time, as each request parses its own (the very same object is
        # not even looked up again: test_schema_preparation_memory).
        generate_instance(copy.deepcopy(schema), rng)
    after = compile_schema.cache_info()
    assert after.misses == before.misses
    assert after.hits >= before.hits + 20


# --------------------------------------------------------------------------------------------
# unsatisfiable and invalid schemas
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "integer", "minimum": 5, "maximum": 3}, r"minimum 5 and maximum 3"),
        ({"allOf": [{"type": "string"}, {"type": "integer"}]}, r"'type'"),
        (False, r"schema is false"),
        ({"type": "string", "minLength": 4, "maxLength": 2}, r"minLength 4 .*maxLength 2"),
        ({"type": "array", "minItems": 3, "maxItems": 1}, r"minItems 3"),
        ({"type": "number", "exclusiveMinimum": 1, "exclusiveMaximum": 1}, r"exclusiveMinimum"),
        ({"type": "integer", "multipleOf": 7, "minimum": 1, "maximum": 6}, r"multipleOf"),
        ({"allOf": [{"const": 1}, {"const": 2}]}, r"const"),
        ({"enum": ["a"], "type": "integer"}, r"enum"),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "string"}},
                "required": ["b"],
                "additionalProperties": False,
            },
            r"#/properties/b.*required",
        ),
        (
            {"type": "object", "properties": {"next": {"$ref": "#"}}, "required": ["next"]},
            r"\$ref '#' recurses more than 12 times",
        ),
        ({"$ref": "#/$defs/missing"}, r"does not resolve"),
        ({"anyOf": [{"type": "integer", "minimum": 3, "maximum": 2}, False]}, r"anyOf"),
    ],
)
def test_unsatisfiable_schemas_raise(schema: Any, expected: str) -> None:
    with pytest.raises(UnsatisfiableSchemaError, match=expected):
        generate_instance(schema, random.Random(0))


def test_invalid_schema_is_reported() -> None:
    with pytest.raises(UnsatisfiableSchemaError, match=r"invalid schema at '#/properties/a/type'"):
        generate_instance({"properties": {"a": {"type": "strin"}}}, random.Random(0))
    assert issubclass(UnsatisfiableSchemaError, ValueError)


# --------------------------------------------------------------------------------------------
# property test: random function-parameter schemas
# --------------------------------------------------------------------------------------------

SAFE_PATTERNS = [
    r"^[a-z]{3,8}$",
    r"^[A-Z]{3}-\d{4}$",
    r"^\d{5}(-\d{4})?$",
    r"^(red|green|blue)$",
    r"^[a-z]+(_[a-z]+)*$",
    r"^#[0-9a-f]{6}$",
    r"^\+?[0-9 ]{7,12}$",
]
FORMATS = ["date-time", "date", "time", "email", "uri", "uuid", "ipv4", "hostname"]
PROPERTY_NAMES = [
    "location",
    "unit",
    "name",
    "email",
    "id",
    "user_id",
    "count",
    "price",
    "tags",
    "query",
    "enabled",
    "date",
    "created_at",
    "items",
    "value",
    "x",
    "limit",
    "description",
]
MULTIPLES = [2, 3, 5, 0.5, 0.25, 0.1, 0.01]


@st.composite
def string_schemas(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["plain", "lengths", "enum", "pattern", "format"]))
    if kind == "plain":
        return {"type": "string"}
    if kind == "lengths":
        low = draw(st.integers(0, 15))
        high = draw(st.integers(low, low + 20))
        schema: dict[str, Any] = {"type": "string"}
        if draw(st.booleans()):
            schema["minLength"] = low
        if draw(st.booleans()):
            schema["maxLength"] = high
        return schema
    if kind == "enum":
        values = draw(
            st.lists(
                st.text("abcxyz -", min_size=1, max_size=8), min_size=1, max_size=4, unique=True
            )
        )
        return {"type": "string", "enum": values}
    if kind == "pattern":
        return {"type": "string", "pattern": draw(st.sampled_from(SAFE_PATTERNS))}
    return {"type": "string", "format": draw(st.sampled_from(FORMATS))}


@st.composite
def numeric_schemas(draw: st.DrawFn) -> dict[str, Any]:
    integer = draw(st.booleans())
    schema: dict[str, Any] = {"type": "integer" if integer else "number"}
    step = draw(st.none() | st.sampled_from(MULTIPLES))
    # Wide enough that a multiple of `step` always lies strictly inside the bounds.
    low = draw(st.integers(-1000, 1000))
    width = draw(st.integers(0 if step is None and not integer else 3, 300))
    if step is not None:
        # Float steps: jsonschema's float arithmetic rejects some grid points (0.3 / 0.1 is not
        # an integer), so leave room for plenty of candidates.
        width = max(width, int(4 * step) + 3, 20 if isinstance(step, float) else 0)
        schema["multipleOf"] = step
    if draw(st.booleans()):
        schema["exclusiveMinimum" if draw(st.booleans()) and width >= 3 else "minimum"] = low
    if draw(st.booleans()):
        key = "exclusiveMaximum" if draw(st.booleans()) and width >= 3 else "maximum"
        schema[key] = low + width
    if width == 0 and "exclusiveMinimum" in schema:
        del schema["exclusiveMinimum"]
    return schema


SCALARS = st.one_of(
    string_schemas(),
    numeric_schemas(),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.sampled_from(
        [
            {},
            {"const": "fixed"},
            {"enum": [1, "two", None]},
            {"type": "string", "nullable": True},
            {"type": ["integer", "string"]},
        ]
    ),
)
# Item schemas with enough distinct values for uniqueItems with up to 4 items.
RICH_ITEMS = st.sampled_from(
    [
        {"type": "integer"},
        {"type": "string", "minLength": 1},
        {"type": "string", "format": "uuid"},
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^[A-Z]{3}-\d{4}$"},
    ]
)


def arrays_of(items: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        unique = draw(st.booleans())
        schema: dict[str, Any] = {"type": "array", "items": draw(RICH_ITEMS if unique else items)}
        low = draw(st.integers(0, 3))
        if draw(st.booleans()):
            schema["minItems"] = low
        if draw(st.booleans()):
            schema["maxItems"] = low + draw(st.integers(0, 3))
        if unique:
            schema["uniqueItems"] = True
        return schema

    return build()


def objects_of(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        props = draw(st.dictionaries(st.sampled_from(PROPERTY_NAMES), values, max_size=5))
        required = draw(st.lists(st.sampled_from(sorted(props)), unique=True)) if props else []
        schema: dict[str, Any] = {"type": "object", "properties": props}
        if required:
            schema["required"] = required
        if draw(st.booleans()):
            schema["additionalProperties"] = False
        with_minimum = draw(st.booleans())
        if props and with_minimum:
            schema["minProperties"] = draw(st.integers(0, len(props)))
        if draw(st.booleans()):
            floor = max(len(required), schema.get("minProperties", 0))
            schema["maxProperties"] = floor + draw(st.integers(0, 3))
        return schema

    return build()


def one_of_disjoint(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    # Branches of different JSON types never overlap, so the oneOf is satisfiable.
    families = {
        "string": string_schemas(),
        "integer": numeric_schemas().map(lambda s: {**s, "type": "integer"}),
        "boolean": st.just({"type": "boolean"}),
        "null": st.just({"type": "null"}),
        "array": arrays_of(children),
        "object": objects_of(children),
    }

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        names = draw(
            st.lists(st.sampled_from(sorted(families)), min_size=1, max_size=3, unique=True)
        )
        return {"oneOf": [draw(families[name]) for name in names]}

    return build()


def all_of_split(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        names = draw(st.lists(st.sampled_from(PROPERTY_NAMES), min_size=1, max_size=4, unique=True))
        cut = draw(st.integers(0, len(names)))
        parts = []
        for chunk in (names[:cut], names[cut:]):
            props = {name: draw(children) for name in chunk}
            required = [n for n in chunk if draw(st.booleans())]
            parts.append({"type": "object", "properties": props, "required": required})
        return {"allOf": parts}

    return build()


def extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        arrays_of(children),
        objects_of(children),
        st.lists(children, min_size=1, max_size=3).map(lambda xs: {"anyOf": xs}),
        one_of_disjoint(children),
        all_of_split(children),
        children.map(lambda s: {"allOf": [s, {"description": "wrapped"}]}),
        objects_of(children).map(lambda s: {**s, "nullable": True}),
    )


@st.composite
def function_parameters(draw: st.DrawFn) -> dict[str, Any]:
    defs = draw(
        st.dictionaries(st.sampled_from(["money", "tag", "point", "label"]), SCALARS, max_size=3)
    )
    if draw(st.booleans()):
        defs["node"] = {
            "type": "object",
            "properties": {
                "value": {"type": "integer"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
            },
            "required": ["value"],
        }
    leaves: st.SearchStrategy[Any] = SCALARS
    if defs:
        refs = st.sampled_from(sorted(defs)).map(lambda name: {"$ref": f"#/$defs/{name}"})
        leaves = st.one_of(SCALARS, refs)
    body = st.recursive(leaves, extend, max_leaves=10)
    schema = draw(objects_of(body))
    if defs:
        schema["$defs"] = defs
    return schema


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=function_parameters(), seed=st.integers(0, 2**32 - 1))
@example(schema={"type": "object", "properties": {}}, seed=0)
@example(
    schema={
        "type": "object",
        "properties": {"x": {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 0}]}},
        "required": ["x"],
    },
    seed=1,
)
@example(
    schema={
        "type": "object",
        "properties": {
            "price": {
                "type": "number",
                "multipleOf": 0.1,
                "exclusiveMinimum": 0,
                "exclusiveMaximum": 0.5,
            }
        },
        "required": ["price"],
    },
    seed=3,
)
@example(
    schema={
        "type": "object",
        "properties": {
            "tags": {
                "type": "array",
                "items": {"type": "string", "pattern": r"^[a-z]{3,8}$"},
                "minItems": 4,
                "maxItems": 4,
                "uniqueItems": True,
            }
        },
        "required": ["tags"],
    },
    seed=5,
)
@example(
    schema={
        "type": "object",
        "$defs": {"node": TREE},
        "properties": {
            "root": {"$ref": "#/$defs/node"},
            "alt": {"anyOf": [{"$ref": "#"}, {"type": "null"}]},
        },
        "required": ["root", "alt"],
        "minProperties": 2,
        "maxProperties": 2,
    },
    seed=7,
)
@pytest.mark.slow
def test_generated_instances_validate(schema: dict[str, Any], seed: int) -> None:
    instance = generate_instance(schema, random.Random(seed))
    assert_valid(schema, instance)
    assert canonical(generate_instance(schema, random.Random(seed))) == canonical(instance)


# --------------------------------------------------------------------------------------------
# property test: shapes the generator used to answer with `{}` (formats with lengths, patterns
# in the regex package's syntax, minContains)
# --------------------------------------------------------------------------------------------

LENGTH_FORMATS = ["email", "idn-email", "uri", "hostname", "time", "date-time", "uuid", "date"]
REGEX_PATTERNS = [
    r"^\p{L}{5}$",
    r"^\p{Lu}\p{Ll}{1,8}$",
    r"^[\p{L}\p{N}_-]{3,12}$",
    r"^\P{N}+$",
    r"^[^\p{L}\s]{2,4}$",
    r"^\p{Greek}{2}$",
    r"a++b",
    r"^(?>ab|a)c$",
    r"^(?>[a-z]+)\d$",
    r"^(x)?(?(1)y|z)$",
    r"^(?<word>[a-z]{2})-(?P=word)$",
]


def _regex_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if validator.is_type(instance, "string") and not regex.search(pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


# Patterns as the mock matches them (the regex package, which knows \p{..}); formats checked.
RegexValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"pattern": _regex_pattern}
)


@st.composite
def shortfall_shapes(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["format-lengths", "regex-syntax", "min-contains"]))
    if kind == "format-lengths":
        schema: dict[str, Any] = {"type": "string", "format": draw(st.sampled_from(LENGTH_FORMATS))}
        low = draw(st.integers(0, 120))
        if draw(st.booleans()):
            schema["minLength"] = low
        if draw(st.booleans()):
            schema["maxLength"] = low + draw(st.integers(0, 40))
        return schema
    if kind == "regex-syntax":
        return {"type": "string", "pattern": draw(st.sampled_from(REGEX_PATTERNS))}
    wanted = draw(st.integers(0, 30))
    schema = {"type": "array", "contains": draw(SCALARS), "minContains": wanted}
    if draw(st.booleans()):
        schema["maxContains"] = wanted + draw(st.integers(0, 3))
    if draw(st.booleans()):
        schema["items"] = draw(SCALARS)
    return schema


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=objects_of(shortfall_shapes()), seed=st.integers(0, 2**32 - 1))
@example(
    schema={
        "type": "object",
        "properties": {"e": {"type": "string", "format": "email", "minLength": 30}},
        "required": ["e"],
    },
    seed=0,
)
@example(schema={"type": "string", "format": "email", "minLength": 50}, seed=0)
@example(schema={"type": "string", "pattern": r"^\p{L}{5}$"}, seed=0)
@example(schema={"type": "string", "pattern": "a++b"}, seed=0)
@example(schema={"type": "array", "contains": {"type": "string"}, "minContains": 20}, seed=0)
@example(  # found by a random run: null counts as contained only with `nullable` read
    schema={
        "type": "array",
        "contains": {"type": "null"},
        "minContains": 1,
        "items": {"type": "string", "nullable": True},
    },
    seed=0,
)
@pytest.mark.slow
def test_values_the_generator_stands_by_validate(schema: dict[str, Any], seed: int) -> None:
    # The generator either stands by a value (which must validate), says the schema has no
    # value (a contradiction), or says it cannot generate one (a 400): never a wrong value.
    try:
        instance = generate_instance(schema, random.Random(seed))
    except (CannotGenerateError, UnsatisfiableSchemaError):
        return
    # Read with OpenAPI's `nullable`, as the mock reads a client's schema (SCALARS has it).
    referee = openapi_to_jsonschema(schema)
    RegexValidator(referee, format_checker=RegexValidator.FORMAT_CHECKER).validate(instance)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "format": "email", "minLength": 30},
        {"type": "string", "format": "email", "minLength": 50},
        {"type": "string", "format": "uri", "minLength": 200},
        {"type": "string", "format": "hostname", "maxLength": 6},
        *({"type": "string", "pattern": pattern} for pattern in REGEX_PATTERNS),
        {"type": "array", "contains": {"type": "string"}, "minContains": 25},
    ],
)
def test_the_shapes_of_the_issue_are_stood_by(schema: dict[str, Any]) -> None:
    # What the property test may skip, these must not: each has a value the generator makes.
    for seed in range(4):
        instance = generate_instance(schema, random.Random(seed))
        RegexValidator(schema, format_checker=RegexValidator.FORMAT_CHECKER).validate(instance)


def test_an_object_of_optional_properties_only_is_never_left_empty() -> None:
    # instructor's create_iterable sends {"properties": {"tasks": ...}, "required": []}:
    # an empty object parsed to no tasks at all, and failed its validation.
    schema = {
        "type": "object",
        "properties": {
            "tasks": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}},
                    "required": ["name"],
                },
            }
        },
        "required": [],
    }
    for value in generate_checked(schema, range(40)):
        assert "tasks" in value, value
    # With a property required, the optional ones are still chosen about half the time.
    mixed = {**schema, "properties": {**schema["properties"], "id": {"type": "integer"}}}
    mixed["required"] = ["id"]
    kept = [("tasks" in value) for value in generate_checked(mixed, range(40))]
    assert 0 < sum(kept) < 40
