"""Deliberately broken targets: the real mock app behind a WSGI wrapper that breaks one thing.

Each breakage rewrites the mock's finished answer (status and body) for one kind of
response, so everything else stays correct and a contract run must single out exactly the
check that guards the broken rule.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask

from harness.sse import decode_stream, encode_json_event
from mockserver import MockConfig, create_app
from tests.fixtures.servers import API_KEY, serve_in_thread

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


@dataclass
class Answer:
    """One finished answer of the mock, for a breakage to rewrite."""

    path: str
    status: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def is_stream(self) -> bool:
        return any(k.lower() == "content-type" and "event-stream" in v for k, v in self.headers)

    def json(self) -> Any:
        return json.loads(self.body)

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value).encode()


Breakage = Callable[[Answer], None]


class Broken:
    """WSGI app: the mock, with ``breakage`` applied to every answer it gives."""

    def __init__(self, app: Flask, breakage: Breakage) -> None:
        self.app = app
        self.breakage = breakage

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured.update(status=status, headers=headers)
            return lambda data: None

        chunks = self.app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        answer = Answer(environ.get("PATH_INFO", ""), captured["status"], captured["headers"], body)
        self.breakage(answer)
        headers = [(k, v) for k, v in answer.headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(answer.body))))
        start_response(answer.status, headers)
        return [answer.body]


def mock_app() -> Flask:
    return create_app(MockConfig(api_key=API_KEY))


@contextmanager
def broken_target(breakage: Breakage, app: Flask | None = None) -> Iterator[str]:
    """The mock (``app``, or a new one) broken by ``breakage`` on a free port; yields its URL."""
    # serve_in_thread is annotated for Flask apps; any WSGI callable serves the same way.
    with serve_in_thread(Broken(app or mock_app(), breakage)) as url:  # type: ignore[arg-type]
        yield url


def _is_chat_json(answer: Answer) -> bool:
    is_chat = answer.path.endswith("/chat/completions")
    return is_chat and answer.status.startswith("200") and not answer.is_stream


def created_as_string(answer: Answer) -> None:
    """Chat JSON bodies carry ``created`` as a string (the spec says number)."""
    if _is_chat_json(answer):
        body = answer.json()
        body["created"] = str(body["created"])
        answer.set_json(body)


def missing_model(answer: Answer) -> None:
    """Chat JSON bodies lack the required ``model``."""
    if _is_chat_json(answer):
        body = answer.json()
        del body["model"]
        answer.set_json(body)


def no_done(answer: Answer) -> None:
    """Chat streams end without ``data: [DONE]``."""
    if answer.is_stream and answer.path.endswith("/chat/completions"):
        answer.body = answer.body.replace(b"data: [DONE]\n\n", b"")


def server_error_on_bad_input(answer: Answer) -> None:
    """Every 400 becomes a 500 (same JSON error body)."""
    if answer.status.startswith("400"):
        answer.status = "500 INTERNAL SERVER ERROR"


def created_after_in_progress(answer: Answer) -> None:
    """Responses streams send ``response.in_progress`` before ``response.created``."""
    if not (answer.is_stream and answer.path.endswith("/responses")):
        return
    events = [event.json() for event in decode_stream(answer.body)]
    events[0], events[1] = events[1], events[0]
    for number, event in enumerate(events):
        event["sequence_number"] = number
    answer.body = b"".join(encode_json_event(event, event["type"]) for event in events)


def total_off_by_one(answer: Answer) -> None:
    """Chat JSON usage: ``total_tokens`` is one more than prompt + completion."""
    if _is_chat_json(answer):
        body = answer.json()
        body["usage"]["total_tokens"] += 1
        answer.set_json(body)


def stream_usage_off_by_one(answer: Answer) -> None:
    """Chat streams' usage chunk: ``total_tokens`` is one more than prompt + completion.

    Only a stream asked for with ``stream_options.include_usage`` has that chunk: a run
    finds this only if it asks for usage on streams (it never did)."""
    if not (answer.is_stream and answer.path.endswith("/chat/completions")):
        return
    events = list(decode_stream(answer.body))
    rewritten = []
    for event in events:
        if event.data == "[DONE]":
            rewritten.append(b"data: [DONE]\n\n")
            continue
        payload = event.json()
        if isinstance(payload.get("usage"), dict):
            payload["usage"]["total_tokens"] += 1
        rewritten.append(encode_json_event(payload))
    answer.body = b"".join(rewritten)


def always_length(answer: Answer) -> None:
    """Chat JSON: every choice ends with ``finish_reason: length``, limit or not."""
    if _is_chat_json(answer):
        body = answer.json()
        for choice in body["choices"]:
            choice["finish_reason"] = "length"
        answer.set_json(body)


def no_done_and_created_as_string(answer: Answer) -> None:
    no_done(answer)
    created_as_string(answer)
