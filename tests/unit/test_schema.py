"""OpenAPI 3.0 -> JSON Schema conversion and violations that name the field."""

from __future__ import annotations

import pytest

from harness.schema import CompiledSchema, TaggedUnion, Violation, to_json_schema


def test_nullable_with_type_admits_null() -> None:
    schema = {"type": "string", "nullable": True, "example": "x", "x-extra": 1}
    assert to_json_schema(schema) == {"type": ["string", "null"]}
    assert CompiledSchema.from_openapi(schema).is_valid(None)


def test_nullable_without_type_is_dropped_and_accepts_anything() -> None:
    schema = {"anyOf": [{"type": "string"}, {"nullable": True}]}
    compiled = CompiledSchema.from_openapi(schema)
    assert compiled.json_schema == {"anyOf": [{"type": "string"}, {}]}
    assert compiled.is_valid(5) and compiled.is_valid(True)


def test_enum_keeps_oas_303_semantics() -> None:
    # nullable does not add null past an enum; overlays add it explicitly where needed.
    compiled = CompiledSchema.from_openapi({"type": "string", "enum": ["a"], "nullable": True})
    assert not compiled.is_valid(None)


def test_property_named_like_a_keyword_is_kept() -> None:
    schema = {"type": "object", "properties": {"example": {"type": "string"}, "nullable": {}}}
    assert set(to_json_schema(schema)["properties"]) == {"example", "nullable"}


def test_draft4_integer_and_formats_are_annotations() -> None:
    assert not CompiledSchema({"type": "integer"}).is_valid(1.5)
    assert CompiledSchema({"type": "string", "format": "uri"}).is_valid("not a uri")


MESSAGES = {
    "type": "object",
    "required": ["messages"],
    "properties": {
        "messages": {
            "type": "array",
            "items": {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["role", "content"],
                        "properties": {
                            "role": {"type": "string", "enum": ["user"]},
                            "content": {"type": "string"},
                        },
                    },
                    {
                        "type": "object",
                        "required": ["role", "tool_call_id"],
                        "properties": {
                            "role": {"type": "string", "enum": ["tool"]},
                            "tool_call_id": {"type": "string"},
                        },
                    },
                ]
            },
        }
    },
}


@pytest.mark.parametrize(
    ("instance", "pointer", "param"),
    [
        (
            {"messages": [{"role": "user", "content": 5}]},
            "/messages/0/content",
            "messages[0].content",
        ),
        ({"messages": [{"role": "tool"}]}, "/messages/0", "messages[0].tool_call_id"),
        ({"messages": [{"role": "robot"}]}, "/messages/0/role", "messages[0].role"),
        ({}, "", "messages"),
    ],
)
def test_union_failures_are_explained_by_the_tagged_branch(
    instance: object, pointer: str, param: str
) -> None:
    violations = CompiledSchema(MESSAGES).violations(instance)
    assert [(v.pointer, v.param) for v in violations] == [(pointer, param)]


def test_unknown_tag_lists_the_choices() -> None:
    (violation,) = CompiledSchema(MESSAGES).violations({"messages": [{"role": "robot"}]})
    assert violation.message == '"role" must be one of: user, tool'


def test_pointer_escapes_and_param_format() -> None:
    violation = Violation(("a/b", 0, "c~d"), "m", "type")
    assert violation.pointer == "/a~1b/0/c~0d"
    assert violation.param == "a/b[0].c~d"
    assert violation.prefixed((3,)).pointer == "/3/a~1b/0/c~0d"


def test_tagged_union_dispatches_on_type() -> None:
    union = TaggedUnion.from_openapi(
        {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["type", "delta"],
                    "properties": {"type": {"enum": ["delta"]}, "delta": {"type": "string"}},
                },
                {"type": "object", "properties": {"type": {"enum": ["done"]}}},
            ]
        }
    )
    assert union is not None
    assert union.is_valid({"type": "done"})
    assert [v.param for v in union.violations({"type": "delta"})] == ["delta"]
    assert union.violations({"type": "nope"})[0].message.startswith("unknown type 'nope'")
    assert union.violations({})[0].keyword == "required"
    assert union.violations([])[0].keyword == "type"


def test_untagged_oneof_is_not_a_tagged_union() -> None:
    assert TaggedUnion.from_openapi({"oneOf": [{"type": "string"}, {"type": "integer"}]}) is None


def test_an_enum_violation_names_every_allowed_value() -> None:
    # jsonschema_rs names two values and "or 5 other candidates": a stub author or a client
    # was left to guess the rest.
    schema = CompiledSchema({"enum": ["a", "b", "c", "d", "e", "f", None]})
    (violation,) = schema.violations("x")
    assert violation.message == '"x" is not one of: "a", "b", "c", "d", "e", "f", null'
    assert violation.keyword == "enum"


def test_a_long_enum_is_listed_within_bounds() -> None:
    schema = CompiledSchema({"enum": [f"value-{n}" for n in range(500)]})
    (violation,) = schema.violations("x")
    assert '"value-0"' in violation.message and "and 470 more" in violation.message
    assert len(violation.message) < 1000


def test_a_wrong_type_tag_is_named_before_the_fields_it_explains() -> None:
    # A chat image part on gpt-4 (parts are {"type": "text", "text"} only): the error named
    # the missing `text` first and the wrong `type` only under "Other problems".
    part = {
        "type": "object",
        "properties": {"type": {"enum": ["text"]}, "text": {"type": "string"}},
    }
    schema = CompiledSchema({"type": "array", "items": {**part, "required": ["type", "text"]}})
    image = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    first, *rest = schema.violations([{"type": "text", "text": "hi"}, image])
    assert (first.path, first.keyword) == ((1, "type"), "enum")
    assert [(v.path, v.keyword) for v in rest] == [((1,), "required")]
