"""`harness validate` over saved bodies, SSE transcripts and cassettes in tests/data/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from harness.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
GOOD = [
    "docs-chat-response.json",
    "chat-chunk-finish-null.json",
    "chat-stream.sse",
    "responses-stream.sse",
    "responses-response.json",
    "error-400.json",
    "chat-cassette.yaml",
]


def validate(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["validate", *args], input=stdin)


def data(name: str) -> str:
    return str(DATA / name)


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", GOOD)
def test_good_files_conform_with_overlays(name: str) -> None:
    result = validate(data(name))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def test_all_good_files_at_once() -> None:
    result = validate(*(data(name) for name in GOOD))
    assert result.exit_code == 0
    assert f"OK: {len(GOOD)} file(s) conform (with overlays)" in result.stderr


def test_published_spec_accepts_the_documented_response() -> None:
    result = validate("--no-overlays", data("docs-chat-response.json"))
    assert result.exit_code == 0, result.output


def test_published_spec_rejects_a_real_chunk_and_the_overlay_corrects_it() -> None:
    published = validate("--no-overlays", data("chat-chunk-finish-null.json"))
    assert published.exit_code == 1
    lines = published.stdout.splitlines()
    name = data("chat-chunk-finish-null.json")
    assert f'{name}: /choices/0/finish_reason: null is not of type "string"' in lines
    assert f'{name}: /choices/0/delta: "role" is a required property' in lines
    assert "published specs, no overlays" in published.stderr
    assert validate(data("chat-chunk-finish-null.json")).exit_code == 0


def test_published_spec_drift_in_streams_and_errors() -> None:
    stream = validate("--no-overlays", data("responses-stream.sse"))
    assert stream.exit_code == 1
    assert (
        f'{data("responses-stream.sse")}: /0/response/usage: null is not of type "object"'
        in stream.stdout
    )
    error = validate("--no-overlays", data("error-400.json"))
    assert error.exit_code == 1
    assert "status 400 (application/json) is not documented; documented: 200" in error.stdout


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "chat-stream-bad.sse",
            [
                "/: the stream does not end with data: [DONE]",
                '/4/choices/0/finish_reason: "finished" is not one of',
            ],
        ),
        (
            "responses-stream-bad.sse",
            [
                "/0: the first event is 'response.in_progress', not 'response.created'",
                "/5/sequence_number: sequence_number is 6, expected 5",
            ],
        ),
    ],
)
def test_broken_streams(name: str, expected: list[str]) -> None:
    result = validate(data(name))
    assert result.exit_code == 1
    for fragment in expected:
        assert f"{data(name)}: {fragment}" in result.stdout, result.stdout


def test_cassette_violations_name_the_interaction() -> None:
    result = validate(data("chat-cassette-bad.yaml"))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{data('chat-cassette-bad.yaml')}#0: /usage/total_tokens: total_tokens is 18, "
        "but prompt_tokens + completion_tokens = 17",
        f"{data('chat-cassette-bad.yaml')}#1: /4/choices/0/finish_reason: finish_reason is "
        "'tool_calls' but the request sent no tools (or tool_choice 'none')",
    ]


def test_cassette_skips_what_the_specs_do_not_describe() -> None:
    result = validate(data("chat-cassette.yaml"))
    assert result.exit_code == 0
    assert "#3: note: GET /v1/models is not an operation of the specs; skipped" in result.stderr


def test_json_format() -> None:
    result = validate("--format", "json", data("chat-cassette-bad.yaml"), data("chat-stream.sse"))
    assert result.exit_code == 1
    report = as_json(result)
    assert report["overlays"] is True
    assert report["summary"] == {"files": 2, "violations": 2, "errors": 0}
    cassette, stream = report["files"]
    assert cassette["file"] == data("chat-cassette-bad.yaml")
    assert cassette["kind"] == "cassette" and cassette["error"] is None
    assert cassette["violations"] == 2
    first = cassette["checked"][0]
    assert first["part"] == "request" and first["interaction"] == 0 and first["violations"] == []
    response = cassette["checked"][1]
    assert response == {
        "part": "response",
        "operation": "_v1_chat_completions",
        "status": "200",
        "media_type": "application/json",
        "interaction": 0,
        "violations": [
            {
                "pointer": "/usage/total_tokens",
                "message": "total_tokens is 18, but prompt_tokens + completion_tokens = 17",
                "keyword": "usage",
            }
        ],
        "note": None,
    }
    assert stream["kind"] == "stream"
    assert stream["checked"][0]["media_type"] == "text/event-stream"
    assert stream["checked"][0]["violations"] == []


def test_stdin() -> None:
    text = (DATA / "responses-stream.sse").read_text()
    result = validate("-", stdin=text)
    assert result.exit_code == 0, result.output
    broken = validate("-", stdin=(DATA / "responses-stream-bad.sse").read_text())
    assert broken.exit_code == 1
    assert "<stdin>: /0: the first event is 'response.in_progress'" in broken.stdout


@pytest.mark.parametrize("name", ["chat", "_v1_chat_completions", "POST /v1/chat/completions"])
def test_operation_for_an_untagged_body(tmp_path: Path, name: str) -> None:
    body = json.loads((DATA / "docs-chat-response.json").read_text())
    del body["object"]
    path = tmp_path / "untagged.json"
    path.write_text(json.dumps(body))
    unknown = validate(str(path))
    assert unknown.exit_code == 2
    assert "cannot tell which operation this body belongs to; pass --operation" in unknown.stderr
    result = validate("--operation", name, str(path))
    assert result.exit_code == 1
    assert '/: "object" is a required property' in result.stdout


def test_operation_overrides_what_the_content_suggests() -> None:
    # A chat body checked as a Responses body: every required Response field is missing.
    result = validate("--operation", "responses", data("docs-chat-response.json"))
    assert result.exit_code == 1
    assert '"parallel_tool_calls" is a required property' in result.stdout


def test_bad_error_body(tmp_path: Path) -> None:
    path = tmp_path / "error.json"
    path.write_text('{"error": {"type": "invalid_request_error"}}')
    result = validate(str(path))
    assert result.exit_code == 1
    assert '/error: "message" is a required property' in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("", "the file is empty"),
        ("hello world", "neither a JSON body, an SSE transcript"),
        ("{not json", "neither JSON, an SSE transcript nor a YAML cassette"),
        # Read as `serve --replay` and `cassettes check` read it (harness.cassettes.cassette).
        ("interactions: [{request: {}}]", "interaction 0: `response` must be a mapping"),
        ("data: {}\n\n", "cannot tell whose stream this is; pass --operation"),
    ],
)
def test_unreadable_input_exits_2(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "input.txt"
    if content is not None:
        path.write_text(content)
    # A good file alongside does not hide the bad one.
    result = validate(data("docs-chat-response.json"), str(path))
    assert result.exit_code == 2
    assert f"harness validate: {path}: {message}" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_operation_exits_2() -> None:
    result = validate("--operation", "embeddings", data("docs-chat-response.json"))
    assert result.exit_code == 2
    assert (
        "unknown operation 'embeddings'; known: chat, responses, _v1_chat_completions"
        in result.output
    )


def test_real_process_exit_codes() -> None:
    """As users run it: the console entry point, exit statuses, no traceback."""
    command = [sys.executable, "-m", "harness", "validate"]
    good = subprocess.run([*command, data("chat-stream.sse")], capture_output=True, text=True)
    bad = subprocess.run([*command, data("chat-stream-bad.sse")], capture_output=True, text=True)
    missing = subprocess.run([*command, "/nonexistent/file.json"], capture_output=True, text=True)
    assert (good.returncode, bad.returncode, missing.returncode) == (0, 1, 2)
    assert "Traceback" not in missing.stderr
    assert "cannot read" in missing.stderr


REQUEST_BODIES = [
    ("chat", {"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]}),
    ("responses", {"model": "gpt-4", "input": "Hello"}),
]


@pytest.mark.parametrize(("short", "body"), REQUEST_BODIES)
def test_a_saved_request_body_is_checked_as_a_request(
    tmp_path: Path, short: str, body: dict[str, Any]
) -> None:
    # A request body saved from a client (or a log) was either refused ("cannot tell") or,
    # with --operation, checked against the response schema: every response field missing.
    path = tmp_path / "request.json"
    path.write_text(json.dumps(body))
    for args in ([str(path)], ["--operation", short, str(path)]):
        result = validate("--format", "json", *args)
        assert result.exit_code == 0, result.output
        (checked,) = as_json(result)["files"][0]["checked"]
        assert checked["part"] == "request"
        assert checked["status"] is None and checked["violations"] == []


def test_a_bad_request_body_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps({"model": "gpt-4", "messages": [{"role": "user"}]}))
    result = validate(str(path))
    assert result.exit_code == 1
    assert "request" in result.stdout and "/messages/0" in result.stdout
