"""``harness cassettes compare``: replay recorded requests to a target, compare its answers.

For every interaction of the cassettes, in file order, the recorded request is sent to the
target and the answer is held against the recorded one by structure
(:mod:`harness.cassettes.structure`). Ids the target gives out replace the recorded ones in
the later requests of the same cassette, so a recorded ``previous_response_id``, ``GET`` or
``DELETE /v1/responses/{id}`` reaches the target's own response.

The recording's key was scrubbed when it was recorded; requests are sent with the key given
for the target, except where the recorded answer is a 401: that request was refused for its
key, so it is sent with a key no server accepts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from harness.cassettes.cassette import Cassette, Interaction
from harness.cassettes.compare_baseline import Baseline, BaselineEntry
from harness.cassettes.structure import Answer, Difference, compare_answers
from harness.errors import UsageError
from harness.sse import decode_stream

# A key no server accepts, for the requests whose recorded answer was a 401.
REFUSED_KEY = "sk-harness-compare-refused-key"
MAX_BODY_BYTES = 16 * 1024 * 1024
TIMEOUT_S = 60.0
# Hop-by-hop and transport headers are the client's own business; keys were scrubbed.
_NOT_REPLAYED = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "accept-encoding",
        "authorization",
        "api-key",
        "cookie",
    }
)
# A path segment that is a generated id (``resp_…``, ``chatcmpl-…``), shown as ``{id}``.
_ID_SEGMENT = re.compile(r"^[A-Za-z]+[_-][A-Za-z0-9_-]{6,}$")


@dataclass(frozen=True)
class InteractionResult:
    """One interaction compared: its differences, or why it could not be sent."""

    label: str  # file#index
    operation: str  # "POST /v1/chat/completions", ids in paths as {id}
    source: str  # the cassette's x-harness source ("documented", "recorded", ...)
    cassette: str  # the cassette's path within the compared folder, for baseline scopes
    differences: tuple[Difference, ...] = ()
    error: str | None = None
    accepted: Mapping[Difference, BaselineEntry] = field(default_factory=dict)

    @property
    def new(self) -> list[Difference]:
        return [found for found in self.differences if found not in self.accepted]

    @property
    def passed(self) -> bool:
        return self.error is None and not self.new


@dataclass(frozen=True)
class Finding:
    """One difference, counted over the interactions that show it."""

    operation: str
    difference: Difference
    interactions: tuple[str, ...]
    accepted_by: BaselineEntry | None = None

    @property
    def is_new(self) -> bool:
        return self.accepted_by is None


@dataclass(frozen=True)
class CompareReport:
    directory: str
    target: str
    results: tuple[InteractionResult, ...]
    findings: tuple[Finding, ...]
    stale: tuple[BaselineEntry, ...] = ()

    @property
    def new(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.is_new]

    @property
    def accepted(self) -> list[Finding]:
        return [finding for finding in self.findings if not finding.is_new]

    @property
    def errors(self) -> list[InteractionResult]:
        return [result for result in self.results if result.error is not None]

    @property
    def clean(self) -> bool:
        return not self.new and not self.errors


def normalize_target(url: str) -> str:
    """``http://host:port`` from ``http://host:port`` or ``…/v1``; a UsageError otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--target must be an http(s) URL, got {url!r}")
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return f"{parts.scheme}://{parts.netloc}{path}"


def operation_of(method: str, path: str) -> str:
    segments = ["{id}" if _ID_SEGMENT.match(part) else part for part in path.split("/")]
    return f"{method.upper()} {'/'.join(segments)}"


def compare_cassettes(
    cassettes: Sequence[Cassette],
    target: str,
    *,
    api_key: str,
    baseline: Baseline | None = None,
    directory: str = "",
    client: httpx.Client | None = None,
) -> CompareReport:
    """Send every recorded request to ``target`` and compare the answers by structure."""
    base = normalize_target(target)
    own_client = client is None
    http = client or httpx.Client(timeout=TIMEOUT_S, follow_redirects=False)
    results: list[InteractionResult] = []
    try:
        for cassette in cassettes:
            source = str(cassette.source.get("source", "unmarked"))
            where = _relative(cassette.path, directory)
            replaced: dict[str, str] = {}  # recorded id -> the target's id, per cassette
            for interaction in cassette.interactions:
                results.append(
                    _compare_one(http, base, api_key, interaction, (source, where), replaced)
                )
    finally:
        if own_client:
            http.close()
    return build_report(results, baseline or Baseline(), directory=directory, target=base)


def build_report(
    results: Iterable[InteractionResult], baseline: Baseline, *, directory: str, target: str
) -> CompareReport:
    """Apply the baseline and count each difference over the interactions that show it."""
    judged: list[InteractionResult] = []
    used: set[int] = set()
    # A difference is counted once per baseline verdict: an entry scoped to some cassettes
    # accepts it there, and it stays new elsewhere.
    grouped: dict[tuple[str, Difference, int], list[str]] = {}
    verdicts: dict[int, BaselineEntry] = {}
    for result in results:
        accepted: dict[Difference, BaselineEntry] = {}
        for found in result.differences:
            entry = baseline.match(result.operation, result.cassette, found)
            if entry is not None:
                accepted[found] = entry
                used.add(id(entry))
                verdicts[id(entry)] = entry
            key = (result.operation, found, id(entry) if entry is not None else 0)
            grouped.setdefault(key, []).append(result.label)
        judged.append(
            InteractionResult(
                result.label,
                result.operation,
                result.source,
                result.cassette,
                result.differences,
                result.error,
                accepted,
            )
        )
    findings = [
        Finding(operation, found, tuple(labels), verdicts.get(entry))
        for (operation, found, entry), labels in grouped.items()
    ]
    findings.sort(key=lambda f: (not f.is_new, f.operation, f.difference))
    stale = tuple(entry for entry in baseline.entries if id(entry) not in used)
    return CompareReport(directory, target, tuple(judged), tuple(findings), stale)


def _compare_one(
    http: httpx.Client,
    base: str,
    api_key: str,
    interaction: Interaction,
    origin: tuple[str, str],
    replaced: dict[str, str],
) -> InteractionResult:
    request = interaction.request
    parts = urlsplit(_substitute(request.uri, replaced))
    path = parts.path or "/"
    operation = operation_of(request.method, urlsplit(request.uri).path or "/")
    headers = {
        name: values[0]
        for name, values in request.headers.items()
        if values and name.lower() not in _NOT_REPLAYED
    }
    refused = interaction.response.status == 401
    headers["Authorization"] = f"Bearer {REFUSED_KEY if refused else api_key}"
    body = _substitute(request.body.decode("utf-8"), replaced).encode("utf-8")
    url = f"{base}{path}" + (f"?{parts.query}" if parts.query else "")
    try:
        target = _send(http, request.method, url, headers, body)
    except httpx.HTTPError as exc:
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return InteractionResult(interaction.label, operation, *origin, error=message)
    except _TooLarge as exc:
        return InteractionResult(interaction.label, operation, *origin, error=str(exc))
    recorded = Answer(
        interaction.response.status,
        {
            name.lower(): values[0]
            for name, values in interaction.response.headers.items()
            if values
        },
        interaction.response.body,
    )
    _learn_ids(recorded, target, replaced)
    differences = tuple(sorted(dict.fromkeys(compare_answers(recorded, target))))
    return InteractionResult(interaction.label, operation, *origin, differences)


class _TooLarge(Exception):
    pass


def _send(
    http: httpx.Client, method: str, url: str, headers: Mapping[str, str], body: bytes
) -> Answer:
    with http.stream(method, url, headers=dict(headers), content=body or None) as response:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise _TooLarge(f"the answer is larger than {MAX_BODY_BYTES:,} bytes")
            chunks.append(chunk)
        return Answer(
            response.status_code,
            {name.lower(): value for name, value in response.headers.items()},
            b"".join(chunks),
        )


def _learn_ids(recorded: Answer, target: Answer, replaced: dict[str, str]) -> None:
    """Remember which of the target's ids stands for which recorded id (top-level ``id``,
    or the response id of a Responses stream)."""
    mine, theirs = _top_id(recorded), _top_id(target)
    if mine and theirs and mine != theirs:
        replaced[mine] = theirs


def _top_id(answer: Answer) -> str | None:
    if answer.media_type == "text/event-stream":
        try:
            events = decode_stream(answer.body)
        except (UnicodeDecodeError, ValueError):
            return None
        for event in events:
            payload = _json(event.data.encode("utf-8"))
            snapshot = payload.get("response") if isinstance(payload, dict) else None
            if isinstance(snapshot, dict) and isinstance(snapshot.get("id"), str):
                found: str = snapshot["id"]
                return found
        return None
    parsed = _json(answer.body)
    value = parsed.get("id") if isinstance(parsed, dict) else None
    return value if isinstance(value, str) else None


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def _relative(path: Path, directory: str) -> str:
    try:
        return path.relative_to(directory).as_posix() if directory else path.as_posix()
    except ValueError:
        return path.as_posix()


def _substitute(text: str, replaced: Mapping[str, str]) -> str:
    for mine, theirs in replaced.items():
        text = text.replace(mine, theirs)
    return text
