"""`harness cassettes compare` catches a mock whose wire is broken on purpose.

The real mock app, served on a free port, with a WSGI middleware in front that rewrites its
answers the way a wire bug would: a field added, ``[DONE]`` dropped, two events swapped, an
enum value changed, ``null`` left out, a header lost. Each run compares the shipped corpus
against it and must report that break, as new, at the place where it happens.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from harness.cassettes import read_cassettes
from harness.cassettes.compare import CompareReport, compare_cassettes
from harness.cassettes.compare_baseline import load_baseline
from mockserver import MockConfig, create_app
from tests.cassettes.conftest import SHIPPED
from tests.fixtures.servers import serve_in_thread

KEY = "sk-compare-breaks-key"
Headers = list[tuple[str, str]]
Rewrite = Callable[[str, Headers, bytes], tuple[Headers, bytes]]


def rewriting(app: Any, rewrite: Rewrite) -> Callable[..., Iterable[bytes]]:
    """A WSGI middleware that hands each whole answer to ``rewrite`` before it is sent."""

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: Headers, exc_info: Any = None) -> Callable[..., Any]:
            captured.update(status=status, headers=headers)
            return lambda data: None

        answer = app(environ, capture)
        try:
            body = b"".join(answer)
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
        headers, body = rewrite(environ["PATH_INFO"], list(captured["headers"]), body)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])
        yield body

    return middleware


def on_json(path_prefix: str, change: Callable[[dict[str, Any]], None]) -> Rewrite:
    def rewrite(path: str, headers: Headers, body: bytes) -> tuple[Headers, bytes]:
        if not path.startswith(path_prefix) or not body.startswith(b"{"):
            return headers, body
        payload = json.loads(body)
        change(payload)
        return headers, json.dumps(payload).encode("utf-8")

    return rewrite


def add_output_text(payload: dict[str, Any]) -> None:
    if payload.get("object") == "response":
        payload["output_text"] = "the SDK's convenience, on the wire"


def rename_finish_reason(payload: dict[str, Any]) -> None:
    for choice in payload.get("choices", []):
        if choice.get("finish_reason") == "stop":
            choice["finish_reason"] = "end_turn"


def drop_refusal(payload: dict[str, Any]) -> None:
    for choice in payload.get("choices", []):
        choice.get("message", {}).pop("refusal", None)


def drop_done(path: str, headers: Headers, body: bytes) -> tuple[Headers, bytes]:
    return headers, body.replace(b"data: [DONE]\n\n", b"")


def swap_item_and_part(path: str, headers: Headers, body: bytes) -> tuple[Headers, bytes]:
    """Send each content_part.added before the output_item.added that opens its item."""
    frames = body.split(b"\n\n")
    for index in range(len(frames) - 1):
        if b"response.output_item.added" in frames[index] and (
            b"response.content_part.added" in frames[index + 1]
        ):
            frames[index], frames[index + 1] = frames[index + 1], frames[index]
    return headers, b"\n\n".join(frames)


def drop_request_id(path: str, headers: Headers, body: bytes) -> tuple[Headers, bytes]:
    return [(k, v) for k, v in headers if k.lower() != "x-request-id"], body


def unchanged(path: str, headers: Headers, body: bytes) -> tuple[Headers, bytes]:
    return headers, body


def compare_against(rewrite: Rewrite) -> CompareReport:
    app = create_app(MockConfig(api_key=KEY))
    app.wsgi_app = rewriting(app.wsgi_app, rewrite)  # type: ignore[method-assign]
    with serve_in_thread(app) as url:
        return compare_cassettes(
            read_cassettes(SHIPPED),
            url,
            api_key=KEY,
            baseline=load_baseline(SHIPPED / ".compare-baseline.yaml"),
            directory=str(SHIPPED),
        )


def new_findings(report: CompareReport) -> set[tuple[str, str, str, str, str]]:
    return {
        (
            f.operation,
            f.difference.location,
            f.difference.aspect,
            f.difference.recorded,
            f.difference.target,
        )
        for f in report.new
    }


def test_the_middleware_alone_changes_nothing() -> None:
    report = compare_against(unchanged)
    assert report.clean, [(f.operation, f.difference) for f in report.new]


@pytest.mark.parametrize(
    ("rewrite", "expected"),
    [
        pytest.param(
            on_json("/v1/responses", add_output_text),
            ("POST /v1/responses", "/output_text", "presence", "absent", "string"),
            id="field-added",
        ),
        pytest.param(
            drop_done,
            (
                "POST /v1/chat/completions",
                "[DONE]",
                "event",
                "present, after finish chunk",
                "absent",
            ),
            id="done-dropped",
        ),
        pytest.param(
            on_json("/v1/chat/completions", rename_finish_reason),
            ("POST /v1/chat/completions", "/choices/[]/finish_reason", "value", "stop", "end_turn"),
            id="enum-value-changed",
        ),
        pytest.param(
            on_json("/v1/chat/completions", drop_refusal),
            (
                "POST /v1/chat/completions",
                "/choices/[]/message/refusal",
                "presence",
                "null",
                "absent",
            ),
            id="null-left-out",
        ),
        pytest.param(
            drop_request_id,
            ("POST /v1/chat/completions", "header x-request-id", "presence", "present", "absent"),
            id="header-lost",
        ),
    ],
)
def test_a_broken_wire_is_caught_where_it_breaks(
    rewrite: Rewrite, expected: tuple[str, str, str, str, str]
) -> None:
    report = compare_against(rewrite)
    assert not report.clean
    assert expected in new_findings(report), sorted(new_findings(report))


def test_reordered_events_are_caught_in_every_responses_stream() -> None:
    report = compare_against(swap_item_and_part)
    moved = [
        f
        for f in report.new
        if f.difference.aspect == "event order"
        and re.match(r"response\.(output_item|content_part)\.added\[0", f.difference.location)
    ]
    assert moved, sorted(new_findings(report))
    streams = {
        i.label
        for c in read_cassettes(SHIPPED)
        for i in c.interactions
        if i.response.is_stream and b"response.content_part.added" in i.response.body
    }
    assert streams <= {label for f in moved for label in f.interactions}
