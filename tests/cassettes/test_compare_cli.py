"""`harness cassettes compare` as a command: exit codes, baselines, usage errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from tests.cassettes.conftest import SHIPPED
from tests.fixtures.servers import free_port

DOCUMENTED_CHAT = SHIPPED / "documented" / "chat-completion.yaml"
ACCEPT_SERVICE_TIER = """
- operation: POST /v1/chat/completions
  location: /service_tier
  aspect: presence
  recorded: absent
  target: string
  reason: the documentation's example leaves it out; the live API sends it
"""


def compare(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["cassettes", "compare", *args])
    return result.exit_code, result.output


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """One documented chat completion, which the mock answers with service_tier added."""
    folder = tmp_path / "cassettes"
    (folder / "documented").mkdir(parents=True)
    shutil.copy(DOCUMENTED_CHAT, folder / "documented" / DOCUMENTED_CHAT.name)
    return folder


def test_a_new_difference_fails_and_a_baseline_entry_accepts_it(
    corpus: Path, tmp_path: Path
) -> None:
    code, output = compare(str(corpus))
    assert code == 1, output
    assert "/service_tier  [presence]" in output and "FAILED: 1 new differences" in output

    baseline = tmp_path / "baseline.yaml"
    baseline.write_text(ACCEPT_SERVICE_TIER, encoding="utf-8")
    code, output = compare(str(corpus), "--baseline", str(baseline))
    assert code == 0, output
    assert (
        "POST /v1/chat/completions  /service_tier  [presence] absent -> string  (1x, entry 1)"
        in output
    )
    assert "OK: the target answers with the recorded structure (1 accepted" in output


def test_an_entry_scoped_to_other_cassettes_accepts_nothing_here_and_is_stale(
    corpus: Path, tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text(
        ACCEPT_SERVICE_TIER.replace("- operation:", "- cassette: evidence/*\n  operation:"),
        encoding="utf-8",
    )
    code, output = compare(str(corpus), "--baseline", str(baseline))
    assert code == 1, output
    assert "Stale baseline entries, matching nothing (1):" in output
    assert "entry 1: POST /v1/chat/completions /service_tier in evidence/*" in output


def test_an_unreachable_target_names_the_interaction_and_exits_2(corpus: Path) -> None:
    # Nothing compared is not a difference: 2, as for bad input, so CI tells "the API
    # drifted" (1) from "the target was down" (it was 1 as well).
    secret = "sk-never-printed-0123456789"
    port = free_port()
    code, output = compare(
        str(corpus), "--target", f"http://127.0.0.1:{port}/v1", "--api-key", secret
    )
    assert code == 2, output
    assert "Not compared (1):" in output and "chat-completion.yaml#0: ConnectError" in output
    assert f"no interaction could be sent to http://127.0.0.1:{port}" in output
    assert secret not in output


@pytest.mark.parametrize(
    ("args", "baseline", "message"),
    [
        pytest.param(["{missing}"], None, "not a folder of cassettes", id="no-folder"),
        pytest.param(
            ["{empty}"], None, "no cassettes (*.yaml, *.yml, vcrpy's *.json)", id="no-cassettes"
        ),
        pytest.param(
            ["{corpus}", "--target", "ftp://example.org"],
            None,
            "--target must be an http(s) URL",
            id="bad-target",
        ),
        pytest.param(
            ["{corpus}", "--baseline", "{baseline}"],
            "- location: /x\n  reason: r\n  pointer: /y\n",
            "entry 1: unknown key(s) pointer",
            id="baseline-unknown-key",
        ),
        pytest.param(
            ["{corpus}", "--baseline", "{baseline}"],
            "- location: /x\n",
            "entry 1: `reason` is required",
            id="baseline-without-reason",
        ),
        pytest.param(
            ["{corpus}", "--baseline", "{baseline}"],
            "location: /x\n",
            "a baseline is a list of entries",
            id="baseline-not-a-list",
        ),
        pytest.param(
            ["{corpus}", "--html", "{missing}/report.html"],
            None,
            "its folder does not exist",
            id="html-folder-missing",
        ),
        pytest.param(["{broken}"], None, "cannot read the cassettes: ", id="broken-cassette"),
    ],
)
def test_usage_errors_exit_2_with_a_one_line_message(
    corpus: Path, tmp_path: Path, args: list[str], baseline: str | None, message: str
) -> None:
    (tmp_path / "empty").mkdir()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "bad.yaml").write_text("interactions: [\n  - {request: ", encoding="utf-8")
    baseline_path = tmp_path / "baseline.yaml"
    if baseline is not None:
        baseline_path.write_text(baseline, encoding="utf-8")
    places = {
        "corpus": str(corpus),
        "missing": str(tmp_path / "missing"),
        "empty": str(tmp_path / "empty"),
        "broken": str(broken),
        "baseline": str(baseline_path),
    }
    code, output = compare(*(arg.format(**places) for arg in args))
    assert code == 2, output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), output
    assert message in lines[0]
