"""The overlays in specs/overlays: each correction is backed by evidence, and nothing more.

Every overlay action names the drift it corrects (``x-drift-id``) and a payload of ours in
``specs/evidence/`` (``x-evidence``) written from the wire/SDK shapes specs/README.md §4 describes.
For each payload these tests show that

* the published spec rejects it and the effective spec (all overlays applied) accepts it;
* the drift's own actions are *sufficient*: the published spec plus only that drift's
  actions (and the drifts it is stated to depend on, :data:`PREREQUISITES`) accepts it, so
  the drift is the only reason the published spec rejects the payload;
* the drift's own actions are *necessary*: the published spec plus only its prerequisites
  still rejects it.

Known-bad payloads stay rejected after the corrections (the overlays do not over-loosen), and
the applier's error paths and merge rules behave as the Overlay 1.0 text and specs/README.md §2 say.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.errors import OverlayError
from harness.schema import Violation
from harness.spec import (
    EVENT_STREAM,
    JSON,
    Operation,
    SpecDocument,
    SpecSet,
    apply_overlay,
    load_documents,
    load_specs,
    parse_overlay,
    read_overlay,
)
from harness.spec.overlays import OverlayAction, apply_action

SPECS = Path(__file__).resolve().parents[2] / "specs"
OVERLAY_FILES = sorted(SPECS.glob("overlays/*.yaml"))
EVIDENCE_FILES = sorted(SPECS.glob("evidence/*.json"))

# Structural corrections: they fix the document itself, not a payload shape.
STRUCTURAL = frozenset({"S1", "S2"})
EVIDENCE_KEYS = frozenset(
    {
        "drift_id",
        "describes",
        "source",
        "document",
        "path",
        "method",
        "kind",
        "status",
        "media_type",
        "payload",
    }
)
KINDS = {"request", "response", "event"}
# A realistic payload can need more than one correction. These are the only such cases:
# C1 makes finish_reason nullable, and only C7 puts null into its enum; the first tool chunk
# (C3) and an argument chunk (C4) both come before the last chunk, so finish_reason is null;
# an argument chunk also has no role/content in its delta (C2). R8 makes the truncation enum
# nullable, and C7 puts null into it.
PREREQUISITES: dict[str, frozenset[str]] = {
    "C1": frozenset({"C7"}),
    "C3": frozenset({"C1", "C7"}),
    "C4": frozenset({"C1", "C2", "C7"}),
    "R8": frozenset({"C7"}),
}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Apply the overlays afresh instead of reading an effective spec cached by an older
    # applier, so these tests check the applier and overlays of this checkout.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HARNESS_CACHE_DIR", str(tmp_path_factory.mktemp("spec-cache")))
        yield


@pytest.fixture(scope="module")
def published() -> SpecSet:
    return load_specs(SPECS, overlays=False)


@pytest.fixture(scope="module")
def effective() -> SpecSet:
    return load_specs(SPECS)


@pytest.fixture(scope="module")
def documents() -> dict[str, SpecDocument]:
    return {document.name: document for document in load_documents(SPECS)}


def _actions() -> list[tuple[str, int, OverlayAction]]:
    return [
        (path.name, number, action)
        for path in OVERLAY_FILES
        for number, action in enumerate(read_overlay(path).actions)
    ]


ACTIONS = _actions()


def _evidence(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SPECS / "evidence" / name).read_text(encoding="utf-8"))
    return data


def _operation(specs: SpecSet, evidence: dict[str, Any]) -> Operation:
    operation = specs.find(evidence["path"], evidence["method"], "gpt-4")
    assert operation is not None, evidence["path"]
    assert operation.document == evidence["document"]
    return operation


def _violations(operation: Operation, evidence: dict[str, Any]) -> list[Violation] | None:
    """The payload's violations, or None when the operation documents no such response."""
    kind = evidence["kind"]
    payload = evidence["payload"]
    if kind == "request":
        return operation.request_validator.violations(payload)
    status, media_type = evidence["status"], evidence["media_type"]
    assert (kind == "event") == (media_type == EVENT_STREAM)
    if operation.response_schema(status, media_type) is None:
        return None
    return operation.response_validator(status, media_type).violations(payload)


PartialSpecs = Callable[[str, frozenset[str]], SpecSet]


@pytest.fixture(scope="module")
def partial_specs(documents: dict[str, SpecDocument]) -> PartialSpecs:
    """A published document with only the actions of some drifts applied."""
    built: dict[tuple[str, frozenset[str]], SpecSet] = {}

    def build(name: str, drift_ids: frozenset[str]) -> SpecSet:
        if (name, drift_ids) not in built:
            document = documents[name]
            result = document.upstream
            for overlay in document.overlays:
                chosen = tuple(a for a in overlay.actions if a.drift_id in drift_ids)
                if chosen:
                    result = apply_overlay(result, dataclasses.replace(overlay, actions=chosen))
            built[name, drift_ids] = SpecSet([dataclasses.replace(document, effective=result)])
        return built[name, drift_ids]

    return build


# --------------------------------------------------------------------------- every action


@pytest.mark.parametrize(
    ("overlay_name", "number", "action"),
    ACTIONS,
    ids=[f"{name}#{number}-{action.drift_id}" for name, number, action in ACTIONS],
)
def test_action_is_documented_and_has_evidence(
    overlay_name: str, number: int, action: OverlayAction
) -> None:
    assert action.drift_id, f"{overlay_name}#{number} has no x-drift-id"
    assert action.description.strip(), f"{overlay_name}#{number} has no description"
    if action.drift_id in STRUCTURAL:
        assert action.evidence is None, "structural corrections have no payload evidence"
        return
    assert action.evidence is not None, f"{overlay_name}#{number} has no x-evidence"
    assert action.evidence.startswith("evidence/") and action.evidence.endswith(".json")
    evidence_path = SPECS / action.evidence
    assert evidence_path.is_file(), f"{evidence_path} does not exist"
    evidence = json.loads(evidence_path.read_text(encoding="utf-8"))
    assert set(evidence) == EVIDENCE_KEYS
    assert evidence["drift_id"] == action.drift_id
    assert evidence["kind"] in KINDS
    assert evidence["method"] == "post"
    assert evidence["media_type"] in (JSON, EVENT_STREAM)
    if evidence["kind"] == "request":
        assert evidence["status"] is None and evidence["media_type"] == JSON
    else:
        assert isinstance(evidence["status"], str) and evidence["status"].isdigit()
    for key in ("describes", "source"):
        assert isinstance(evidence[key], str) and evidence[key].strip()
    extends = read_overlay(SPECS / "overlays" / overlay_name).extends
    if extends is not None:
        assert Path(extends).stem == evidence["document"], "evidence is for another document"


def test_every_evidence_file_is_used_by_an_action() -> None:
    used = {action.evidence for _, _, action in ACTIONS if action.evidence}
    present = {f"evidence/{path.name}" for path in EVIDENCE_FILES}
    assert present == used


def test_drift_ids_are_known() -> None:
    drifts = {action.drift_id for _, _, action in ACTIONS}
    # specs/README.md §3; C8 (JSON finish_reason function_call) is deliberately not applied.
    assert drifts == {
        "S1",
        "S2",
        "S3",
        "C1",
        "C2",
        "C3",
        "C4",
        "C5",
        "C6",
        "C7",
        "C11",
        "C12",
        "C13",
        "C14",
        "C15",
        "C16",
        "C17",
        "R1",
        "R2",
        "R3",
        "R4",
        "R5",
        "R6",
        "R7",
        "R8",
        "R9",
        "R10",
        "R11",
        "R12",
    }
    assert set(PREREQUISITES) <= drifts
    assert all(needed <= drifts for needed in PREREQUISITES.values())


# --------------------------------------------------------------------------- every evidence


@pytest.mark.parametrize("name", [path.name for path in EVIDENCE_FILES])
def test_evidence_rejected_by_published_and_accepted_by_effective(
    name: str,
    published: SpecSet,
    effective: SpecSet,
    partial_specs: PartialSpecs,
) -> None:
    evidence = _evidence(name)
    drift = evidence["drift_id"]
    before = _violations(_operation(published, evidence), evidence)
    if before is not None:
        assert before, f"the published spec already accepts {name}"

    after = _violations(_operation(effective, evidence), evidence)
    assert after == [], [str(violation) for violation in after or []]

    # Sufficient: the drift (with its stated prerequisites) is the only reason the
    # published spec rejects the payload.
    needed = PREREQUISITES.get(drift, frozenset())
    alone = partial_specs(evidence["document"], needed | {drift})
    only_this = _violations(_operation(alone, evidence), evidence)
    assert only_this == [], [str(violation) for violation in only_this or []]

    # Necessary: without this drift's own actions the payload is still rejected.
    if needed:
        without = partial_specs(evidence["document"], needed)
        remaining = _violations(_operation(without, evidence), evidence)
        assert remaining, f"{name} is accepted without the {drift} actions"


def test_error_statuses_are_undocumented_upstream(published: SpecSet, effective: SpecSet) -> None:
    evidence = _evidence("S3-error-body.json")
    assert evidence["status"] == "400"
    for operation in published:
        assert operation.response_schema("400", JSON) is None, str(operation)
        assert operation.response_media_types("400") == ()
    for operation in effective:
        for status in ("400", "401", "403", "404", "415", "429", "500", "503"):
            assert operation.response_schema(status, JSON) is not None, (str(operation), status)
        validator = operation.response_validator("400", JSON)
        assert validator.violations(evidence["payload"]) == []
    limited = _operation(effective, evidence).raw["responses"]["429"]
    assert "Retry-After" in limited["headers"]


# --------------------------------------------------------------------------- known-bad


def _chunk(**choice: Any) -> dict[str, Any]:
    base = {"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": None}
    base.update(choice)
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4-0613",
        "choices": [base],
    }


def _without(document: dict[str, Any], key: str) -> dict[str, Any]:
    result = copy.deepcopy(document)
    del result[key]
    return result


def _with(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    result = copy.deepcopy(document)
    result.update(changes)
    return result


_TEXT_DELTA = _evidence("R3-text-delta-without-logprobs.json")["payload"]
_ERROR_EVENT = _evidence("R2-error-event-nested.json")["payload"]
_CREATED = _evidence("R1-created-usage-null.json")["payload"]
_ROUND_TRIP = _evidence("C11-assistant-content-null.json")["payload"]
_REQUEST = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]}
_TOOL_REQUEST = _evidence("R7-function-tool-without-strict.json")["payload"]
_RESPONSES_REQUEST = {"model": "gpt-4", "input": "Hello"}

CHAT, RESPONSES = "/v1/chat/completions", "/v1/responses"
# (id, path, kind, payload, pointer of the violation, missing property or None)
KNOWN_BAD: list[tuple[str, str, str, Any, str, str | None]] = [
    # specs/README.md §3
    ("chunk-without-id", CHAT, "event", _without(_chunk(), "id"), "", "id"),
    (
        "delta-content-5",
        CHAT,
        "event",
        _chunk(delta={"content": 5}),
        "/choices/0/delta/content",
        None,
    ),
    (
        "finish-reason-banana",
        CHAT,
        "event",
        _chunk(delta={}, finish_reason="banana"),
        "/choices/0/finish_reason",
        None,
    ),
    (
        "tool-call-delta-without-index",
        CHAT,
        "event",
        _chunk(delta={"tool_calls": [{"function": {"arguments": "{}"}}]}),
        "/choices/0/delta/tool_calls/0",
        "index",
    ),
    (
        "output-text-delta-without-delta",
        RESPONSES,
        "event",
        _without(_TEXT_DELTA, "delta"),
        "",
        "delta",
    ),
    (
        "error-event-without-sequence-number",
        RESPONSES,
        "event",
        _without(_ERROR_EVENT, "sequence_number"),
        "",
        "sequence_number",
    ),
    # requests
    ("request-without-messages", CHAT, "request", {"model": "gpt-4"}, "", "messages"),
    ("request-model-5", CHAT, "request", _with(_REQUEST, model=5), "/model", None),
    (
        "request-temperature-3",
        CHAT,
        "request",
        _with(_REQUEST, temperature=3),
        "/temperature",
        None,
    ),
    # the loosened places stay typed
    (
        "assistant-content-5",
        CHAT,
        "request",
        _with(
            _ROUND_TRIP,
            messages=[_ROUND_TRIP["messages"][0], {**_ROUND_TRIP["messages"][1], "content": 5}],
        ),
        "/messages/1/content",
        None,
    ),
    (
        "tool-content-image-part",
        CHAT,
        "request",
        _with(
            _ROUND_TRIP,
            messages=[
                *_ROUND_TRIP["messages"][:2],
                {**_ROUND_TRIP["messages"][2], "content": [{"type": "image_url", "image_url": {}}]},
            ],
        ),
        "/messages/2/content/0",
        "text",
    ),
    (
        "stream-options-obfuscation-string",
        CHAT,
        "request",
        _with(_REQUEST, stream_options={"include_obfuscation": "yes"}),
        "/stream_options/include_obfuscation",
        None,
    ),
    (
        "tool-function-without-name",
        CHAT,
        "request",
        _with(_REQUEST, tools=[{"type": "function", "function": {"description": "x"}}]),
        "/tools/0/function",
        "name",
    ),
    (
        "nested-error-without-message",
        RESPONSES,
        "event",
        _with(_ERROR_EVENT, error={"code": "rate_limit_exceeded"}),
        "/error",
        "message",
    ),
    (
        "created-usage-string",
        RESPONSES,
        "event",
        _with(_CREATED, response={**_CREATED["response"], "usage": "lots"}),
        "/response/usage",
        None,
    ),
    (
        "function-tool-strict-string",
        RESPONSES,
        "request",
        _with(_TOOL_REQUEST, tools=[{**_TOOL_REQUEST["tools"][0], "strict": "yes"}]),
        "/tools/0/strict",
        None,
    ),
    (
        "function-tool-parameters-string",
        RESPONSES,
        "request",
        _with(_TOOL_REQUEST, tools=[{**_TOOL_REQUEST["tools"][0], "parameters": "none"}]),
        "/tools/0/parameters",
        None,
    ),
    (
        "function-tool-without-parameters",
        RESPONSES,
        "request",
        _with(_TOOL_REQUEST, tools=[_without(_TOOL_REQUEST["tools"][0], "parameters")]),
        "/tools/0",
        "parameters",
    ),
    # the nullable request fields (C15, C16, R8, R9) stay typed
    (
        "stream-options-obfuscation-null",
        CHAT,
        "request",
        _with(_REQUEST, stream=True, stream_options={"include_obfuscation": None}),
        "/stream_options/include_obfuscation",
        None,
    ),
    (
        "stream-options-string",
        CHAT,
        "request",
        _with(_REQUEST, stream_options="usage"),
        "/stream_options",
        None,
    ),
    (
        "request-max-tokens-string",
        CHAT,
        "request",
        _with(_REQUEST, max_tokens="lots"),
        "/max_tokens",
        None,
    ),
    ("request-seed-0", CHAT, "request", _with(_REQUEST, seed=0), "/seed", None),
    ("request-stream-string", CHAT, "request", _with(_REQUEST, stream="yes"), "/stream", None),
    (
        "responses-max-output-tokens-10",
        RESPONSES,
        "request",
        _with(_RESPONSES_REQUEST, max_output_tokens=10),
        "/max_output_tokens",
        None,
    ),
    (
        "responses-truncation-unknown",
        RESPONSES,
        "request",
        _with(_RESPONSES_REQUEST, truncation="sometimes"),
        "/truncation",
        None,
    ),
    (
        "responses-background-string",
        RESPONSES,
        "request",
        _with(_RESPONSES_REQUEST, background="yes"),
        "/background",
        None,
    ),
    (
        "responses-text-format-null",
        RESPONSES,
        "request",
        _with(_RESPONSES_REQUEST, text={"format": None}),
        "/text/format",
        None,
    ),
    (
        "responses-text-string",
        RESPONSES,
        "request",
        _with(_RESPONSES_REQUEST, text="plain"),
        "/text",
        None,
    ),
    # R11 adds only the include values the document's description lists
    (
        "responses-include-unknown",
        RESPONSES,
        "request",
        _with(_RESPONSES_REQUEST, include=["message.output_text.banana"]),
        "/include/0",
        None,
    ),
    (
        "responses-include-web-search-results",
        RESPONSES,
        "request",
        _with(_RESPONSES_REQUEST, include=["web_search_call.results"]),
        "/include/0",
        None,
    ),
    (
        "reasoning-effort-unknown",
        RESPONSES,
        "event",
        _with(_CREATED, response={**_CREATED["response"], "reasoning": {"effort": "max"}}),
        "/response/reasoning/effort",
        None,
    ),
]


@pytest.mark.parametrize(
    ("path", "kind", "payload", "pointer", "missing"),
    [case[1:] for case in KNOWN_BAD],
    ids=[case[0] for case in KNOWN_BAD],
)
def test_known_bad_stays_rejected(
    effective: SpecSet, path: str, kind: str, payload: Any, pointer: str, missing: str | None
) -> None:
    operation = effective.find(path, "post", "gpt-4")
    assert operation is not None
    if kind == "request":
        violations = operation.request_validator.violations(payload)
    else:
        violations = operation.response_validator("200", EVENT_STREAM).violations(payload)
    shown = [str(violation) for violation in violations]
    # Every violation is at the bad field (or inside it, for a bad value), and the
    # expected one is among them.
    assert violations, "accepted"
    for violation in violations:
        inside = bool(pointer) and violation.pointer.startswith(pointer + "/")
        assert violation.pointer == pointer or inside, shown
    assert (pointer, missing) in [(v.pointer, v.missing) for v in violations], shown


def test_error_body_without_message_is_rejected(effective: SpecSet) -> None:
    operation = effective.find(CHAT, "post", "gpt-4")
    assert operation is not None
    validator = operation.response_validator("400", JSON)
    violations = validator.violations({"error": {"type": "invalid_request_error"}})
    assert [(v.pointer, v.missing) for v in violations] == [("/error", "message")]
    assert [v.pointer for v in validator.violations({"error": "boom"})] == ["/error"]


# --------------------------------------------------------------------------- the applier


def _overlay(*actions: dict[str, Any], source: str = "test.yaml") -> Any:
    raw = {"overlay": "1.0.0", "info": {"title": "test", "version": "1"}, "actions": list(actions)}
    return parse_overlay(raw, source=source)


def test_target_matching_nothing_names_source_and_action() -> None:
    overlay = _overlay(
        {"target": "$.info", "update": {"x-checked": True}},
        {"target": "$.paths['/gone'].post", "description": "fix /gone", "remove": True},
        source="overlays/55-stale.yaml",
    )
    document = {"openapi": "3.0.0", "info": {"title": "t"}, "paths": {"/here": {}}}
    with pytest.raises(OverlayError) as raised:
        apply_overlay(document, overlay)
    message = str(raised.value)
    assert "overlays/55-stale.yaml" in message
    assert "actions[1]" in message
    assert "selects nothing" in message
    assert "x-checked" not in document["info"], "the input document is not modified"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        pytest.param(
            {"info": {"title": "t"}, "actions": [{"target": "$", "update": {}}]},
            "overlay: 1.0.0",
            id="missing-version",
        ),
        pytest.param(
            {
                "overlay": "2.0.0",
                "info": {"title": "t"},
                "actions": [{"target": "$", "update": {}}],
            },
            "Overlay 1.x",
            id="wrong-version",
        ),
        pytest.param(
            {
                "overlay": "1.0.0",
                "info": {"title": "t"},
                "actions": [{"target": "$", "update": {"a": 1}, "remove": True}],
            },
            "exactly one of",
            id="update-and-remove",
        ),
        pytest.param(
            {"overlay": "1.0.0", "info": {"title": "t"}, "actions": [{"target": "$"}]},
            "exactly one of",
            id="neither-update-nor-remove",
        ),
        pytest.param(
            {"overlay": "1.0.0", "info": {"title": "t"}, "actions": [{"update": {}}]},
            "target",
            id="no-target",
        ),
        pytest.param(
            {"overlay": "1.0.0", "info": {"title": "t"}, "actions": []},
            "actions",
            id="no-actions",
        ),
        pytest.param(
            {"overlay": "1.0.0", "actions": [{"target": "$", "update": {}}]},
            "info.title",
            id="no-title",
        ),
    ],
)
def test_malformed_overlay_is_rejected(raw: dict[str, Any], fragment: str) -> None:
    with pytest.raises(OverlayError) as raised:
        parse_overlay(raw, source="bad.yaml")
    assert "bad.yaml" in str(raised.value)
    assert fragment in str(raised.value)


def test_bad_jsonpath_is_rejected() -> None:
    overlay = _overlay({"target": "$.paths[?@.x ==", "remove": True}, source="broken.yaml")
    with pytest.raises(OverlayError) as raised:
        apply_overlay({"paths": {}}, overlay)
    assert "broken.yaml: actions[0]" in str(raised.value)
    assert "bad JSONPath" in str(raised.value)


def test_unreadable_overlay_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("overlay: 1.0.0\nactions: [\n", encoding="utf-8")
    with pytest.raises(OverlayError) as raised:
        read_overlay(path)
    assert str(path) in str(raised.value)


def test_update_of_a_primitive_is_rejected() -> None:
    action = OverlayAction(target="$.info.title", description="", update={"a": 1})
    with pytest.raises(OverlayError, match="object or array target"):
        apply_action({"info": {"title": "t"}}, action)


def test_remove_of_the_root_is_rejected() -> None:
    with pytest.raises(OverlayError, match="root"):
        apply_action({"a": 1}, OverlayAction(target="$", description="", remove=True))


def test_remove_several_list_entries() -> None:
    document = {
        "items": [
            {"n": 0, "drop": True},
            {"n": 1},
            {"n": 2, "drop": True},
            {"n": 3, "drop": True},
            {"n": 4},
        ],
        "nested": {"more": [{"n": 5}, {"n": 6, "drop": True}]},
    }
    result = apply_overlay(document, _overlay({"target": "$..[?@.drop]", "remove": True}))
    assert result == {"items": [{"n": 1}, {"n": 4}], "nested": {"more": [{"n": 5}]}}
    assert len(document["items"]) == 5, "the input document is not modified"


def test_remove_object_members() -> None:
    document = {"a": {"required": ["x"], "keep": 1}, "b": {"required": ["y"]}}
    result = apply_overlay(document, _overlay({"target": "$.*.required", "remove": True}))
    assert result == {"a": {"keep": 1}, "b": {}}


def test_update_merges_objects_and_concatenates_arrays() -> None:
    document = {"s": {"type": "object", "tags": ["a"], "properties": {"x": {"type": "string"}}}}
    overlay = _overlay(
        {
            "target": "$.s",
            "update": {
                "tags": ["b", "a"],
                "type": "array",
                "properties": {"y": {"type": "integer"}, "x": {"nullable": True}},
            },
        }
    )
    result = apply_overlay(document, overlay)
    assert result == {
        "s": {
            "type": "array",
            "tags": ["a", "b", "a"],
            "properties": {"x": {"type": "string", "nullable": True}, "y": {"type": "integer"}},
        }
    }


def test_update_of_an_array_appends() -> None:
    document = {"list": [1]}
    result = apply_overlay(
        document,
        _overlay({"target": "$.list", "update": 2}, {"target": "$.list", "update": [3, 4]}),
    )
    assert result == {"list": [1, 2, 3, 4]}


def test_enum_gains_null_once_from_two_updates() -> None:
    # specs/README.md §2: a per-field `enum: [null]` and the global nullable-enum action once
    # listed null twice; enum/required/type merge as sets.
    document = {
        "finish_reason": {"type": "string", "enum": ["stop", "length"]},
        "other": {"type": "string", "enum": ["a"], "nullable": True},
    }
    overlay = _overlay(
        {"target": "$.finish_reason", "update": {"nullable": True, "enum": [None]}},
        {"target": "$..[?@.nullable == true && @.enum]", "update": {"enum": [None]}},
        {"target": "$.finish_reason", "update": {"required": ["a"]}},
        {"target": "$.finish_reason", "update": {"required": ["a", "b"]}},
    )
    result = apply_overlay(document, overlay)
    assert result["finish_reason"]["enum"] == ["stop", "length", None]
    assert result["finish_reason"]["required"] == ["a", "b"]
    assert result["other"]["enum"] == ["a", None]


def test_effective_enums_list_null_once(effective: SpecSet) -> None:
    chunk = effective.find(CHAT, "post", "gpt-4")
    assert chunk is not None
    schema = chunk.response_schema("200", EVENT_STREAM)
    finish_reason = schema["properties"]["choices"]["items"]["properties"]["finish_reason"]
    assert finish_reason["nullable"] is True
    assert finish_reason["enum"].count(None) == 1
    responses = effective.find(RESPONSES, "post", "gpt-4")
    assert responses is not None
    request = responses.raw["requestBody"]["content"][JSON]["schema"]
    truncation = request["properties"]["truncation"]
    assert truncation["nullable"] is True
    assert truncation["enum"] == ["auto", "disabled", None]


# --------------------------------------------------------------------------- spec validity


def _spec_validator_class() -> Any:
    # Imported here so that only these tests fail where openapi-spec-validator is missing.
    from jsonschema.validators import validator_for  # type: ignore[import-untyped,unused-ignore]
    from openapi_spec_validator import OpenAPIV30SpecValidator
    from openapi_spec_validator.schemas import schema_v30

    class WithSubschemaErrors(OpenAPIV30SpecValidator):
        # The default backend (jsonschema-rs when installed) reports a failed Response
        # Object as the whole object; python-jsonschema keeps the subschema errors that
        # name the missing keyword.
        schema_validator = validator_for(schema_v30)(schema_v30)

    return WithSubschemaErrors


def test_effective_specs_are_valid_openapi(documents: dict[str, SpecDocument]) -> None:
    from openapi_spec_validator import validate

    validator_class = _spec_validator_class()
    for document in documents.values():
        validate(document.effective)  # the public entry point, default backend
        errors = list(validator_class(document.effective).iter_errors())
        assert errors == [], (document.name, [error.message[:200] for error in errors])


def test_published_specs_fail_only_for_missing_description(
    documents: dict[str, SpecDocument],
) -> None:
    from jsonschema.exceptions import best_match  # type: ignore[import-untyped,unused-ignore]

    validator_class = _spec_validator_class()
    failing = {}
    for document in documents.values():
        errors = list(validator_class(document.upstream).iter_errors())
        failing[document.name] = sorted(str(error.path[1]) for error in errors)
        for error in errors:
            assert [*error.path][2:] == ["post", "responses", "200"]
            assert "'description' is a required property" in best_match(error.context).message
            assert any("description" in sub.message for sub in error.context)
    assert failing == {
        "gpt-4": ["/chat/completions", "/v1/chat/completions"],
        "gpt-4-RESPONSES": ["/v1/responses"],
    }
