"""Bodies nested deeper than Python walks are the cassette's problem, told in one line.

A request body of ~1,000 nested arrays, or a response whose ``created`` is 400 to 2,000
arrays deep, made ``harness validate`` and ``harness cassettes check`` end in a
``RecursionError`` or jsonschema_rs's "Recursion limit reached" traceback, and a replay server
answer a deep request with a 500.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from harness.cassettes.matching import body_differences, body_key
from harness.cli import main

CHAT = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]}


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def _cassette(folder: Path, request_body: str, response_body: str) -> Path:
    folder.mkdir()
    interaction = {
        "request": {
            "body": request_body,
            "headers": {"Content-Type": ["application/json"]},
            "method": "POST",
            "uri": "http://127.0.0.1:9/v1/chat/completions",
        },
        "response": {
            "body": {"string": response_body},
            "headers": {"Content-Type": ["application/json"]},
            "status": {"code": 200, "message": "OK"},
        },
    }
    path = folder / "deep.yaml"
    path.write_text(yaml.safe_dump({"interactions": [interaction], "version": 1}))
    return path


def _answer(created: str) -> str:
    return (
        '{"id": "chatcmpl-1", "object": "chat.completion", "created": ' + created + ", "
        '"model": "gpt-4-0613", "choices": []}'
    )


@pytest.mark.parametrize(
    ("request_depth", "response_depth"),
    [(1_500, 0), (0, 400), (0, 2_000)],
    ids=["deep-request", "deep-response", "deeper-response"],
)
@pytest.mark.parametrize("command", [["validate"], ["cassettes", "check"]])
def test_a_deep_body_is_reported_not_a_traceback(
    tmp_path: Path, request_depth: int, response_depth: int, command: list[str]
) -> None:
    request_body = (
        '{"model": "gpt-4", "messages": ' + _deep(request_depth) + "}"
        if request_depth
        else json.dumps(CHAT)
    )
    created = _deep(response_depth) if response_depth else "1"
    path = _cassette(tmp_path / "c", request_body, _answer(created))
    target = str(path if command == ["validate"] else path.parent)
    result = CliRunner().invoke(main, [*command, target])
    assert isinstance(result.exception, SystemExit | None), result.exception
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1, 2), result.output
    if command == ["validate"]:  # the body is named as what it is
        assert result.exit_code != 0, result.output
        assert "deep" in result.output.lower() or "not JSON" in result.output, result.output


def test_deep_bodies_are_matched_as_bytes() -> None:
    deep = '{"messages": ' + _deep(5_000) + "}"
    assert body_key(deep) == body_key(deep.encode())
    assert body_differences(deep, deep) == []
    assert len(body_differences(deep, deep.replace("[]", "[1]", 1))) == 1
