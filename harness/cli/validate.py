"""``harness validate``: check saved bodies, SSE transcripts and cassettes against the specs."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

import click

from harness.errors import HarnessError
from harness.inputs import (
    InputError,
    Loaded,
    RecordedExchange,
    exchange_operation,
    identify,
    read_input,
)
from harness.schema import Violation
from harness.spec import EVENT_STREAM, JSON, Operation, SpecSet, load_specs
from harness.validate import validate_event, validate_exchange, validate_request

EXIT_CLEAN, EXIT_VIOLATIONS, EXIT_USAGE = 0, 1, 2


@dataclass
class Checked:
    """One validated document: a body, a stream, or one side of a cassette interaction."""

    part: str  # "request" or "response"
    operation: str | None
    status: str | None
    media_type: str | None
    interaction: int | None = None
    violations: list[dict[str, Any]] = field(default_factory=list)
    note: str | None = None  # why it was not validated


@dataclass
class FileResult:
    file: str
    kind: str | None = None
    error: str | None = None
    checked: list[Checked] = field(default_factory=list)

    @property
    def violation_count(self) -> int:
        return sum(len(item.violations) for item in self.checked)


@click.command()
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--operation",
    "operation_name",
    help="Which operation the files belong to where their content does not say: an "
    "operationId (_v1_chat_completions), 'POST /v1/responses', or chat / responses.",
)
@click.option(
    "--no-overlays", is_flag=True, help="Validate against the published specs alone (drift view)."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
def validate(
    files: tuple[str, ...], operation_name: str | None, no_overlays: bool, output_format: str
) -> None:
    """Validate saved JSON bodies, SSE transcripts and vcrpy cassettes (FILE or - for stdin).

    Each file's operation comes from its content (object: chat.completion, event types
    response.*, a cassette's request path); error bodies {"error": ...} are checked against
    the documented error schema (status 400 unless a cassette records another); a request body
    (chat messages, Responses input, no object) is checked as a request. Exit status:
    0 all conform, 1 violations found, 2 bad usage or unreadable input.
    """
    try:
        specs = load_specs(overlays=not no_overlays)
        operation = _operation(specs, operation_name) if operation_name else None
    except HarnessError as exc:
        raise click.UsageError(str(exc)) from exc
    results = [check_file(specs, name, operation) for name in files]
    if output_format == "json":
        click.echo(json.dumps(_as_json(results, overlays=not no_overlays), indent=2))
    else:
        _print_text(results, overlays=not no_overlays)
    if any(result.error for result in results):
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_VIOLATIONS if any(r.violation_count for r in results) else EXIT_CLEAN)


def _operation(specs: SpecSet, name: str) -> Operation:
    found = specs.resolve(name)
    if not found:
        known = ", ".join(specs.operation_names())
        raise click.BadParameter(
            f"unknown operation {name!r}; known: {known}", param_hint="--operation"
        )
    return found[0]


def check_file(specs: SpecSet, name: str, operation: Operation | None) -> FileResult:
    """Validate one file; an unreadable or unrecognisable file is a result with an error."""
    result = FileResult("<stdin>" if name == "-" else name)
    try:
        loaded = read_input(name)
        result.kind = loaded.kind
        if loaded.kind == "cassette":
            for exchange in loaded.exchanges:
                result.checked.extend(_check_exchange(specs, exchange, operation))
        else:
            result.checked.append(_check_document(specs, loaded, operation))
    except InputError as exc:
        result.error = str(exc)
    return result


def _check_document(specs: SpecSet, loaded: Loaded, operation: Operation | None) -> Checked:
    target = identify(specs, loaded, operation)
    op = target.operation
    if target.request:
        request = Checked("request", op.operation_id, None, JSON)
        request.violations = [_violation(v) for v in validate_request(op, loaded.value)]
        return request
    checked = Checked("response", op.operation_id, target.status, target.media_type)
    if target.single_event:
        found = validate_event(op, loaded.value)
    else:
        body = list(loaded.events) if loaded.kind == "stream" else loaded.value
        found = validate_exchange(op, None, target.status, target.media_type, body)
    checked.violations = [_violation(v) for v in found]
    return checked


def _check_exchange(
    specs: SpecSet, exchange: RecordedExchange, fallback: Operation | None
) -> list[Checked]:
    op = exchange_operation(specs, exchange) or fallback
    status = str(exchange.status)
    if op is None:
        note = f"{exchange.method} {exchange.path} is not an operation of the specs; skipped"
        return [Checked("response", None, status, exchange.media_type, exchange.index, note=note)]
    checked: list[Checked] = []
    # A request the spec rejects is only news if it was accepted: recorded 4xx answers to
    # bad requests are the contract working.
    accepted = status.startswith("2")
    if accepted and exchange.request is not None and op.request_schema is not None:
        request = Checked("request", op.operation_id, None, JSON, exchange.index)
        request.violations = [_violation(v) for v in validate_request(op, exchange.request)]
        checked.append(request)
    media_type = exchange.media_type or (
        EVENT_STREAM if exchange.body.lstrip().startswith(("data:", "event:")) else JSON
    )
    response = Checked("response", op.operation_id, status, media_type, exchange.index)
    found = validate_exchange(op, exchange.request, status, media_type, exchange.body)
    response.violations = [_violation(v) for v in found]
    checked.append(response)
    return checked


def _violation(violation: Violation) -> dict[str, Any]:
    return {
        "pointer": violation.pointer,
        "message": violation.message,
        "keyword": violation.keyword,
    }


def _as_json(results: list[FileResult], *, overlays: bool) -> dict[str, Any]:
    files = []
    for result in results:
        files.append(
            {
                "file": result.file,
                "kind": result.kind,
                "error": result.error,
                "violations": result.violation_count,
                "checked": [asdict(item) for item in result.checked],
            }
        )
    return {
        "overlays": overlays,
        "files": files,
        "summary": {
            "files": len(results),
            "violations": sum(r.violation_count for r in results),
            "errors": sum(1 for r in results if r.error),
        },
    }


def _print_text(results: list[FileResult], *, overlays: bool) -> None:
    for result in results:
        if result.error:
            click.echo(f"harness validate: {result.file}: {result.error}", err=True)
            continue
        for item in result.checked:
            where = result.file if item.interaction is None else f"{result.file}#{item.interaction}"
            if item.part == "request":
                where += " request"
            if item.note:
                click.echo(f"{where}: note: {item.note}", err=True)
            for found in item.violations:
                click.echo(f"{where}: {found['pointer'] or '/'}: {found['message']}")
    total = sum(r.violation_count for r in results)
    broken = sum(1 for r in results if r.violation_count)
    view = "with overlays" if overlays else "published specs, no overlays"
    if total:
        click.echo(f"{total} violation(s) in {broken} of {len(results)} file(s) ({view})", err=True)
    elif not any(r.error for r in results):
        click.echo(f"OK: {len(results)} file(s) conform ({view})", err=True)
