"""Bounds a stub definition keeps, and what a near-miss report may cost and hold."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockserver.stub_diagnosis import MAX_NEAR_MISS_STUBS, near_misses
from mockserver.stubs import MAX_STUB_DEPTH, Stub, StubError, parse_stub, parse_stubs

CHAT = "/v1/chat/completions"
SERVED = ["/chat/completions", "/v1/chat/completions", "/v1/responses"]


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def refused(raw: Any, served: list[str] | None = None) -> StubError:
    with pytest.raises(StubError) as caught:
        parse_stub(raw, served_paths=served)
    return caught.value


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        ({"match": {"body": nested(400)}, "reply": {"text": "x"}}, "match.body"),
        ({"match": {"body": nested(995)}, "reply": {"text": "x"}}, "match.body"),
        ({"reply": {"tool_call": {"name": "f", "arguments": nested(400)}}}, "reply.tool_call"),
        (
            {"replies": [{"text": "x"}, {"tool_calls": [{"name": "f", "arguments": nested(99)}]}]},
            "replies[1].tool_calls",
        ),
        ({"unknown": nested(5000), "reply": {"text": "x"}}, "unknown"),
    ],
)
def test_a_stub_nested_too_deeply_is_refused_naming_the_field(raw: Any, param: str) -> None:
    error = refused(raw)
    assert error.param is not None and error.param.startswith(param)
    assert str(MAX_STUB_DEPTH) in str(error)


def test_a_stub_as_deep_as_allowed_is_kept_and_matched_by_deeper_bodies() -> None:
    # "match": {"body": ...} are two of the levels.
    stub = parse_stub(
        {"match": {"body": {"m": nested(MAX_STUB_DEPTH - 4)}}, "reply": {"text": "x"}}
    )
    deeper = {"model": "gpt-4", "m": nested(MAX_STUB_DEPTH - 4, nested(5000))}
    assert stub.matches(CHAT, deeper, "") is False  # 1 against an object: no recursion past it
    assert stub.matches(CHAT, {"m": nested(MAX_STUB_DEPTH - 4)}, "") is True


@pytest.mark.parametrize(
    "stub_id", ["a/b", "../x", "v1/chat", ".", "..", "a b", "a\ud800", "é", "i" * 129, "a?b", ""]
)
def test_an_id_a_url_cannot_name_is_refused(stub_id: str) -> None:
    error = refused({"id": stub_id, "reply": {"text": "x"}})
    assert error.param == "id"
    assert len(str(error)) < 400  # a long id is not echoed whole


@pytest.mark.parametrize(
    "stub_id", ["weather", "stub_0123abcd", "greeting", "a.b", "ns:name-1", "...", "i" * 128]
)
def test_ids_of_letters_digits_and_separators_are_kept(stub_id: str) -> None:
    assert parse_stub({"id": stub_id, "reply": {"text": "x"}}).id == stub_id


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        ({"bogus": 1, "reply": {"text": "x"}}, "bogus"),
        # Below the top, the object holding it is named (as before).
        ({"match": {"bogus": 1}, "reply": {"text": "x"}}, "match"),
    ],
)
def test_an_unknown_key_is_named(raw: Any, param: str) -> None:
    assert refused(raw).param == param


def test_a_list_names_the_unknown_key_of_its_item() -> None:
    with pytest.raises(StubError) as caught:
        parse_stubs([{"reply": {"text": "x"}}, {"bogus": 1, "reply": {"text": "x"}}])
    assert caught.value.param == "[1].bogus"


@pytest.mark.parametrize(
    "endpoint", ["/chat/completions", "/v1/chat/completions", "/v1/responses", "/responses"]
)
def test_every_documented_endpoint_form_is_kept(endpoint: str) -> None:
    raw = {"match": {"endpoint": endpoint}, "reply": {"text": "x"}}
    assert parse_stub(raw, served_paths=SERVED).match["endpoint"] == endpoint


@pytest.mark.parametrize("endpoint", ["/v1/nothing", "/v1/chat/completion", "/", "/v1"])
def test_an_endpoint_nothing_is_served_at_is_refused(endpoint: str) -> None:
    error = refused({"match": {"endpoint": endpoint}, "reply": {"text": "x"}}, SERVED)
    assert error.param == "match.endpoint"
    assert "/v1/chat/completions" in str(error) and "/v1/responses" in str(error)


def test_a_near_miss_shows_a_bounded_stub() -> None:
    big = parse_stub(
        {
            "id": "big",
            "match": {"last_user_message": "^never$", "body": {"k": "v" * 100_000}},
            "reply": {"text": "x" * 1_000_000},
        }
    )
    body = {"model": "gpt-4", "messages": [{"role": "user", "content": "y" * 100_000}], "k": 1}
    (shown,) = near_misses([big], CHAT, body)
    assert len(json.dumps(shown)) < 20_000
    assert shown["stub"]["id"] == "big"
    assert "reply" not in shown["stub"]  # GET /_mock/stubs shows it whole


def test_a_near_miss_on_a_deep_request_value_is_shown_cut() -> None:
    stub = parse_stub({"match": {"body": {"metadata": "x"}}, "reply": {"text": "x"}})
    (shown,) = near_misses([stub], CHAT, {"model": "gpt-4", "metadata": nested(900)})
    json.dumps(shown)  # no RecursionError
    assert len(json.dumps(shown)) < 5_000


def test_the_work_per_request_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import mockserver.stub_diagnosis as diagnosis

    held = []
    explain = diagnosis.explain_mismatch

    def counted(stub: Stub, *args: Any, **kwargs: Any) -> Any:
        held.append(stub.id)
        return explain(stub, *args, **kwargs)

    monkeypatch.setattr(diagnosis, "explain_mismatch", counted)
    stubs = [
        Stub(f"s{n}", {"last_user_message": f"^needle{n}$"}, {"text": "x"}, seq=n)
        for n in range(MAX_NEAR_MISS_STUBS * 4)
    ]
    body = {"model": "gpt-4", "messages": [{"role": "user", "content": "hay " * 2000}]}
    shown = near_misses(stubs, CHAT, body)
    assert len(held) == MAX_NEAR_MISS_STUBS
    # The newest stubs are held, as the matcher tries them (priority first, then newest).
    assert set(held) == {f"s{n}" for n in range(MAX_NEAR_MISS_STUBS * 3, MAX_NEAR_MISS_STUBS * 4)}
    assert shown[0]["stub_id"] == f"s{MAX_NEAR_MISS_STUBS * 4 - 1}"


def test_a_stub_file_with_an_endpoint_nothing_serves_is_refused(tmp_path: Any) -> None:
    from mockserver.stubs import load_stub_file

    path = tmp_path / "stubs.yaml"
    path.write_text("- match: {endpoint: /v1/nothing}\n  reply: {text: x}\n", encoding="utf-8")
    with pytest.raises(StubError) as caught:
        load_stub_file(path, SERVED)
    assert caught.value.param == "[0].match.endpoint"
    assert str(path) in str(caught.value)
