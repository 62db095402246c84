"""Cassette files: what the harness writes, plain vcrpy reads; broken files get clear errors."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import vcr
from hypothesis import example, given, settings
from hypothesis import strategies as st
from vcr.persisters.filesystem import FilesystemPersister
from vcr.serializers import yamlserializer

from harness.cassettes import (
    CassetteError,
    RecordedRequest,
    RecordedResponse,
    append_interaction,
    read_cassette,
    read_cassettes,
    write_cassette,
)
from tests.cassettes.conftest import SHIPPED

REQUEST = RecordedRequest(
    "POST",
    "https://api.aimlapi.com/v1/chat/completions",
    b'{"model":"gpt-4","messages":[{"role":"user","content":"Hello"}]}',
    {"Content-Type": ["application/json"]},
)


def response(body: str, media: str = "application/json") -> RecordedResponse:
    return RecordedResponse(200, "OK", {"Content-Type": [media]}, body.encode("utf-8"))


# Any text an SSE or JSON body can hold, including line breaks of every kind, long lines
# (the YAML dumper folds them) and non-ASCII characters.
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)


@settings(max_examples=60, deadline=None)
@given(body=texts)
@example(body="data: {}\n\ndata: [DONE]\n\n")
@example(body="line\r\nbreaks\rand\u2028separators\u0085 " + "x" * 200 + "\n\n\n")
@example(body="  leading and trailing spaces  ")
@example(body="'quotes' \"double\" \\ back # hash: colon")
def test_write_then_read_gives_back_the_same_bytes(
    tmp_path_factory: pytest.TempPathFactory, body: str
) -> None:
    path = tmp_path_factory.mktemp("roundtrip") / "c.yaml"
    write_cassette(path, [(REQUEST, response(body, "text/event-stream"))], {"source": "test"})
    (interaction,) = read_cassette(path).interactions
    assert interaction.response.body == body.encode("utf-8")
    assert interaction.request.body == REQUEST.body
    # vcrpy itself reads the same bytes back.
    requests, responses = FilesystemPersister.load_cassette(path, yamlserializer)[:2]
    assert responses[0]["body"]["string"] == body.encode("utf-8")
    assert requests[0].body == REQUEST.body


def test_appends_keep_earlier_interactions_and_the_source_block(tmp_path: Path) -> None:
    path = tmp_path / "chat.yaml"
    for number in range(3):
        index = append_interaction(
            path, REQUEST, response(f'{{"n":{number}}}'), source={"source": "recorded"}
        )
        assert index == number
    cassette = read_cassette(path)
    assert [i.response.body for i in cassette.interactions] == [b'{"n":0}', b'{"n":1}', b'{"n":2}']
    assert cassette.source == {"source": "recorded"}
    assert path.stat().st_mode & 0o777 != 0o600  # an ordinary file, not a private temp file
    assert not list(tmp_path.glob(".*")), "no temporary file is left behind"


def test_concurrent_appends_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "busy.yaml"
    threads = [
        threading.Thread(target=append_interaction, args=(path, REQUEST, response(f'{{"n":{n}}}')))
        for n in range(12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bodies = sorted(i.response.body for i in read_cassette(path).interactions)
    assert bodies == sorted(f'{{"n":{n}}}'.encode() for n in range(12))


@pytest.mark.parametrize("name", sorted(p.name for p in (SHIPPED / "documented").glob("*.yaml")))
def test_documented_cassettes_say_so_and_load_in_plain_vcrpy(name: str) -> None:
    path = SHIPPED / "documented" / name
    assert read_cassette(path).source["source"] == "documented"
    with vcr.use_cassette(str(path), record_mode="none") as cassette:
        assert len(cassette) == 1


def test_recorded_cassettes_say_so() -> None:
    for path in sorted((SHIPPED / "mock").glob("*.yaml")):
        assert read_cassette(path).source["source"] == "recorded", path


GOOD = """interactions:
- request:
    body: '{"model": "gpt-4"}'
    headers: {Content-Type: [application/json]}
    method: POST
    uri: http://127.0.0.1/v1/chat/completions
  response:
    body: {string: '{}'}
    headers: {Content-Type: [application/json]}
    status: {code: 200, message: OK}
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("interactions: [\n  - {request: ", "not valid YAML", id="bad-yaml"),
        pytest.param("- a\n- b\n", "not a vcrpy cassette (the file is a list", id="not-a-mapping"),
        pytest.param("", "the file is empty", id="empty"),
        pytest.param("version: 1\n", "no `interactions` list", id="no-interactions"),
        pytest.param(
            GOOD + "- {request: {method: GET}}\n",
            "interaction 1: `response` must be a mapping",
            id="missing-response",
        ),
        pytest.param(
            GOOD.replace("code: 200", "code: two hundred"),
            "interaction 0: `response.status.code` must be an HTTP status, got 'two hundred'",
            id="status-not-a-number",
        ),
        pytest.param(
            GOOD.replace("method: POST", "method: [POST]"),
            "interaction 0: `request.method` must be non-empty text",
            id="method-a-list",
        ),
        pytest.param(
            GOOD.replace(
                "{Content-Type: [application/json]}\n    status", "[Content-Type]\n    status"
            ),
            "interaction 0: `response.headers` must be a mapping",
            id="headers-a-list",
        ),
        pytest.param(
            GOOD.replace("body: {string: '{}'}", "body: '{}'"),
            "interaction 0: `response.body` must be a mapping with `string`",
            id="body-not-a-mapping",
        ),
        pytest.param(
            GOOD.replace("body: {string: '{}'}", "body: {string: !!binary '/w=='}"),
            "interaction 0: `response.body.string` is not valid UTF-8 text (byte 0)",
            id="binary-body-not-utf8",
        ),
        pytest.param(
            GOOD.replace("version", "v") + "version: 2\n",
            "cassette format version 2",
            id="wrong-version",
        ),
    ],
)
def test_broken_cassettes_are_reported_by_file_and_entry(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CassetteError) as caught:
        read_cassette(path)
    message = str(caught.value)
    assert str(path) in message
    assert expected in message


def test_a_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(GOOD.replace("'{}'", "'caf\xe9'").encode("latin-1"))
    with pytest.raises(CassetteError, match=r"latin1\.yaml: not UTF-8 text \(byte \d+\)"):
        read_cassette(path)


def test_every_broken_file_of_a_folder_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "a.yaml").write_text("interactions: 3\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yml").write_text(GOOD.replace("code: 200", "code: 42"))
    (tmp_path / ".c.yaml.123.tmp").write_text("ignored: a recorder's temporary file")
    with pytest.raises(CassetteError) as caught:
        read_cassettes(tmp_path)
    assert [problem.split(":")[0] for problem in caught.value.problems] == [
        str(tmp_path / "a.yaml"),
        str(tmp_path / "sub" / "b.yml"),
    ]


def test_a_folder_without_cassettes_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="no cassettes"):
        read_cassettes(tmp_path)


def test_appending_to_a_broken_cassette_leaves_it_alone(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("interactions: [oops\n")
    with pytest.raises(CassetteError, match="not valid YAML"):
        append_interaction(path, REQUEST, response("{}"))
    assert path.read_text() == "interactions: [oops\n"
