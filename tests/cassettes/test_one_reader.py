"""One cassette model, read in one place: `validate`, `cassettes check` and `serve --replay`
judge a file alike.

vcrpy stores what the wire carried: a client that sends ``Accept-Encoding: gzip`` (httpx, so the
openai SDK, does by default) and an upstream that compresses gets a cassette whose body is the
gzip bytes (``!!binary``) beside ``Content-Encoding: gzip``. `harness record` stores the body
decoded, without that header. Every reader decodes the first as a client would, so both kinds
of cassette read to the same interaction.
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from pathlib import Path

import httpx
import pytest
import requests
import vcr  # type: ignore[import-untyped]
import yaml
from click.testing import CliRunner
from flask import Flask, Response, request

from harness.cassettes import cassette as cassette_module
from harness.cassettes import read_cassette
from harness.cli import main
from tests.cassettes.conftest import start_recorder
from tests.fixtures.servers import serve_in_thread, start_server

DATA = Path(__file__).resolve().parents[1] / "data"
ANSWER = (DATA / "docs-chat-response.json").read_bytes()
HELLO = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]}


def compressing_upstream(encoding: str = "gzip") -> Flask:
    """An upstream that compresses its JSON answer when the client accepts it, as the API's does."""
    app = Flask("compressing")

    @app.post("/v1/chat/completions")
    def answer() -> Response:
        if encoding not in request.headers.get("Accept-Encoding", ""):
            return Response(ANSWER, mimetype="application/json")
        body = gzip.compress(ANSWER) if encoding == "gzip" else zlib.compress(ANSWER)
        return Response(body, mimetype="application/json", headers={"Content-Encoding": encoding})

    return app


def record_with_vcrpy(folder: Path, encoding: str = "gzip") -> Path:
    """A cassette written by vcrpy itself, recording httpx against a compressing upstream."""
    path = folder / "compressed.yaml"
    with (
        serve_in_thread(compressing_upstream(encoding)) as url,
        vcr.VCR().use_cassette(str(path)),
        httpx.Client() as client,
    ):
        answered = client.post(f"{url}/v1/chat/completions", json=HELLO)
    assert answered.json() == json.loads(ANSWER)
    return path


def reading(command: str, cassette: Path) -> list[str]:
    """The arguments of `harness validate` or `harness cassettes check` reading ``cassette``."""
    if command == "validate":
        return ["validate", str(cassette)]
    return ["cassettes", "check", str(cassette.parent)]


@pytest.fixture
def vcrpy_cassette(tmp_path: Path) -> Path:
    return record_with_vcrpy(tmp_path / "vcrpy")


def test_vcrpy_stores_the_compressed_bytes_and_their_encoding(vcrpy_cassette: Path) -> None:
    # The case every reader must handle: what vcrpy writes, not a hand-made file.
    text = vcrpy_cassette.read_text(encoding="utf-8")
    assert "!!binary" in text
    assert "Content-Encoding:\n      - gzip" in text or "content-encoding:\n      - gzip" in text


def test_the_model_holds_the_decoded_body(vcrpy_cassette: Path) -> None:
    response = read_cassette(vcrpy_cassette).interactions[0].response
    assert response.body == ANSWER
    assert "content-encoding" not in {name.lower() for name in response.headers}
    assert response.media_type == "application/json"


def test_a_deflate_body_is_decoded_too(tmp_path: Path) -> None:
    path = record_with_vcrpy(tmp_path, "deflate")
    assert read_cassette(path).interactions[0].response.body == ANSWER


def test_validate_and_cassettes_check_agree_on_a_gzip_cassette(vcrpy_cassette: Path) -> None:
    validated = CliRunner().invoke(main, ["validate", str(vcrpy_cassette)])
    assert validated.exit_code == 0, validated.output
    assert "1 checked" in validated.output or "ok" in validated.output.lower()
    checked = CliRunner().invoke(main, ["cassettes", "check", str(vcrpy_cassette.parent)])
    assert checked.exit_code == 0, checked.output


def test_serve_replay_answers_the_decoded_body(vcrpy_cassette: Path, tmp_path: Path) -> None:
    replay = start_server(
        ["--replay", str(vcrpy_cassette.parent), "--workers", "1"], log_dir=tmp_path
    )
    try:
        answer = requests.post(
            f"{replay.base_url}/chat/completions",
            json=HELLO,
            headers={"Accept-Encoding": "identity", "Authorization": "Bearer test-key"},
            timeout=10,
        )
    finally:
        replay.stop()
    assert answer.status_code == 200
    assert "Content-Encoding" not in answer.headers
    assert answer.content == ANSWER


def test_harness_record_and_vcrpy_cassettes_read_alike(
    vcrpy_cassette: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "recorded"
    with serve_in_thread(compressing_upstream()) as url:
        proxy = start_recorder(url, folder, log_dir=tmp_path)
        try:
            with httpx.Client() as client:  # sends Accept-Encoding: gzip
                client.post(f"{proxy.url}/v1/chat/completions", json=HELLO, timeout=10)
        finally:
            proxy.stop()
    (recorded_file,) = folder.rglob("*.yaml")
    assert "!!binary" not in recorded_file.read_text(encoding="utf-8")  # stored decoded
    recorded = read_cassette(recorded_file).interactions[0].response
    from_vcrpy = read_cassette(vcrpy_cassette).interactions[0].response
    assert recorded.body == from_vcrpy.body == ANSWER
    assert recorded.media_type == from_vcrpy.media_type


@pytest.mark.parametrize("command", ["validate", "check"])
def test_a_broken_gzip_body_is_refused_alike(vcrpy_cassette: Path, command: str) -> None:
    text = vcrpy_cassette.read_text(encoding="utf-8")
    # Cut the compressed body short: the base64 of its first bytes only.
    start = text.index("!!binary |") + len("!!binary |")
    line_end = text.index("\n", text.index("\n", start) + 1)
    body_end = text.index("\n    headers:", line_end)
    vcrpy_cassette.write_text(text[:line_end] + text[body_end:], encoding="utf-8")
    result = CliRunner().invoke(main, reading(command, vcrpy_cassette))
    assert result.exit_code == 2, result.output
    assert "interaction 0: `response.body.string` is gzip but cannot be decoded" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["validate", "check"])
def test_a_body_that_decodes_past_the_limit_is_refused_alike(
    vcrpy_cassette: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A "zip bomb": a few kilobytes that decode to far more than any answer.
    monkeypatch.setattr(cassette_module, "MAX_DECODED_BODY", len(ANSWER) - 1)
    result = CliRunner().invoke(main, reading(command, vcrpy_cassette))
    assert result.exit_code == 2, result.output
    assert f"decodes to more than {len(ANSWER) - 1:,} bytes" in result.output


def test_a_real_zip_bomb_is_refused_at_the_limit(tmp_path: Path) -> None:
    # 80 MiB of zeros in about 80 KB of gzip; read up to the limit and no further.
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    chunk = bytes(1024 * 1024)
    bomb = b"".join(packer.compress(chunk) for _ in range(80)) + packer.flush()
    path = record_with_vcrpy(tmp_path)
    text = path.read_text(encoding="utf-8")
    start = text.index("!!binary |") + len("!!binary |\n")
    body_end = text.index("\n    headers:", start)
    encoded = base64.encodebytes(bomb).decode("ascii")
    body = "".join(f"        {line}\n" for line in encoded.splitlines())
    path.write_text(text[:start] + body.rstrip("\n") + text[body_end:], encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert f"is gzip and decodes to more than {64 * 1024 * 1024:,} bytes" in result.output


def test_a_text_body_is_taken_as_stored_whatever_its_encoding_header(tmp_path: Path) -> None:
    # What a hand-edited cassette (or vcrpy's own decoder, when it gives up) leaves.
    path = record_with_vcrpy(tmp_path)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["interactions"][0]["response"]["body"]["string"] = ANSWER.decode()
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    assert read_cassette(path).interactions[0].response.body == ANSWER
    assert CliRunner().invoke(main, ["validate", str(path)]).exit_code == 0


def test_a_cassette_from_vcrpys_json_serializer_is_read_by_every_command(
    tmp_path: Path,
) -> None:
    # pytest-recording with serializer="json" writes *.json cassettes: `harness validate`
    # read them, while `cassettes check` and `serve --replay` skipped them without a word.
    folder = tmp_path / "json"
    path = folder / "chat.json"
    with (
        serve_in_thread(compressing_upstream()) as url,
        vcr.VCR(serializer="json").use_cassette(str(path)),
        httpx.Client(headers={"Accept-Encoding": "identity"}) as client,  # JSON holds text
    ):
        client.post(f"{url}/v1/chat/completions", json=HELLO)
    (folder / "report.json").write_text('{"not": "a cassette"}')  # left alone
    checked = CliRunner().invoke(main, ["cassettes", "check", str(folder)])
    assert checked.exit_code == 0, checked.output
    assert "1 cassette" in checked.output, checked.output
    replay = start_server(["--replay", str(folder), "--workers", "1"], log_dir=tmp_path)
    try:
        answer = requests.post(
            f"{replay.base_url}/chat/completions",
            json=HELLO,
            headers={"Authorization": "Bearer test-key"},
            timeout=10,
        )
    finally:
        replay.stop()
    assert answer.status_code == 200, answer.text
    assert answer.content == ANSWER
