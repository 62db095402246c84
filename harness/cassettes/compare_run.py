"""One ``harness cassettes compare`` run: read the inputs, compare, write the reports.

The CLI command starts the default target (the mock, in-process) and hands its URL here, so
this module, like the rest of the contract library, never reaches into ``mockserver``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.cassettes.cassette import Cassette, CassetteError, read_cassettes
from harness.cassettes.compare import CompareReport, compare_cassettes, normalize_target
from harness.cassettes.compare_baseline import Baseline, load_baseline
from harness.cassettes.compare_report import render_html, render_junit, render_text
from harness.errors import UsageError


@dataclass(frozen=True)
class CompareOptions:
    directory: Path
    target: str
    api_key: str
    html_file: Path | None = None
    junit_file: Path | None = None
    baseline_file: Path | None = None


def check_inputs(options: CompareOptions) -> tuple[list[Cassette], Baseline]:
    """Everything that can be wrong before a request is sent, as one-line UsageErrors."""
    if not options.directory.is_dir():
        raise UsageError(f"{options.directory}: not a folder of cassettes")
    normalize_target(options.target)
    try:
        cassettes = read_cassettes(options.directory)
    except CassetteError as exc:
        raise UsageError("cannot read the cassettes: " + "; ".join(exc.problems)) from exc
    if not any(cassette.interactions for cassette in cassettes):
        raise UsageError(f"{options.directory}: the cassettes hold no interactions")
    baseline = load_baseline(options.baseline_file) if options.baseline_file else Baseline()
    for path in (options.html_file, options.junit_file):
        if path is not None and not path.parent.is_dir():
            raise UsageError(f"{path}: its folder does not exist")
    return list(cassettes), baseline


def run_compare(options: CompareOptions, echo: Callable[[str], None]) -> CompareReport:
    """Compare, print the text report through ``echo``, write the files asked for."""
    cassettes, baseline = check_inputs(options)
    report = compare_cassettes(
        cassettes,
        options.target,
        api_key=options.api_key,
        baseline=baseline,
        directory=str(options.directory),
    )
    echo(render_text(report))
    for path, render in ((options.html_file, render_html), (options.junit_file, render_junit)):
        if path is None:
            continue
        try:
            path.write_text(render(report), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return report
