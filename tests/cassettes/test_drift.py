"""`harness cassettes check`: the drift report over the shipped cassettes and broken ones."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.cassettes import RecordedRequest, RecordedResponse, write_cassette
from harness.cli import main
from harness.sse import encode_done, encode_json_event
from tests.cassettes.conftest import SHIPPED


def check(*args: str) -> Result:
    return CliRunner().invoke(main, ["cassettes", "check", *args])


@pytest.fixture(scope="module")
def shipped_report() -> Result:
    return check(str(SHIPPED))


def test_the_shipped_cassettes_drift_only_where_an_overlay_covers_it(
    shipped_report: Result,
) -> None:
    assert shipped_report.exit_code == 0, shipped_report.output
    text = shipped_report.output
    covered, _, uncovered = text.partition("Not covered")
    assert "none" in uncovered.splitlines()[1]
    # The chunk finish_reason: null rule, credited to the C1 and C7 overlay actions.
    block = covered.split("| stream chunk | /*/choices/*/finish_reason | type\n")[1].split(
        "\n  POST"
    )[0]
    assert "covered by C1 (30-chat-wire.yaml)" in block
    assert "C7 (90-nullable-enum.yaml)" in block
    assert "cassettes/documented/chat-stream.yaml#0" in text or "cassettes/mock/" in block
    # Responses drift and the undocumented error statuses are there too.
    assert "stream event response.created | /*/response/usage | type" in text
    assert "covered by R1 (40-responses-wire.yaml)" in text
    assert "response 429 application/json | / | status" in text
    assert "covered by S3 (20-errors.yaml)" in text
    assert "0 rules are not covered" in text


def chunk(delta: dict[str, object], finish: object) -> bytes:
    payload = {
        "id": "chatcmpl-x",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4-0613",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return encode_json_event(payload)


def drifting_cassette(folder: Path) -> Path:
    """A stream whose last chunk says finish_reason "banana": no overlay allows that."""
    body = chunk({"role": "assistant", "content": ""}, None) + chunk({}, "banana") + encode_done()
    asked = {"model": "gpt-4", "messages": [{"role": "user", "content": "<b>&"}], "stream": True}
    request = RecordedRequest(
        "POST",
        "https://api.aimlapi.com/v1/chat/completions",
        json.dumps(asked).encode(),
        {"Content-Type": ["application/json"]},
    )
    response = RecordedResponse(200, "OK", {"Content-Type": ["text/event-stream"]}, body)
    path = folder / "drift.yaml"
    write_cassette(path, [(request, response)], {"source": "test"})
    return path


def test_uncovered_drift_fails_and_is_listed(tmp_path: Path) -> None:
    drifting_cassette(tmp_path)
    result = check(str(tmp_path))
    assert result.exit_code == 1, result.output
    uncovered = result.output.split("Not covered")[1]
    assert (
        "POST /v1/chat/completions | stream chunk | /*/choices/*/finish_reason | enum" in uncovered
    )
    assert f"{tmp_path / 'drift.yaml'}#0: /1/choices/0/finish_reason" in uncovered
    # finish_reason: null in the first chunk is still covered.
    assert "covered by C1" in result.output.split("Not covered")[0]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.links.extend(value or "" for name, value in attrs if name in ("href", "src"))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_html_report_is_one_escaped_page(tmp_path: Path) -> None:
    folder = tmp_path / "cassettes"
    drifting_cassette(folder)
    # A cassette file name with markup in it must come out as text.
    (folder / "drift.yaml").rename(folder / "<b>&drift.yaml")
    page = tmp_path / "report.html"
    result = check(str(folder), "--html", str(page))
    assert result.exit_code == 1
    html = page.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(html)
    # One inline script (sorting, filtering) and nothing fetched: no src, no link, no img.
    assert parser.tags.count("script") == 1
    assert not {"link", "img", "b"} & set(parser.tags)
    assert parser.links == []
    assert "<b>&drift.yaml#0" in "".join(parser.text)
    assert "&lt;b&gt;&amp;drift." in html  # (a line-break chance may follow the dot)
    assert "finish_reason" in html and "<table" in html


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("interactions: [\n", "not valid YAML"),
        ("interactions:\n- request: {}\n  response: {}\n", "interaction 0: `request.method`"),
        (
            "interactions:\n- request: {method: GET, uri: /x}\n"
            "  response: {status: {code: 200}, body: {string: !!binary '/w=='}}\n",
            "interaction 0: `response.body.string` is not valid UTF-8 text",
        ),
    ],
)
def test_broken_cassettes_exit_2_with_the_file_and_entry(
    tmp_path: Path, text: str, expected: str
) -> None:
    (tmp_path / "broken.yaml").write_text(text)
    result = check(str(tmp_path))
    assert result.exit_code == 2
    assert f"{tmp_path / 'broken.yaml'}" in result.output
    assert expected in result.output
    assert "Traceback" not in result.output
