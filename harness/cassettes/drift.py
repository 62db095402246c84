"""Spec drift: what the recorded wire breaks in the published spec, and which overlay covers it.

Every interaction is validated twice, against the published documents and against the
effective ones (overlays applied): its request body when the server accepted it (a request
answered with a 4xx is a negative case, refused on purpose), and its response body or
stream. A violation of the published spec that is gone under the effective spec is
*covered*; every violation under the effective spec is *uncovered* (exit status 1 of
``harness cassettes check``). Violations are grouped by operation, where they occur (request,
response, stream chunk, stream event type), JSON-pointer pattern (indices as ``*``) and kind
(the rule's keyword, plus the missing property of a ``required``).

Attribution. A covered violation sits at a node of the published schema: the instance path
is walked down the schema (``properties``, ``items``, and into the branch of a ``oneOf`` /
``anyOf`` that the instance's ``type``/``role`` tag selects). An overlay action is credited
when one of the nodes its target selected, evaluated on the document as it stood when the
action ran (actions see the changes of the ones before them), is that node or one of its
keywords (``…/delta/required`` for a missing ``role`` in ``delta``). Actions on ancestors
(``$``, ``responses['200']``) change everything and explain nothing in particular, so they
are not credited. When no action qualifies, the violation is credited to the overlays of the
document together.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonpath

from harness.atomic import replace_file
from harness.cassettes.cassette import Cassette, Interaction
from harness.json_pointer import escape
from harness.schema import TAG_PROPERTIES, Violation
from harness.spec import EVENT_STREAM, JSON, Operation, SpecDocument, SpecSet
from harness.spec.loader import cache_dir
from harness.spec.overlays import apply_action
from harness.sse import DONE, decode_stream
from harness.validate import STREAM_RULES, validate_request, validate_response, validate_stream

NodePath = tuple[str | int, ...]
# Schema keywords an action may change to correct a node (Overlay 1.0 targets select objects
# and arrays only, so these are the ones a target can name).
_KEYWORDS = frozenset(
    {"required", "enum", "type", "anyOf", "oneOf", "allOf", "not", "items", "additionalProperties"}
)
# Bump when the cached attribution table's format or meaning changes.
_CACHE_FORMAT = "drift-1"


@dataclass(frozen=True)
class OverlayActionRef:
    """An overlay action as a report names it."""

    drift_id: str | None
    description: str
    overlay: str
    target: str

    @property
    def label(self) -> str:
        return f"{self.drift_id or 'unnamed action'} ({self.overlay})"


@dataclass(frozen=True)
class DriftItem:
    """One rule the recorded wire breaks, with how often, an example and what covers it."""

    operation: str
    where: str
    pattern: str
    kind: str
    count: int
    interactions: int
    example: str
    covered: bool
    covered_by: tuple[OverlayActionRef, ...] = ()
    # When no single action could be credited: the overlay files of the document together.
    covered_by_overlays: tuple[str, ...] = ()
    # For an uncovered item: whether the published spec is broken there too.
    in_published: bool = True


@dataclass(frozen=True)
class DriftReport:
    directory: str
    cassettes: int
    interactions: int
    checked: int
    skipped: tuple[tuple[str, str], ...]
    items: tuple[DriftItem, ...]

    @property
    def covered(self) -> list[DriftItem]:
        return [item for item in self.items if item.covered]

    @property
    def uncovered(self) -> list[DriftItem]:
        return [item for item in self.items if not item.covered]


@dataclass(frozen=True)
class _Finding:
    """One violation of one interaction, with what is needed to group and attribute it."""

    where: str
    violation: Violation
    node: NodePath | None  # the published-schema node it sits at, when it has one

    @property
    def identity(self) -> tuple[str, str, str, str | None]:
        return (self.where, self.violation.pointer, self.violation.keyword, self.violation.missing)


@dataclass(frozen=True)
class _ActionTargets:
    action: OverlayActionRef
    nodes: frozenset[NodePath]


def check_drift(cassettes: Sequence[Cassette], specs: SpecSet, directory: str = "") -> DriftReport:
    """Validate every interaction with and without overlays; group what breaks."""
    published = SpecSet(
        [dataclasses.replace(doc, effective=doc.upstream, overlays=()) for doc in specs.documents]
    )
    targets = {doc.name: action_targets(doc) for doc in specs.documents}
    overlay_files = {
        doc.name: tuple(Path(overlay.source).name for overlay in doc.overlays)
        for doc in specs.documents
    }
    groups: dict[tuple[Any, ...], _Group] = {}
    skipped: list[tuple[str, str]] = []
    checked = 0
    interactions = [item for cassette in cassettes for item in cassette.interactions]
    for interaction in interactions:
        effective_op = _operation(specs, interaction)
        published_op = _operation(published, interaction)
        if effective_op is None or published_op is None:
            request = interaction.request
            skipped.append(
                (interaction.label, f"{request.method} {request.path} is not in the specs")
            )
            continue
        checked += 1
        name = f"{effective_op.method.upper()} {effective_op.path}"
        before = _findings(published_op, interaction, walk=True)
        after = _findings(effective_op, interaction, walk=False)
        remaining = {finding.identity for finding in after}
        published_ids = {finding.identity for finding in before}
        for finding in before:
            if finding.identity in remaining:
                continue
            credited = _credited(targets.get(published_op.document, []), finding)
            group = groups.setdefault(
                _group_key(True, name, finding),
                _Group(name, published_op.document, finding, covered=True),
            )
            group.add(interaction, finding, credited)
        for finding in after:
            group = groups.setdefault(
                _group_key(False, name, finding),
                _Group(name, effective_op.document, finding, covered=False),
            )
            group.add(interaction, finding, ())
            group.in_published = group.in_published and finding.identity in published_ids
    items = tuple(group.item(overlay_files.get(group.document, ())) for group in groups.values())
    ordered = sorted(
        items, key=lambda item: (item.covered, item.operation, item.where, item.pattern, item.kind)
    )
    return DriftReport(
        directory=directory,
        cassettes=len(cassettes),
        interactions=len(interactions),
        checked=checked,
        skipped=tuple(skipped),
        items=tuple(ordered),
    )


class _Group:
    """The findings of one group, as they are added."""

    def __init__(self, operation: str, document: str, first: _Finding, *, covered: bool) -> None:
        self.operation = operation
        self.document = document
        self.where = first.where
        self.pattern = _pattern(first.violation.path)
        self.kind = _kind(first.violation)
        self.covered = covered
        self.count = 0
        self.labels: set[str] = set()
        self.example = ""
        self.actions: dict[OverlayActionRef, None] = {}  # ordered, without repeats
        self.in_published = True

    def add(
        self, interaction: Interaction, finding: _Finding, credited: Sequence[OverlayActionRef]
    ) -> None:
        self.count += 1
        self.labels.add(interaction.label)
        if not self.example:
            self.example = f"{interaction.label}: {finding.violation}"
        self.actions.update(dict.fromkeys(credited))

    def item(self, overlay_files: tuple[str, ...]) -> DriftItem:
        return DriftItem(
            operation=self.operation,
            where=self.where,
            pattern=self.pattern,
            kind=self.kind,
            count=self.count,
            interactions=len(self.labels),
            example=self.example,
            covered=self.covered,
            covered_by=tuple(self.actions),
            covered_by_overlays=overlay_files if self.covered and not self.actions else (),
            in_published=self.in_published,
        )


def _group_key(covered: bool, operation: str, finding: _Finding) -> tuple[Any, ...]:
    return (
        covered,
        operation,
        finding.where,
        _pattern(finding.violation.path),
        _kind(finding.violation),
    )


def _pattern(path: Sequence[str | int]) -> str:
    parts = ("*" if isinstance(part, int) else escape(part) for part in path)
    return "".join("/" + part for part in parts) or "/"


def _kind(violation: Violation) -> str:
    return f"{violation.keyword} {violation.missing}" if violation.missing else violation.keyword


# --- which operation, which findings -------------------------------------------------------


def _operation(specs: SpecSet, interaction: Interaction) -> Operation | None:
    request = interaction.request
    model = _model(request.body)
    found = specs.find(request.path, request.method, model) or specs.find(
        request.path, request.method
    )
    if found is not None:
        return found
    # A recorded URI may carry a prefix before the spec's path (an upstream mounted under /api).
    paths = [path for path in specs.paths if request.path.endswith(path)]
    if not paths:
        return None
    longest = max(paths, key=len)
    return specs.find(longest, request.method, model) or specs.find(longest, request.method)


def _model(body: bytes) -> str | None:
    try:
        data = json.loads(body) if body.strip() else None
    except (ValueError, RecursionError):  # not JSON, or nested too deeply
        return None
    model = data.get("model") if isinstance(data, dict) else None
    return model if isinstance(model, str) else None


def _findings(operation: Operation, interaction: Interaction, *, walk: bool) -> list[_Finding]:
    """The violations of one interaction against one operation (a document's view of it)."""
    found: list[_Finding] = []
    request, response = interaction.request, interaction.response
    base: NodePath = ("paths", operation.path, operation.method)
    if response.status < 400 and request.body.strip():
        try:
            body = json.loads(request.body)
        except (ValueError, RecursionError):  # not JSON, or nested too deeply
            body = None
            found.append(
                _Finding("request", Violation((), "the request body is not JSON", "json"), None)
            )
        if body is not None:
            schema_base = (*base, "requestBody", "content", JSON, "schema")
            for violation in validate_request(operation, body):
                node = (
                    _node(operation.request_schema, schema_base, body, violation.path)
                    if walk
                    else None
                )
                found.append(_Finding("request", violation, node))
    status = str(response.status)
    responses = operation.raw.get("responses") or {}
    documented = status if status in responses else ("default" if "default" in responses else None)
    media = response.media_type or "(no content type)"
    where = f"response {status} {media}"
    if documented is None:
        listed = ", ".join(str(code) for code in responses) or "none"
        violation = Violation(
            (), f"status {status} is not documented (documented: {listed})", "status"
        )
        return [*found, _Finding(where, violation, (*base, "responses"))]
    if media not in operation.response_media_types(documented):
        violation = Violation((), f"{media} is not documented for status {status}", "media_type")
        return [*found, _Finding(where, violation, (*base, "responses", documented, "content"))]
    schema_base = (*base, "responses", documented, "content", media, "schema")
    schema = operation.response_schema(documented, media)
    if media == EVENT_STREAM:
        found.extend(_stream_findings(operation, response.text, schema, schema_base, walk))
        return found
    try:
        payload = json.loads(response.body)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply
        return [
            *found,
            _Finding(where, Violation((), "the response body is not JSON", "json"), None),
        ]
    for violation in validate_response(operation, payload, documented, media):
        node = _node(schema, schema_base, payload, violation.path) if walk else None
        found.append(_Finding(where, violation, node))
    return found


def _stream_findings(
    operation: Operation, text: str, schema: Any, schema_base: NodePath, walk: bool
) -> list[_Finding]:
    events = decode_stream(text)
    payloads: list[Any] = []
    for event in events:
        try:
            payloads.append(None if event.data == DONE else event.json())
        except (ValueError, RecursionError):  # not JSON, or nested too deeply
            payloads.append(None)
    found = []
    for violation in validate_stream(operation, events):
        index = violation.path[0] if violation.path and isinstance(violation.path[0], int) else None
        payload = payloads[index] if index is not None and index < len(payloads) else None
        if violation.keyword in STREAM_RULES or index is None:
            found.append(_Finding("stream", violation, None))
            continue
        event_type = payload.get("type") if isinstance(payload, dict) else None
        where = f"stream event {event_type}" if isinstance(event_type, str) else "stream chunk"
        node = _node(schema, schema_base, payload, violation.path[1:]) if walk else None
        found.append(_Finding(where, violation, node))
    return found


# --- attribution ------------------------------------------------------------------------------


def _node(schema: Any, base: NodePath, instance: Any, path: Sequence[str | int]) -> NodePath:
    """The schema node an instance path leads to, as a path from the document root."""
    nodes: list[str | int] = list(base)
    current, value = _enter_branches(schema, instance, nodes)
    for part in path:
        if not isinstance(current, Mapping):
            break
        properties = current.get("properties")
        if isinstance(part, int) and isinstance(current.get("items"), Mapping):
            nodes.append("items")
            current = current["items"]
        elif isinstance(part, str) and isinstance(properties, Mapping) and part in properties:
            nodes.extend(["properties", part])
            current = properties[part]
        elif isinstance(part, str) and isinstance(current.get("additionalProperties"), Mapping):
            nodes.append("additionalProperties")
            current = current["additionalProperties"]
        else:
            break
        value = _child(value, part)
        current, value = _enter_branches(current, value, nodes)
    return tuple(nodes)


def _enter_branches(schema: Any, value: Any, nodes: list[str | int]) -> tuple[Any, Any]:
    """Descend into the ``oneOf``/``anyOf`` branch the value's tag selects, if any."""
    while isinstance(schema, Mapping) and isinstance(value, Mapping):
        chosen = None
        for keyword in ("oneOf", "anyOf"):
            branches = schema.get(keyword)
            if isinstance(branches, list):
                chosen = _tagged_branch(branches, value)
                if chosen is not None:
                    nodes.extend([keyword, chosen])
                    schema = branches[chosen]
                    break
        if chosen is None:
            break
    return schema, value


def _tagged_branch(branches: list[Any], value: Mapping[str, Any]) -> int | None:
    for tag in TAG_PROPERTIES:
        if tag not in value:
            continue
        for number, branch in enumerate(branches):
            properties = branch.get("properties") if isinstance(branch, Mapping) else None
            enum = (
                (properties or {}).get(tag, {}).get("enum")
                if isinstance(properties, Mapping)
                else None
            )
            if isinstance(enum, list) and value[tag] in enum:
                return number
    return None


def _child(value: Any, part: str | int) -> Any:
    if isinstance(part, int) and isinstance(value, list) and part < len(value):
        return value[part]
    if isinstance(part, str) and isinstance(value, Mapping):
        return value.get(part)
    return None


def _credited(targets: Iterable[_ActionTargets], finding: _Finding) -> list[OverlayActionRef]:
    node = finding.node
    if node is None:
        return []
    depth = len(node)
    credited = []
    for entry in targets:
        for target in entry.nodes:
            # The node itself, or one keyword of it (`required`, `enum`, `anyOf`…).
            if target == node or (
                len(target) == depth + 1 and target[:depth] == node and target[-1] in _KEYWORDS
            ):
                credited.append(entry.action)
                break
    return credited


def action_targets(document: SpecDocument) -> list[_ActionTargets]:
    """Each overlay action of a document with the nodes its target selected when it ran.

    Applying the overlays step by step costs about two seconds on the Responses document
    (recursive-descent targets over 1.8 MB), so the table is cached on disk next to the
    effective specs, keyed by the sha256 of the document and its overlays.
    """
    refs = [
        OverlayActionRef(
            action.drift_id, action.description, Path(overlay.source).name, action.target
        )
        for overlay in document.overlays
        for action in overlay.actions
    ]
    if not refs:
        return []
    cache = _cache_file(document)
    nodes = _read_cache(cache, len(refs))
    if nodes is None:
        nodes = _selected_nodes(document)
        _write_cache(cache, nodes)
    return [
        _ActionTargets(ref, frozenset(selected)) for ref, selected in zip(refs, nodes, strict=True)
    ]


def _selected_nodes(document: SpecDocument) -> list[list[NodePath]]:
    current = copy.deepcopy(document.upstream)  # a private copy the actions may change
    selected: list[list[NodePath]] = []
    for overlay in document.overlays:
        for number, action in enumerate(overlay.actions):
            selected.append(
                [tuple(match.parts) for match in jsonpath.finditer(action.target, current)]
            )
            current = apply_action(current, action, where=f"{overlay.source}: actions[{number}]")
    return selected


def _cache_file(document: SpecDocument) -> Path:
    digest = hashlib.sha256(_CACHE_FORMAT.encode())
    digest.update(document.path.read_bytes())
    for overlay in document.overlays:
        digest.update(Path(overlay.source).read_bytes())
    return cache_dir() / f"drift-targets-{digest.hexdigest()[:32]}.json"


def _read_cache(path: Path, expected: int) -> list[list[NodePath]] | None:
    try:
        raw = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(raw, list) or len(raw) != expected:
        return None
    return [[tuple(node) for node in nodes] for nodes in raw]


def _write_cache(path: Path, nodes: list[list[NodePath]]) -> None:
    # A cache that cannot be written costs only time; replaced whole, so a concurrent reader
    # never sees half of it.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps([[list(node) for node in group] for group in nodes])
        replace_file(path, text, durable=False)
    except OSError:
        return
