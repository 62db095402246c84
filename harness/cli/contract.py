"""``harness contract``: property-based contract tests of a target (mock, real API, replay)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from harness.errors import HarnessError

if TYPE_CHECKING:
    from rich.console import Console

    from harness.contract import ContractReport, Progress

API_KEY_ENV = "AIMLAPI_API_KEY"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
COLUMNS = ("requests", "positive", "negative", "streamed", "2xx", "4xx", "5xx", "failures", "known")

BASELINE_HELP = """\b
Baseline file (--baseline): a YAML or JSON list of accepted failures, e.g.
  - operation: POST /v1/chat/completions  # optional; operationId, METHOD /path, chat, responses
    check: not_a_server_error             # required; a check name as the report prints it
    message: "HTTP 503"                   # optional regex searched in the failure text
    reason: known upstream bug            # optional note
A failure matched by an entry is reported as known and does not fail the run; entries that
matched nothing are listed as stale. Unknown keys, checks or operations are errors."""


@click.command(epilog=BASELINE_HELP)
@click.option(
    "--base-url",
    required=True,
    help="The target: http://host:port or .../v1. Requests go nowhere else.",
)
@click.option(
    "--api-key",
    envvar=API_KEY_ENV,
    show_envvar=True,
    help="Bearer key sent in Authorization (never printed).",
)
@click.option(
    "--max-examples",
    default=25,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Generated cases per operation in the fuzzing phase (schemathesis's example and "
    "coverage phases add their own deterministic cases).",
)
@click.option("--seed", type=int, help="Seed for a reproducible run (default: random, printed).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--mode",
    type=click.Choice(["positive", "negative", "all"]),
    default="positive",
    show_default=True,
    help="positive: spec-valid requests must be accepted; negative: requests the spec "
    "forbids must get a 4xx JSON error, never a 5xx.",
)
@click.option(
    "--junit",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write a JUnit XML report here.",
)
@click.option(
    "--baseline",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Known failures to accept (format below).",
)
def contract(
    base_url: str,
    api_key: str | None,
    max_examples: int,
    seed: int | None,
    workers: int,
    mode: str,
    junit: Path | None,
    baseline: Path | None,
) -> None:
    """Property-based contract tests of both endpoints with schemathesis.

    Every JSON body and every stream event is checked against the specs with overlays;
    streams must frame and order correctly, usage must add up and finish reasons must
    fit the request. Exit status: 0 no new failures, 1 failures or errors, 2 bad usage.
    """
    # Lazy: schemathesis takes a while to import, and only this command needs it.
    from harness.contract import run_contract, write_junit

    if junit is not None and not junit.parent.is_dir():
        # Found before the run, not after minutes of it (the run printed OK, then exited 2).
        raise click.BadParameter(f"{junit.parent} is not a folder", param_hint="--junit")
    if not api_key:
        click.echo("harness contract: no API key given; sending no Authorization", err=True)
    display = LiveProgress() if sys.stderr.isatty() else None
    try:
        with display or contextlib.nullcontext():
            report = run_contract(
                base_url,
                api_key=api_key,
                max_examples=max_examples,
                seed=seed,
                workers=workers,
                mode=mode,
                baseline=baseline,
                on_progress=display.update if display else _show_progress,
            )
    except HarnessError as exc:
        raise click.UsageError(str(exc)) from exc
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    for line in summary_lines(report):
        click.echo(line)
    if junit is not None:
        try:
            write_junit(report, junit)
        except OSError as exc:
            click.echo(f"harness contract: cannot write {junit}: {exc}", err=True)
            sys.exit(EXIT_USAGE)
    sys.exit(EXIT_OK if report.ok else EXIT_FAILED)


def _show_progress(progress: Progress) -> None:
    """A plain line per finished batch, for logs and CI (stderr is not a terminal)."""
    if progress.outcome == "skipped":
        return
    color = "green" if progress.outcome == "ok" else "red"
    mark = click.style(progress.outcome, fg=color)
    streams = f", {progress.streamed} streamed" if progress.streamed else ""
    where = f"{progress.phase:<9} {progress.operation:<28}"
    step = f"[{progress.step}/{progress.steps}] " if progress.steps else ""
    requests = f"{progress.requests:>4} request{'' if progress.requests == 1 else 's'}"
    line = f"  {step}{where} {requests}{streams}  {mark}"
    click.echo(line, err=True)


class LiveProgress:
    """A progress bar on the terminal: batches done, requests, failures, time left."""

    def __init__(self, console: Console | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        self._bar = Bar(
            TextColumn("{task.description:<40}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        self._task = self._bar.add_task("starting", total=None, counts="")

    def __enter__(self) -> LiveProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def update(self, progress: Progress) -> None:
        failures = progress.failures
        counts = f"{progress.sent} requests, {failures} failure{'s' if failures != 1 else ''}"
        if progress.outcome == "refused":
            counts += ", refused (401/403)"
        self._bar.update(
            self._task,
            description=f"{progress.phase} {progress.operation}",
            completed=progress.step,
            total=progress.steps or None,
            counts=counts,
        )


def summary_lines(report: ContractReport) -> list[str]:
    """The end-of-run summary: a table per operation, then every failure and error."""
    header = f"{'operation':<28} " + " ".join(f"{name:>8}" for name in COLUMNS)
    lines = ["", header, "-" * len(header)]
    for operation, stats in sorted(report.operations.items()):
        by_class = {
            n: sum(c for s, c in stats.statuses.items() if s // 100 == n) for n in (2, 4, 5)
        }
        found = [f for f in report.failures if f.operation == operation]
        new = sum(1 for f in found if f.known is None)
        row = [stats.requests, stats.positive, stats.negative, stats.streamed]
        row += [by_class[2], by_class[4], by_class[5], new, len(found) - new]
        lines.append(f"{operation:<28} " + " ".join(f"{value:>8}" for value in row))
    for failure in report.new_failures:
        lines += ["", f"FAILED {failure.check} on {failure.operation} ({failure.occurrences}x)"]
        lines += [f"  {line}" for line in failure.text.splitlines() if line.strip()]
        if failure.reproduce:
            lines.append(f"  reproduce: {failure.reproduce}")
    for failure in report.known_failures:
        reason = failure.known.reason if failure.known and failure.known.reason else "baseline"
        lines.append(f"known  {failure.check} on {failure.operation}: {failure.title} ({reason})")
    for entry in report.stale_baseline:
        lines.append(f"stale baseline entry (matched nothing): {entry.describe()}")
    for error in report.errors:
        repeated = report.error_counts[error]
        lines.append(f"ERROR  {error}" + (f" ({repeated}x)" if repeated > 1 else ""))
    verdict = "OK" if report.ok else "FAILED"
    counts = (
        f"{len(report.new_failures)} new failure(s), {len(report.known_failures)} known, "
        f"{len(report.errors)} error(s)"
    )
    rerun = f"seed {report.seed} (rerun with --seed {report.seed})"
    run = f"{report.base_url}, mode {report.mode}, {rerun}, {report.elapsed:.1f}s"
    lines += ["", f"{verdict}: {counts}; {run}"]
    return lines
