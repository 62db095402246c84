"""`stream_conformance` catches streams a client would assemble into two stories.

The target is the real mock behind a WSGI wrapper that rewrites one thing in its streams
(tests/contract/targets.py); one case per operation runs schemathesis's own validation, so
the failure must come from our check, with a pointer into the broken event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from schemathesis.core.failures import FailureGroup

from harness.contract import ContractFailure, contract_config, load_schema
from harness.spec import load_specs
from harness.sse import DONE, decode_stream, encode_done, encode_json_event
from tests.contract import targets
from tests.fixtures.servers import API_KEY

_SPECS = load_specs()
_CONFIG = contract_config(max_examples=1, seed=1)
_SCHEMAS = {doc.name: load_schema(doc, _CONFIG) for doc in _SPECS.documents}
CHAT_BODY = {"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}], "stream": True}
RESPONSES_BODY = {"model": "gpt-4", "input": "hi", "stream": True}


@pytest.fixture(scope="module")
def app() -> Flask:
    return targets.mock_app()


def rewrite_stream(rewrite: Callable[[list[Any]], list[Any]]) -> Callable[[targets.Answer], None]:
    """A breakage that rewrites the payloads of every stream (JSON answers stay as they are)."""

    def breakage(answer: targets.Answer) -> None:
        if not answer.is_stream:
            return
        events = decode_stream(answer.body)
        payloads = rewrite([event.json() for event in events if event.data != DONE])
        done = any(event.data == DONE for event in events)
        body = b"".join(
            encode_json_event(p, p.get("type") if "type" in p else None) for p in payloads
        )
        answer.body = body + (encode_done() if done else b"")

    return breakage


def change_id_midway(chunks: list[Any]) -> list[Any]:
    chunks[2]["id"] = "chatcmpl-another"
    return chunks


def chat_error_midway(chunks: list[Any]) -> list[Any]:
    error = {"message": "The server had an error", "type": "server_error", "code": "server_error"}
    return [*chunks[:2], {"error": error}]


def other_done_text(events: list[Any]) -> list[Any]:
    for event in events:
        if event["type"] == "response.output_text.done":
            event["text"] += " (edited)"
    return events


def other_final_arguments(events: list[Any]) -> list[Any]:
    for event in events:
        if event["type"] == "response.completed":
            event["response"]["output"][0]["arguments"] = '{"city": "Tokyo"}'
    return events


def run_case(document: str, path: str, body: dict[str, Any], url: str) -> list[ContractFailure]:
    operation = _SCHEMAS[document][path]["POST"]
    case = operation.Case(body=body, media_type="application/json")
    with pytest.raises(FailureGroup) as caught:
        case.call_and_validate(base_url=url, headers={"Authorization": f"Bearer {API_KEY}"})
    failures = list(caught.value.exceptions)
    assert all(isinstance(failure, ContractFailure) for failure in failures), failures
    return failures  # type: ignore[return-value]


TOOL = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object"},
    "strict": False,
}


@pytest.mark.parametrize(
    ("rewrite", "document", "path", "body", "pointer", "fragment"),
    [
        (
            change_id_midway,
            "gpt-4",
            "/v1/chat/completions",
            CHAT_BODY,
            "/2/id",
            "id is 'chatcmpl-another', but the stream's first chunk has",
        ),
        (
            chat_error_midway,
            "gpt-4",
            "/v1/chat/completions",
            CHAT_BODY,
            "/2",
            "the stream failed after it started: server_error: The server had an error",
        ),
        (
            other_done_text,
            "gpt-4-RESPONSES",
            "/v1/responses",
            RESPONSES_BODY,
            None,
            "(edited)' is not the text streamed for output 0 content 0",
        ),
        (
            other_final_arguments,
            "gpt-4-RESPONSES",
            "/v1/responses",
            {**RESPONSES_BODY, "tools": [TOOL], "tool_choice": "required"},
            None,
            'arguments \'{"city": "Tokyo"}\' is not the arguments streamed for output 0',
        ),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_stream_conformance_reports_it(
    app: Flask,
    rewrite: Callable[[list[Any]], list[Any]],
    document: str,
    path: str,
    body: dict[str, Any],
    pointer: str | None,
    fragment: str,
) -> None:
    with targets.broken_target(rewrite_stream(rewrite), app) as url:
        (failure,) = run_case(document, path, body, url)
    assert failure.check == "stream_conformance"
    assert fragment in failure.message, failure.message
    if pointer is not None:
        assert failure.pointer == pointer


def test_unbroken_streams_pass(app: Flask) -> None:
    with targets.broken_target(rewrite_stream(lambda payloads: payloads), app) as url:
        for document, path, body in (
            ("gpt-4", "/v1/chat/completions", CHAT_BODY),
            ("gpt-4-RESPONSES", "/v1/responses", RESPONSES_BODY),
        ):
            case = _SCHEMAS[document][path]["POST"].Case(body=body, media_type="application/json")
            case.call_and_validate(base_url=url, headers={"Authorization": f"Bearer {API_KEY}"})
