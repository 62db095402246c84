"""Our contract checks, registered with schemathesis's own check mechanism.

schemathesis's ``response_schema_conformance`` validates each SSE event's *envelope*
(``{"data": "...", "event": ...}``) against the chunk schema, so every stream fails it
(specs/README.md §5); contract runs exclude it and use :func:`spec_conformance` instead, which
judges JSON bodies and each stream event with :mod:`harness.validate`, i.e. with exactly
the semantics the mock validates requests with. The other checks add what no schema can
say: stream framing and order, token counts that add up, and finish reasons the request
made possible.

The checks act only on operations of schemas built by :func:`harness.contract.load_schema`,
which mark the document with :data:`MARKER`; on any other schema (a user's own API tested
in the same process) they are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import schemathesis
from schemathesis.core.failures import Failure, FailureGroup, Severity

from harness.schema import Violation
from harness.spec import EVENT_STREAM, JSON, Operation, load_specs
from harness.sse import ServerSentEvent, decode_stream
from harness.validate import (
    STREAM_RULES,
    stream_error,
    stream_mismatch,
    validate_finish_reasons,
    validate_response,
    validate_stream,
    validate_usage,
)

# Root-level vendor extension naming the harness document a schemathesis schema was built from.
MARKER = "x-harness-contract"
# A response with more problems than this is reported by its first ones; the rest are noise.
MAX_VIOLATIONS_PER_RESPONSE = 20
_INDEX = re.compile(r"/\d+(?=/|$)")

# What each of our checks guards, as the title of its failures.
TITLES = {
    "spec_conformance": "Response violates the effective spec",
    "stream_conformance": "Stream framing, order or consistency is broken",
    "usage_consistency": "Token usage does not add up",
    "finish_reason_consistency": "Finish reason or tool call the request made impossible",
}

CheckResult = bool | None
SKIP: CheckResult = True  # what a schemathesis check returns when it does not apply


class ContractFailure(Failure):
    """A response that breaks the effective spec or one of the harness's stream/usage rules.

    schemathesis deduplicates failures by operation, class and ``_unique_key``; the key here
    is the check, the rule (keyword) and the pointer with array positions folded, so the
    same problem in the 3rd and the 7th event of a stream is one finding, while a wrong
    type and a missing field are two.
    """

    code = "ST901"
    kind_title = "AIML API contract violated"
    __slots__ = ("check", "keyword", "pointer")

    def __init__(self, *, operation: str, check: str, violation: Violation) -> None:
        pointer = violation.pointer or "/"
        super().__init__(
            operation=operation,
            title=TITLES.get(check, f"`{check}` failed"),
            message=f"{pointer}: {violation.message}",
            severity=Severity.HIGH,
        )
        self.check = check
        self.keyword = violation.keyword
        self.pointer = pointer

    @property
    def _unique_key(self) -> str:
        return f"{self.check}|{self.keyword}|{_INDEX.sub('/*', self.pointer)}"


@lru_cache(maxsize=8)
def _operations(specs_dir: str | None, overlays: bool) -> Mapping[tuple[str, str, str], Operation]:
    # Loaded once per process: the effective documents come from the on-disk cache, and
    # every validator is compiled up front so worker threads never compile concurrently.
    specs = load_specs(specs_dir, overlays=overlays)
    specs.compile_all()
    return {(op.document, op.path, op.method): op for op in specs.operations}


def harness_operation(case: schemathesis.Case[Any]) -> Operation | None:
    """The harness operation a case belongs to, or ``None`` for schemas we did not build."""
    marker = case.operation.schema.raw_schema.get(MARKER)
    if not isinstance(marker, Mapping):
        return None
    specs_dir = marker.get("specs-dir")
    operations = _operations(
        specs_dir if isinstance(specs_dir, str) else None, marker.get("overlays") is not False
    )
    key = (str(marker.get("document")), case.operation.path, case.method.lower())
    return operations.get(key)


def media_type(response: schemathesis.Response) -> str:
    values = response.headers.get("content-type") or [""]
    return values[0].split(";")[0].strip().lower()


def _request_body(case: schemathesis.Case[Any]) -> Any:
    return case.body if isinstance(case.body, dict) else None


def _fail(case: schemathesis.Case[Any], check: str, violations: list[Violation]) -> None:
    if not violations:
        return
    label = case.operation.label
    failures: list[Failure] = [
        ContractFailure(operation=label, check=check, violation=violation)
        for violation in violations[:MAX_VIOLATIONS_PER_RESPONSE]
    ]
    raise FailureGroup(failures)


def _reply(response: schemathesis.Response) -> tuple[Any, list[Violation]]:
    """The response as :mod:`harness.validate` takes it: a JSON value or the stream's events."""
    if media_type(response) == EVENT_STREAM:
        events: list[ServerSentEvent] = decode_stream(response.content)
        return events, []
    try:
        return response.json(), []
    except ValueError as exc:
        return None, [Violation((), f"the {JSON} body is not JSON: {exc}", "json")]


@schemathesis.check
def spec_conformance(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> CheckResult:
    """JSON bodies (any documented status) and each stream event against the effective spec."""
    operation = harness_operation(case)
    kind = media_type(response)
    status = str(response.status_code)
    if operation is None or kind not in operation.response_media_types(status):
        return SKIP  # undocumented status or media type: status/content-type checks report it
    if kind == EVENT_STREAM:
        events = decode_stream(response.content)
        found = [v for v in validate_stream(operation, events) if v.keyword not in STREAM_RULES]
    else:
        body, found = _reply(response)
        if not found:
            found = validate_response(operation, body, status, kind)
    _fail(case, "spec_conformance", found)
    return None


@schemathesis.check
def stream_conformance(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> CheckResult:
    """``stream: true`` gets SSE and nothing else does; framing, order, indexes hold, and
    what a client assembles agrees with itself.

    A stream that fails after it started (chat ``data: {"error": ...}``, Responses ``error``
    and ``response.failed``) is well formed, but it is an error answer, reported as
    schemathesis's ``not_a_server_error`` reports a 5xx.
    """
    operation = harness_operation(case)
    if operation is None or not 200 <= response.status_code < 300:
        return SKIP
    kind = media_type(response)
    streamed = kind == EVENT_STREAM
    _fail(case, "stream_conformance", stream_mismatch(_request_body(case), kind))
    if not streamed or response.stream_cut_short:
        return SKIP  # a stream read only in part cannot be judged for how it ends
    events = decode_stream(response.content)
    found = [v for v in validate_stream(operation, events) if v.keyword in STREAM_RULES]
    failed = stream_error(events)
    if failed is not None:
        index, error = failed
        message = f"the stream failed after it started: {error}"
        found.append(Violation((index,), message, "stream_error"))
    _fail(case, "stream_conformance", found)
    return None


def _semantic_check(
    name: str, validate: Callable[[Operation, Any, Any], list[Violation]]
) -> Callable[
    [schemathesis.CheckContext, schemathesis.Response, schemathesis.Case[Any]], CheckResult
]:
    def check(
        ctx: schemathesis.CheckContext,
        response: schemathesis.Response,
        case: schemathesis.Case[Any],
    ) -> CheckResult:
        operation = harness_operation(case)
        if operation is None or not 200 <= response.status_code < 300:
            return SKIP
        reply, problems = _reply(response)
        if problems:
            return SKIP  # not JSON: spec_conformance reports that
        _fail(case, name, validate(operation, _request_body(case), reply))
        return None

    check.__name__ = check.__qualname__ = name
    check.__doc__ = validate.__doc__
    return check


usage_consistency = schemathesis.check(_semantic_check("usage_consistency", validate_usage))
finish_reason_consistency = schemathesis.check(
    _semantic_check("finish_reason_consistency", validate_finish_reasons)
)

CONTRACT_CHECKS = (
    spec_conformance,
    stream_conformance,
    usage_consistency,
    finish_reason_consistency,
)
"""Every check this module registers, in report order."""
