"""A "billion laughs" cassette is refused at once by every command that reads cassettes.

Each command runs in a subprocess with a timeout, so a regression fails instead of hanging.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.cassettes import CassetteError, find_cassette_files, read_cassette
from harness.cassettes.yamlfile import MAX_ALIAS_EXPANSION, load_cassette_yaml
from tests.cassettes.conftest import SHIPPED
from tests.fixtures.servers import free_port

COMMAND_TIMEOUT_S = 30
LAUGHS = "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)
INTERACTION = """\
interactions:
- request:
    method: POST
    uri: http://x/v1/chat/completions
    body: {request_body}
    headers: {{}}
  response:
    status: {{code: 200, message: OK}}
    headers: {{content-type: [application/json]{extra_header}}}
    body: {{string: {response_body}}}
version: 1
"""


def laughs_cassette(
    *, request_body: str = "null", response_body: str = "'{}'", extra_header: str = ""
) -> str:
    return (
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + LAUGHS
        + INTERACTION.format(
            request_body=request_body, response_body=response_body, extra_header=extra_header
        )
    )


# Where the expansion sits: each place some reader walks (or shows in an error message).
HOSTILE = {
    "response-body": laughs_cassette(response_body="*i"),
    "request-body": laughs_cassette(request_body="*i"),
    "response-header": laughs_cassette(extra_header=", x-laughs: *i"),
    "unused-top-level-key": laughs_cassette(),
    # The same through merge keys (<<), which copy the merged pairs into each mapping.
    "merge-keys": (
        "a: &a {x1: lol, x2: lol, x3: lol, x4: lol, x5: lol, x6: lol, x7: lol, x8: lol}\n"
        + "".join(
            f"{name}: &{name} {{<<: [{', '.join([f'*{previous}'] * 9)}]}}\n"
            for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
        )
        + INTERACTION.format(request_body="null", response_body="'{}'", extra_header="")
    ),
}
RECURSIVE = "interactions: &loop [*loop]\nversion: 1\n"


# The commands run on two shapes (each a subprocess start); the library readers on all.
COMMAND_SHAPES = ["response-body", "response-header"]


@pytest.fixture(params=sorted(HOSTILE))
def hostile(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    folder = tmp_path / "hostile"
    folder.mkdir()
    path = folder / f"{request.param}.yaml"
    path.write_text(HOSTILE[request.param], encoding="utf-8")
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )


def test_the_reproducer_is_small() -> None:
    assert len(HOSTILE["response-body"].encode()) < 700


def assert_refused(output: str, path: Path) -> None:
    assert str(path) in output, output
    assert f"{MAX_ALIAS_EXPANSION:,}" in output and "aliases" in output, output


@pytest.mark.parametrize("hostile", COMMAND_SHAPES, indirect=True)
def test_cassettes_check_refuses_it(hostile: Path) -> None:
    done = run("cassettes", "check", str(hostile.parent))
    assert done.returncode == 2, done
    assert_refused(done.stderr, hostile)


@pytest.mark.parametrize("hostile", COMMAND_SHAPES, indirect=True)
def test_validate_refuses_it(hostile: Path) -> None:
    done = run("validate", str(hostile))
    assert done.returncode == 2, done
    assert_refused(done.stderr, hostile)


@pytest.mark.parametrize("hostile", COMMAND_SHAPES, indirect=True)
def test_serve_replay_refuses_it_at_start(hostile: Path) -> None:
    port = str(free_port())
    done = run("serve", "--replay", str(hostile.parent), "--host", "127.0.0.1", "--port", port)
    assert done.returncode == 1, done
    assert_refused(done.stderr, hostile)


READ_BOTH_WAYS = """
import sys
from pathlib import Path
from harness.cassettes import CassetteError, find_cassette_files, read_cassette
from harness.inputs import InputError, read_input
try:
    read_cassette(Path(sys.argv[1]))
except CassetteError as exc:
    print("read_cassette:", exc)
try:
    read_input(sys.argv[1])
except InputError as exc:
    print("read_input:", exc)
"""


def test_both_library_readers_refuse_it(hostile: Path) -> None:
    # In a child process too, so that a regression times out instead of hanging the suite.
    done = subprocess.run(
        [sys.executable, "-c", READ_BOTH_WAYS, str(hostile)],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=True,
    )
    cassette_line, input_line = done.stdout.splitlines()
    assert cassette_line.startswith(f"read_cassette: {hostile}: YAML aliases"), cassette_line
    assert input_line.startswith("read_input: YAML aliases"), input_line
    assert "100,000" in cassette_line and "100,000" in input_line


def test_a_self_referring_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text(RECURSIVE, encoding="utf-8")
    with pytest.raises(CassetteError, match="refers to a node that contains it"):
        read_cassette(path)
    done = run("validate", str(path))
    assert done.returncode == 2 and "refers to a node that contains it" in done.stderr, done


def test_a_few_aliases_are_still_read(tmp_path: Path) -> None:
    # PyYAML's dumper writes an alias for a list shared by two interactions; that is fine.
    shared = {"content-type": ["application/json"]}
    interaction = {
        "request": {"body": None, "headers": shared, "method": "GET", "uri": "http://x/v1/models"},
        "response": {
            "body": {"string": "{}"},
            "headers": shared,
            "status": {"code": 200, "message": "OK"},
        },
    }
    text = yaml.dump({"interactions": [interaction, interaction], "version": 1})
    assert "&id" in text and "*id" in text
    path = tmp_path / "shared.yaml"
    path.write_text(text, encoding="utf-8")
    assert len(read_cassette(path).interactions) == 2


def test_just_past_the_limit_is_refused_and_just_under_is_read() -> None:
    # A 998-character string repeated through aliases weighs 999 a repeat (its characters
    # and its node): 100 repeats (99,900) pass, 101 (100,899) do not.
    def document(repeats: int) -> str:
        return f"a: &a '{'x' * 998}'\nb: [{', '.join(['*a'] * repeats)}]\n"

    assert load_cassette_yaml(document(100))["b"][0] == "x" * 998
    with pytest.raises(yaml.YAMLError, match="100,000"):
        load_cassette_yaml(document(101))


def test_a_large_document_may_repeat_as_much_as_it_writes_out() -> None:
    big = "x" * 199_998  # 199,999 with its node: past the fixed limit, within the document
    assert load_cassette_yaml(f"a: &a '{big}'\nb: *a\n")["b"] == big
    with pytest.raises(yaml.YAMLError, match="the limit is 100,000"):
        load_cassette_yaml(f"a: &a '{big}'\nb: [*a, *a]\n")


def test_every_shipped_cassette_is_still_read() -> None:
    for path in find_cassette_files(SHIPPED):
        assert read_cassette(path).interactions, path
