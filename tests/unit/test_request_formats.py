"""String formats the effective specs declare on requests are asserted, as the specs' validators do.

The only ``format`` either spec declares on a request is ``uri`` (a ``url_citation``
annotation's ``url`` in an assistant message replayed as Responses input). It is checked the
way schemathesis and ``jsonschema_rs``'s Draft 4 validator check it (RFC 3986), so
``"url": ""`` is a 400 naming the field. Formats without a clear definition for strings
(OpenAPI's ``int64``, ``float``, ``password``, ...) stay annotations, and response bodies keep
treating every format as an annotation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harness.schema import ASSERTED_REQUEST_FORMATS, CompiledSchema
from harness.spec import JSON, Operation, SpecSet
from harness.validate import validate_request, validate_response

RESPONSES = "/v1/responses"
URL_PARAM = "input[1].content[0].annotations[0].url"


def _formats(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(pointer, format, declared type) of every schema that declares a string ``format``."""
    if isinstance(node, dict):
        if isinstance(node.get("format"), str):
            yield path, node["format"], node.get("type")
        for key, value in node.items():
            yield from _formats(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _formats(value, f"{path}/{index}")


def _replayed_citation(url: Any) -> dict[str, Any]:
    """A follow-up turn that replays an assistant output message carrying a url_citation."""
    text = "Paris is the capital of France."
    return {
        "model": "gpt-4",
        "input": [
            {"role": "user", "content": "What is the capital of France?"},
            {
                "type": "message",
                "id": "msg_6851c2a8b1c48191a0f3e52d7c9b4e1a0b4a1c8e9f703d52",
                "role": "assistant",
                "status": "completed",
                "content": [
                    {
                        "type": "output_text",
                        "text": text,
                        "annotations": [
                            {
                                "type": "url_citation",
                                "url": url,
                                "title": "Paris",
                                "start_index": 0,
                                "end_index": len(text),
                            }
                        ],
                    }
                ],
            },
            {"role": "user", "content": "Tell me more"},
        ],
    }


@pytest.fixture(scope="module")
def responses(specs: SpecSet) -> Operation:
    operation = specs.find(RESPONSES, "post", "gpt-4")
    assert operation is not None
    return operation


def test_request_formats_of_both_specs_are_known(specs: SpecSet) -> None:
    declared = {
        (str(operation), pointer, fmt, kind)
        for operation in specs
        for pointer, fmt, kind in _formats(operation.request_schema)
    }
    # Inventory of the effective specs: one uri, on Responses input; chat declares none.
    assert [(operation, fmt, kind) for operation, _, fmt, kind in declared] == [
        ("POST /v1/responses (gpt-4-RESPONSES)", "uri", "string")
    ]
    [(_, pointer, _, _)] = declared
    assert pointer.endswith("/annotations/items/oneOf/0/properties/url")
    assert {fmt for _, _, fmt, _ in declared} <= ASSERTED_REQUEST_FORMATS


@pytest.mark.parametrize(
    "url",
    [
        "https://en.wikipedia.org/wiki/Paris?utm_source=openai",
        "https://example.com/caf%C3%A9#history",
        "http://[::1]:8080/",
        "urn:isbn:0451450523",
    ],
)
def test_a_uri_is_accepted(responses: Operation, url: str) -> None:
    assert validate_request(responses, _replayed_citation(url)) == []


@pytest.mark.parametrize(
    "url",
    ["", "not a uri", "example.com/page", "https://exa mple.com/", "https://example.com/%zz"],
    ids=["empty", "words", "no-scheme", "space", "bad-escape"],
)
def test_a_string_that_is_not_a_uri_names_the_field(responses: Operation, url: str) -> None:
    [violation] = validate_request(responses, _replayed_citation(url))
    assert violation.param == URL_PARAM
    assert violation.keyword == "format"
    assert "uri" in violation.message


def test_response_formats_stay_annotations(responses: Operation) -> None:
    # A Response whose output carries the same citation with url "" is not refused: the
    # checks of a live API's bodies do not second-guess the URLs it sends.
    body = _replayed_citation("")["input"][1]
    completed = {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "status": "completed",
        "model": "gpt-4-0613",
        "output": [body],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "temperature": 1.0,
        "top_p": 1.0,
    }
    assert validate_response(responses, completed, "200", JSON) == []


@pytest.mark.parametrize(
    ("schema", "instance"),
    [
        ({"type": "integer", "format": "int64"}, 2**70),
        ({"type": "integer", "format": "int32"}, 2**40),
        ({"type": "number", "format": "float"}, 1e308),
        ({"type": "string", "format": "password"}, ""),
        ({"type": "string", "format": "byte"}, "not base64!"),
        ({"type": "string", "format": "binary"}, "\x00"),
        ({"type": "string", "format": "no-such-format"}, "anything"),
    ],
    ids=["int64", "int32", "float", "password", "byte", "binary", "unknown"],
)
def test_formats_without_a_string_definition_never_refuse(
    schema: dict[str, Any], instance: Any
) -> None:
    assert CompiledSchema.from_openapi(schema, assert_formats=True).violations(instance) == []


def test_formats_are_asserted_only_where_asked() -> None:
    schema = {"type": "string", "format": "uri"}
    assert CompiledSchema.from_openapi(schema).is_valid("")
    assert not CompiledSchema.from_openapi(schema, assert_formats=True).is_valid("")


# Format names OpenAPI documents and JSON Schema drafts define, and one made up.
_FORMAT_NAMES = [
    *sorted(ASSERTED_REQUEST_FORMATS),
    *["duration", "idn-hostname", "iri", "iri-reference", "json-pointer"],
    *["relative-json-pointer", "uri-reference", "uri-template", "uuid"],
    *["int32", "int64", "float", "double", "byte", "binary", "password", "no-such-format"],
]
# A value no definition of any of these formats accepts.
_NOT_ANY_FORMAT = "\\ [not ::: a value %%"


def test_the_validator_asserts_exactly_the_declared_formats() -> None:
    # Pins the engine: a jsonschema_rs release that starts or stops asserting a format
    # must change ASSERTED_REQUEST_FORMATS (and the README) on purpose.
    asserted = {
        name
        for name in _FORMAT_NAMES
        if not CompiledSchema({"type": "string", "format": name}, assert_formats=True).is_valid(
            _NOT_ANY_FORMAT
        )
    }
    assert asserted == ASSERTED_REQUEST_FORMATS
