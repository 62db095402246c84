"""Index the operations of the loaded specs by path, method and model.

Each published document serves the models listed in its request schema's ``model`` enum;
adding another model's document to a specs folder makes the same paths serve that model.
Validators are compiled once per operation, on first use or by :meth:`SpecSet.compile_all`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from harness.errors import SpecLoadError, UsageError
from harness.schema import CompiledSchema, TaggedUnion
from harness.spec.loader import SpecDocument

JSON = "application/json"
EVENT_STREAM = "text/event-stream"
_METHODS = ("get", "put", "post", "delete", "patch", "options", "head")
# Short names for the two endpoints, matched against the end of an operation's path.
SHORT_NAMES = {"chat": "/chat/completions", "responses": "/responses"}

Validator = CompiledSchema | TaggedUnion


@dataclass
class Operation:
    """One operation of one document (``POST /v1/chat/completions`` of ``gpt-4.json``)."""

    document: str
    path: str
    method: str
    operation_id: str
    models: frozenset[str]
    raw: Mapping[str, Any] = field(repr=False)

    @property
    def request_schema(self) -> Any:
        return _media_schema(self.raw.get("requestBody"), JSON)

    def response_schema(self, status: str, media_type: str) -> Any:
        response = (self.raw.get("responses") or {}).get(status)
        return _media_schema(response, media_type)

    def response_media_types(self, status: str = "200") -> tuple[str, ...]:
        response = (self.raw.get("responses") or {}).get(status) or {}
        return tuple((response.get("content") or {}).keys())

    @cached_property
    def request_validator(self) -> CompiledSchema:
        schema = self.request_schema
        if schema is None:
            raise UsageError(f"{self} has no application/json request body")
        # Requests assert their string formats (harness.schema.ASSERTED_REQUEST_FORMATS).
        return CompiledSchema.from_openapi(schema, assert_formats=True)

    def response_validator(self, status: str = "200", media_type: str = JSON) -> Validator:
        """The validator of a response body, or of one stream event for ``text/event-stream``."""
        key = (status, media_type)
        cache = self._response_validators
        if key not in cache:
            schema = self.response_schema(status, media_type)
            if schema is None:
                raise UsageError(f"{self} documents no {media_type} response for {status}")
            union = TaggedUnion.from_openapi(schema) if media_type == EVENT_STREAM else None
            cache[key] = union or CompiledSchema.from_openapi(schema)
        return cache[key]

    @cached_property
    def _response_validators(self) -> dict[tuple[str, str], Validator]:
        return {}

    def compile_all(self) -> None:
        """Compile every validator now, so no request pays for it later."""
        if self.request_schema is not None:
            _ = self.request_validator
        for status, response in (self.raw.get("responses") or {}).items():
            for media_type in (response or {}).get("content") or {}:
                self.response_validator(str(status), media_type)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} ({self.document})"


class SpecSet:
    """Every operation of every loaded document."""

    def __init__(self, documents: list[SpecDocument]) -> None:
        self.documents = documents
        self.operations: list[Operation] = []
        for document in documents:
            self.operations.extend(_operations_of(document))
        self._by_route: dict[tuple[str, str], list[Operation]] = {}
        for operation in self.operations:
            self._by_route.setdefault((operation.path, operation.method), []).append(operation)

    def find(self, path: str, method: str, model: str | None = None) -> Operation | None:
        """The operation serving ``model`` at a route; without a model, the first one."""
        candidates = self._by_route.get((path, method.lower()), [])
        if model is None:
            return candidates[0] if candidates else None
        for operation in candidates:
            if model in operation.models:
                return operation
        return None

    def models_for(self, path: str, method: str = "post") -> list[str]:
        """Every model some document serves at a route, in load order."""
        seen: list[str] = []
        for operation in self._by_route.get((path, method.lower()), []):
            seen.extend(sorted(model for model in operation.models if model not in seen))
        return seen

    @property
    def models(self) -> list[str]:
        seen: list[str] = []
        for operation in self.operations:
            seen.extend(sorted(model for model in operation.models if model not in seen))
        return seen

    @property
    def paths(self) -> list[str]:
        return sorted({path for path, _ in self._by_route})

    def resolve(self, name: str) -> list[Operation]:
        """Operations a user-given name means, best first.

        An operationId (``_v1_chat_completions``), ``METHOD /path`` (``POST /v1/responses``),
        a bare path (``POST`` is meant) or a short name (``chat`` means both chat paths).
        """
        wanted = name.strip()
        suffix = SHORT_NAMES.get(wanted.lower())
        method, _, path = wanted.partition(" ")
        if not path and wanted.startswith("/"):
            method, path = "post", wanted
        found = [
            op
            for op in self.operations
            if op.operation_id == wanted
            or (suffix is not None and op.method == "post" and op.path.endswith(suffix))
            or (op.method == method.lower() and op.path == path.strip())
        ]
        return sorted(found, key=_preference)

    def operation_names(self) -> list[str]:
        """Every name :meth:`resolve` accepts, for error messages."""
        names = list(SHORT_NAMES)
        for op in sorted(self.operations, key=_preference):
            names.extend([op.operation_id, f"{op.method.upper()} {op.path}"])
        return list(dict.fromkeys(names))

    def compile_all(self) -> None:
        for operation in self.operations:
            operation.compile_all()

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations)


def _preference(op: Operation) -> tuple[bool, str]:
    # The /v1 paths first: they are what SDKs call, and what `chat` picks when one is needed.
    return (not op.path.startswith("/v1/"), op.path)


def _operations_of(document: SpecDocument) -> Iterator[Operation]:
    paths = document.effective.get("paths")
    if not isinstance(paths, Mapping):
        raise SpecLoadError(f"{document.path}: `paths` is not an object")
    for path, item in paths.items():
        for method in _METHODS:
            raw = (item or {}).get(method)
            if not isinstance(raw, Mapping):
                continue
            yield Operation(
                document=document.name,
                path=path,
                method=method,
                operation_id=str(raw.get("operationId") or f"{method} {path}"),
                models=frozenset(_models_of(raw)),
                raw=raw,
            )


def _models_of(operation: Mapping[str, Any]) -> list[str]:
    schema = _media_schema(operation.get("requestBody"), JSON) or {}
    model = (schema.get("properties") or {}).get("model") or {}
    enum = model.get("enum") or []
    return [value for value in enum if isinstance(value, str)]


def _media_schema(container: Any, media_type: str) -> Any:
    if not isinstance(container, Mapping):
        return None
    content = container.get("content") or {}
    media = content.get(media_type)
    return media.get("schema") if isinstance(media, Mapping) else None
