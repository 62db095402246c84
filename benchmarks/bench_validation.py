"""Validation speed: Responses stream events dispatched by ``type`` versus the 53-way ``oneOf``.

The stream is the mock's own: a Responses request answered through the Flask test client
(no sockets), so the events have the real shapes and counts. Measured side by side:

  events   per event, every event of the stream:
           - baseline: python-``jsonschema`` ``Draft4Validator`` on the converted 53-way
             ``oneOf`` (the honest naive validator, specs/README.md §5), ``is_valid``
           - ``jsonschema_rs`` on the same 53-way ``oneOf``, ``is_valid`` (for context)
           - ours: ``harness.validate.validate_event`` (``TaggedUnion``: dispatch on ``type``,
             then one compiled branch; errors as JSON pointers)
  stream   the whole transcript: SSE decode + every event + framing/order/index rules
           (``validate_stream``) versus decode + the baseline on every event
  invalid  one broken event, every error listed: the 53-way union can only say "not valid
           under any of the given schemas"; dispatch names the field
  bodies   whole JSON responses (chat and Responses): ``validate_response`` (``jsonschema_rs``)
           versus python-``jsonschema`` on the converted schema

Run by hand:  python benchmarks/bench_validation.py [--repeat 5] [--target 20]
Exit status 1 if event dispatch is less than ``--target`` times faster than the baseline.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from functools import partial
from importlib.metadata import version
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs installed; a script

from harness.schema import compile_schema, to_json_schema
from harness.spec import EVENT_STREAM, JSON, Operation, load_specs
from harness.sse import decode_stream
from harness.validate import validate_event, validate_response, validate_stream
from mockserver import MockConfig, create_app

PROMPT = "Write a few paragraphs about the history of the printing press and its effects."


def best_of(repeat: int, number: int, work: Callable[[], Any]) -> float:
    """Seconds per call: the best of ``repeat`` rounds of ``number`` calls."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            work()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def mock_replies() -> tuple[bytes, dict[str, Any], dict[str, Any]]:
    """A Responses stream, a Responses JSON body and a chat JSON body, from the mock itself."""
    client = create_app(MockConfig()).test_client()
    headers = {"Authorization": "Bearer bench"}
    body = {"model": "gpt-4", "input": PROMPT}
    stream = client.post("/v1/responses", json={**body, "stream": True}, headers=headers)
    response = client.post("/v1/responses", json=body, headers=headers)
    chat_body = {"model": "gpt-4", "messages": [{"role": "user", "content": PROMPT}]}
    chat = client.post("/v1/chat/completions", json=chat_body, headers=headers)
    for reply in (stream, response, chat):
        assert reply.status_code == 200, reply.get_data(as_text=True)
    return stream.get_data(), response.get_json(), chat.get_json()


def row(name: str, seconds: float, baseline: float | None = None) -> str:
    ratio = f"{baseline / seconds:9.1f}x" if baseline else " " * 10
    return f"  {name:<62} {seconds * 1e6:11.1f} µs {ratio}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds; the best one counts")
    parser.add_argument("--target", type=float, default=20.0, help="required event speed-up")
    args = parser.parse_args()

    specs = load_specs()
    responses = specs.find("/v1/responses", "post", "gpt-4")
    chat = specs.find("/v1/chat/completions", "post", "gpt-4")
    assert isinstance(responses, Operation) and isinstance(chat, Operation)
    specs.compile_all()

    wire, response_body, chat_body = mock_replies()
    events = [event.json() for event in decode_stream(wire)]
    union = to_json_schema(responses.response_schema("200", EVENT_STREAM))
    assert len(union["oneOf"]) == 53
    naive = jsonschema.Draft4Validator(union)
    naive_rs = compile_schema(union)
    # Same verdicts first: a speed-up that changed the answers would be worthless.
    assert all(naive.is_valid(event) for event in events)
    assert all(validate_event(responses, event) == [] for event in events)
    assert validate_stream(responses, wire) == []

    kinds: dict[str, int] = {}
    for event in events:
        kinds[event["type"]] = kinds.get(event["type"], 0) + 1
    print(
        f"python {platform.python_version()}, jsonschema {version('jsonschema')}, "
        f"jsonschema_rs {version('jsonschema-rs')}, {platform.machine()}"
    )
    print(
        f"Responses stream from the mock: {len(events)} events, {len(wire)} bytes; "
        + ", ".join(f"{kind.removeprefix('response.')} x{n}" for kind, n in kinds.items())
    )
    print(f"{'':<64} {'per call':>14} {'vs baseline':>10}")

    def each(check: Callable[[Any], Any]) -> Callable[[], None]:
        def run() -> None:
            for event in events:
                check(event)

        return run

    repeat, n = args.repeat, len(events)
    print("events (mean per event, over the whole stream)")
    base = best_of(repeat, 3, each(naive.is_valid)) / n
    rs_union = best_of(repeat, 20, each(naive_rs.is_valid)) / n
    ours = best_of(repeat, 20, each(lambda event: validate_event(responses, event))) / n
    print(row("baseline: jsonschema Draft4 on the 53-way oneOf", base))
    print(row("jsonschema_rs on the 53-way oneOf (is_valid only)", rs_union, base))
    print(row("ours: validate_event (TaggedUnion dispatch by type)", ours, base))
    for kind in ("response.output_text.delta", "response.completed"):
        event = next(e for e in events if e["type"] == kind)
        slow = best_of(repeat, 5, partial(naive.is_valid, event))
        fast = best_of(repeat, 200, partial(validate_event, responses, event))
        print(row(f"  {kind}: baseline", slow))
        print(row(f"  {kind}: ours", fast, slow))

    print("an invalid event, every error reported (response.created with usage: 5)")
    created = next(e for e in events if e["type"] == "response.created")
    bad = {**created, "response": {**created["response"], "usage": 5}}
    slow = best_of(repeat, 5, lambda: list(naive.iter_errors(bad)))
    rs_errors = best_of(repeat, 20, lambda: list(naive_rs.iter_errors(bad)))
    fast = best_of(repeat, 200, lambda: validate_event(responses, bad))
    (violation,) = validate_event(responses, bad)
    print(row("baseline: jsonschema oneOf iter_errors ('not valid under any')", slow))
    print(row("jsonschema_rs oneOf iter_errors (same useless message)", rs_errors, slow))
    print(row(f"ours: {violation}", fast, slow))

    print("stream (decode + every event + framing, order and index rules)")
    stream_base = best_of(
        repeat, 3, lambda: [naive.is_valid(e.json()) for e in decode_stream(wire)]
    )
    stream_ours = best_of(repeat, 20, lambda: validate_stream(responses, wire))
    print(row("baseline: decode + jsonschema oneOf per event", stream_base))
    print(row("ours: validate_stream", stream_ours, stream_base))

    print("whole JSON bodies")
    for name, operation, body in (
        ("Responses", responses, response_body),
        ("chat", chat, chat_body),
    ):
        schema = to_json_schema(operation.response_schema("200", JSON))
        slow_validator = jsonschema.Draft4Validator(schema)
        assert slow_validator.is_valid(body) and validate_response(operation, body) == []
        slow = best_of(repeat, 20, partial(slow_validator.is_valid, body))
        fast = best_of(repeat, 200, partial(validate_response, operation, body))
        print(row(f"{name}: jsonschema Draft4 ({len(json.dumps(body))} B body)", slow))
        print(row(f"{name}: ours, validate_response", fast, slow))

    speedup = base / ours
    verdict = "met" if speedup >= args.target else "MISSED"
    print(f"event dispatch speed-up {speedup:.0f}x; target {args.target:.0f}x {verdict}")
    return 0 if speedup >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
