"""`harness validate` on streams that are valid event by event but tell a client two stories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.cassettes.cassette import find_cassette_files
from harness.cli import main

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


def validate(*args: str) -> Result:
    return CliRunner().invoke(main, ["validate", *args])


@pytest.mark.parametrize(
    "name",
    [
        "chat-tool-stream.sse",
        "chat-stream-error.sse",
        "responses-tool-stream.sse",
        "responses-stream-error.sse",
    ],
)
def test_valid_streams_pass(name: str) -> None:
    result = validate(str(DATA / name))
    assert result.exit_code == 0, result.output


def test_every_shipped_cassette_passes() -> None:
    # Hidden files (the compare baseline) are not cassettes, as every reader agrees.
    cassettes = sorted(find_cassette_files(ROOT / "cassettes"))
    assert cassettes
    result = validate(*(str(path) for path in cassettes))
    assert result.exit_code == 0, result.output


def violations(name: str) -> list[dict[str, str]]:
    result = validate("--format", "json", str(DATA / name))
    assert result.exit_code == 1, result.output
    (checked,) = json.loads(result.stdout)["files"][0]["checked"]
    found: list[dict[str, str]] = checked["violations"]
    return found


def test_broken_chat_stream() -> None:
    assert violations("chat-stream-inconsistent.sse") == [
        {
            "pointer": "/3/id",
            "message": "id is 'chatcmpl-OTHERtQ2cVxYz8aLmN4pR6sT0uW1x', "
            "but the stream's first chunk has 'chatcmpl-BKM9tQ2cVxYz8aLmN4pR6sT0uW1x'",
            "keyword": "consistency",
        },
        {
            "pointer": "/5/choices/0/delta/tool_calls/0/index",
            "message": "tool call index 1 of choice 0 was never opened: its first delta must "
            "carry id, type 'function' and function.name",
            "keyword": "consistency",
        },
        {
            "pointer": "/11/choices/0",
            "message": "choice 0 continues after chunk 10 carried its finish_reason 'tool_calls'",
            "keyword": "consistency",
        },
    ]


def test_broken_responses_stream_in_text_format() -> None:
    name = str(DATA / "responses-stream-inconsistent.sse")
    result = validate(name)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{name}: /6/text: text 'Hello! How can I help you?' is not the text streamed for "
        "output 0 content 0, 'Hello! How can I help?' (first difference at offset 21)",
        f"{name}: /9/response/output/0/content/0/text: text 'Hi there!' is not the text "
        "streamed for output 0 content 0, 'Hello! How can I help?' (first difference at offset 1)",
    ]
