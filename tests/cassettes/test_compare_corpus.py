"""The shipped real-traffic corpus: in step with the evidence, and the mock answers it cleanly.

This is the CI run of ``harness cassettes compare cassettes/``: the documented cassettes, the
evidence cassettes and the recordings of the mock, against the mock started for the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

from harness.cassettes import read_cassettes
from tests.cassettes.conftest import REPO, SHIPPED

BASELINE = SHIPPED / ".compare-baseline.yaml"
SCRIPT = REPO / "scripts" / "build_evidence_cassettes.py"


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
        env=dict(os.environ),
    )


def test_the_evidence_cassettes_are_what_the_script_builds_from_the_evidence(
    tmp_path: Path,
) -> None:
    subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path)], check=True, capture_output=True
    )
    built = {path.name: path.read_bytes() for path in tmp_path.glob("*.yaml")}
    shipped = {path.name: path.read_bytes() for path in (SHIPPED / "evidence").glob("*.yaml")}
    assert built, "no evidence answer became a cassette"
    assert sorted(shipped) == sorted(built), "run scripts/build_evidence_cassettes.py"
    for name, text in built.items():
        assert shipped[name] == text, f"{name} is stale: run scripts/build_evidence_cassettes.py"
    for cassette in read_cassettes(SHIPPED / "evidence"):
        assert cassette.source["source"] == "documented"


def test_the_mock_answers_the_shipped_corpus_with_the_recorded_structure(tmp_path: Path) -> None:
    page, junit = tmp_path / "compare.html", tmp_path / "compare.xml"
    result = run(
        "cassettes",
        "compare",
        "cassettes/",
        "--baseline",
        str(BASELINE),
        "--html",
        str(page),
        "--junit",
        str(junit),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: the target answers with the recorded structure" in result.stdout
    # Every accepted difference still happens: a baseline entry that accepts nothing is stale.
    assert "Stale baseline entries" not in result.stdout, result.stdout
    interactions = sum(len(c.interactions) for c in read_cassettes(SHIPPED))
    assert f"Compared {interactions} of {interactions} recorded interactions" in result.stdout

    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("tests") == str(interactions)
    assert (suite.get("failures"), suite.get("errors")) == ("0", "0")
    assert len(suite.findall("testcase")) == interactions

    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<script>" in html
    assert 'id="findings"' in html and 'id="filter"' in html
    # Self-contained: nothing is fetched from anywhere.
    for outside in ("src=", "<link", "http://cdn", "https://"):
        assert outside not in html, outside
