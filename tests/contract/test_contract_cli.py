"""`harness contract` finds real breakage, and the baseline silences exactly what it lists.

Each target is the real mock with one thing broken (tests/contract/targets.py), so a run
must name the check guarding that rule, on the operation that broke it, and exit non-zero.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from harness.cli import main
from tests.contract import targets
from tests.fixtures.servers import API_KEY, RunningServer

CHAT = {"POST /v1/chat/completions", "POST /chat/completions"}
RESPONSES = {"POST /v1/responses"}
# Few generated cases: schemathesis's coverage phase already sends hundreds of boundary
# cases per operation, and every breakage here shows on the first affected answer.
EXAMPLES = "4"


@pytest.fixture(scope="module")
def app() -> Flask:
    """One mock app for every broken target of this module (building one takes a while)."""
    return targets.mock_app()


# Breakages only some generated cases meet: a usage chunk exists only in a stream that asks
# for it, a third of the chat streams a run generates, so with 4 examples an operation may
# get none (which one depends on the run, not the seed alone).
SEEN_ON_SOME_CASES = {targets.stream_usage_off_by_one}


def run_contract(url: str, *args: str) -> Result:
    return CliRunner().invoke(
        main,
        [
            "contract",
            "--base-url",
            url,
            "--api-key",
            API_KEY,
            "--max-examples",
            EXAMPLES,
            "--seed",
            "7",
            *args,
        ],
    )


def failures(output: str) -> set[tuple[str, str]]:
    """(check, operation) of every new failure the summary lists."""
    found = set()
    for line in output.splitlines():
        if line.startswith("FAILED ") and " on " in line:
            check, _, rest = line.removeprefix("FAILED ").partition(" on ")
            found.add((check, rest.rsplit(" (", 1)[0]))
    return found


@pytest.mark.parametrize(
    ("breakage", "check", "operations", "fragment", "mode"),
    [
        (targets.created_as_string, "spec_conformance", CHAT, '/created: "', "positive"),
        (targets.missing_model, "spec_conformance", CHAT, '"model" is a required', "positive"),
        (targets.no_done, "stream_conformance", CHAT, "does not end with data: [DONE]", "positive"),
        (
            targets.created_after_in_progress,
            "stream_conformance",
            RESPONSES,
            "not 'response.created'",
            "positive",
        ),
        (targets.total_off_by_one, "usage_consistency", CHAT, "total_tokens is", "positive"),
        (
            targets.stream_usage_off_by_one,
            "usage_consistency",
            CHAT,
            "total_tokens is",
            "positive",
        ),
        (targets.always_length, "finish_reason_consistency", CHAT, "'length'", "positive"),
        (
            targets.server_error_on_bad_input,
            "not_a_server_error",
            CHAT | RESPONSES,
            "HTTP 500",
            "negative",
        ),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
@pytest.mark.slow
def test_breakage_is_reported_by_its_check(
    breakage: Callable[[targets.Answer], None],
    check: str,
    operations: set[str],
    fragment: str,
    mode: str,
    app: Flask,
) -> None:
    with targets.broken_target(breakage, app) as url:
        result = run_contract(url, "--mode", mode)
    assert result.exit_code == 1, result.output
    found = failures(result.output)
    reported = {operation for name, operation in found if name == check}
    if breakage in SEEN_ON_SOME_CASES:
        assert reported and reported <= operations, result.output
    else:
        assert reported == operations, result.output
    # Nothing else is broken, so nothing else may be blamed.
    assert {name for name, _ in found} == {check}, result.output
    assert fragment in result.output
    assert API_KEY not in result.output


@pytest.mark.slow
def test_baseline_silences_exactly_the_listed_failure(tmp_path: Path, app: Flask) -> None:
    baseline = tmp_path / "known.yaml"
    baseline.write_text(
        "- operation: chat\n"
        "  check: stream_conformance\n"
        "  message: 'data: \\[DONE\\]'\n"
        "  reason: replay server drops the end marker\n"
        "- check: usage_consistency\n"
        "  reason: listed, but nothing breaks it\n"
    )
    junit = tmp_path / "contract.xml"
    with targets.broken_target(targets.no_done_and_created_as_string, app) as url:
        both = run_contract(url, "--baseline", str(baseline), "--junit", str(junit))
    # The [DONE] failure is known; the wrong type is new and still fails the run.
    assert both.exit_code == 1, both.output
    assert failures(both.output) == {("spec_conformance", op) for op in CHAT}
    assert "known  stream_conformance on POST /v1/chat/completions" in both.output
    assert "replay server drops the end marker" in both.output
    assert "stale baseline entry (matched nothing): any operation usage_consistency" in both.output
    suites = {s.get("name"): s for s in ET.parse(junit).getroot().iter("testsuite")}
    chat = suites["POST /v1/chat/completions"]
    cases = {case.get("name"): case for case in chat.iter("testcase")}
    assert cases["spec_conformance"].find("failure") is not None
    assert cases["stream_conformance"].find("failure") is None
    assert "known failure" in (cases["stream_conformance"].findtext("system-out") or "")
    assert suites["POST /v1/responses"].get("failures") == "0"


@pytest.mark.slow
def test_no_stream_done_passes_with_its_baseline(tmp_path: Path, app: Flask) -> None:
    baseline = tmp_path / "known.json"
    baseline.write_text('[{"check": "stream_conformance", "message": "DONE"}]')
    with targets.broken_target(targets.no_done, app) as url:
        # The base URL as an SDK's base_url is written: .../v1/
        result = run_contract(f"{url}/v1/", "--baseline", str(baseline))
    assert result.exit_code == 0, result.output
    assert "OK: 0 new failure(s), 2 known" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- check: no_such_check\n", "unknown check 'no_such_check'"),
        ("- check: spec_conformance\n  operation: embeddings\n", "unknown operation 'embeddings'"),
        ("- check: spec_conformance\n  mesage: typo\n", "unknown key(s) ['mesage']"),
        ("- check: spec_conformance\n  message: '('\n", "not a valid regex"),
        ("check: spec_conformance\n", "a baseline is a list"),
    ],
)
def test_bad_baseline_is_a_usage_error(tmp_path: Path, content: str, message: str) -> None:
    baseline = tmp_path / "bad.yaml"
    baseline.write_text(content)
    result = run_contract("http://127.0.0.1:9", "--baseline", str(baseline))
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("url", ["127.0.0.1:8080", "ftp://example.com", "http://"])
def test_bad_base_url_is_a_usage_error(url: str) -> None:
    result = run_contract(url)
    assert result.exit_code == 2
    assert "--base-url must be an http(s) URL" in result.output


@pytest.mark.slow
def test_unreachable_target_fails_with_a_clear_error() -> None:
    from tests.fixtures.servers import free_port

    result = run_contract(f"http://127.0.0.1:{free_port()}")
    assert result.exit_code == 1
    assert "ERROR" in result.output
    assert "Traceback" not in result.output


def test_baseline_entries_match_operation_check_and_text(tmp_path: Path) -> None:
    from harness.contract import FoundFailure, check_names, load_baseline
    from harness.spec import load_specs

    path = tmp_path / "known.yaml"
    path.write_text(
        "- {operation: responses, check: not_a_server_error, message: 'HTTP 50[23]'}\n"
        "- {operation: _chat_completions, check: spec_conformance}\n"
    )
    baseline = load_baseline(path, load_specs(), check_names())
    server_error = FoundFailure("POST /v1/responses", "not_a_server_error", "Server error", "")
    for status, known in ((503, True), (502, True), (500, False)):
        server_error.status = status
        matched = baseline.match(server_error.operation, server_error.check, server_error.text)
        assert (matched is not None) is known, status
    # `_chat_completions` is the path without /v1 only; `chat` would name both.
    assert baseline.match("POST /chat/completions", "spec_conformance", "x") is not None
    assert baseline.match("POST /v1/chat/completions", "spec_conformance", "x") is None


def test_ctrl_c_is_an_interrupted_run_not_a_pass(
    live_server: RunningServer, tmp_path: Path
) -> None:
    # schemathesis catches the KeyboardInterrupt and ends its run as if it had finished: the
    # run printed "OK", exited 0 and went on to the next document.
    import os
    import signal
    import subprocess
    import sys
    import time

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            "contract",
            "--base-url",
            live_server.base_url,
            "--api-key",
            API_KEY,
            "--max-examples",
            "200",
            "--seed",
            "7",
            "--junit",
            str(tmp_path / "r.xml"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(6)  # into the chat operations' run
    os.kill(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=120)
    assert process.returncode not in (0, None), output
    assert "interrupted" in output, output
    assert "OK:" not in output, output


def test_a_target_that_never_answers_is_called_off_at_once() -> None:
    # It took connections and said nothing: each batch waited out its request timeouts,
    # 16 minutes for --max-examples 1.
    import socket
    import threading
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_hold() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept_and_hold, daemon=True).start()
    started = time.monotonic()
    try:
        port = listener.getsockname()[1]
        result = run_contract(f"http://127.0.0.1:{port}/v1", "--max-examples", "1")
    finally:
        stop.set()
        for connection in held:
            connection.close()
        listener.close()
    assert time.monotonic() - started < 60, result.output
    assert result.exit_code == 1, result.output
    assert "did not answer" in result.output, result.output


def test_a_junit_path_in_no_folder_is_refused_before_the_run(tmp_path: Path) -> None:
    result = run_contract("http://127.0.0.1:9/v1", "--junit", str(tmp_path / "no" / "r.xml"))
    assert result.exit_code == 2, result.output
    assert "is not a folder" in result.output and "OK" not in result.output


def test_https_to_a_server_without_tls_is_called_off_at_once(live_server: RunningServer) -> None:
    # Every request failed alike: some 540 lines of the same SSL error over 14 s.
    plain = live_server.base_url.replace("http://", "https://")
    result = run_contract(plain)
    assert result.exit_code == 1, result.output
    assert "no TLS at" in result.output and "use http://" in result.output, result.output
    assert result.output.count("SSL") < 5, result.output
