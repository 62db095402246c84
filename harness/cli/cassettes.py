"""``harness cassettes check``: report the drift between recorded wire and the specs."""

from __future__ import annotations

from pathlib import Path

import click


class _BadInput(click.ClickException):
    """Unreadable cassettes or specs: exit status 2, as for bad usage."""

    exit_code = 2


@click.group()
def cassettes() -> None:
    """Work with recorded vcrpy cassettes."""


@cassettes.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report as a self-contained HTML page.",
)
@click.option(
    "--specs",
    "specs_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A specs folder (published documents + overlays); default: the shipped specs.",
)
def check(directory: Path, html_file: Path | None, specs_dir: Path | None) -> None:
    """Validate every interaction under DIRECTORY with and without the overlays.

    Lists the published-spec rules the recorded wire breaks (by operation, JSON-pointer
    pattern and kind), how often, an example, and the overlay action that covers each.
    Exit status: 0 when every violation is covered by an overlay, 1 when some are not,
    2 when a cassette or the specs cannot be read.
    """
    from harness.cassettes.cassette import CassetteError, read_cassettes
    from harness.cassettes.drift import check_drift
    from harness.cassettes.report import render_html, render_text
    from harness.errors import HarnessError
    from harness.spec import load_specs

    try:
        found = read_cassettes(directory)
        specs = load_specs(specs_dir)
    except CassetteError as exc:
        raise _BadInput("cannot read the cassettes:\n  " + "\n  ".join(exc.problems)) from exc
    except HarnessError as exc:
        raise _BadInput(str(exc)) from exc
    report = check_drift(found, specs, directory=str(directory))
    click.echo(render_text(report), nl=False)
    if html_file is not None:
        try:
            html_file.write_text(render_html(report), encoding="utf-8")
        except OSError as exc:
            raise _BadInput(f"cannot write {html_file}: {exc.strerror}") from exc
        click.echo(f"HTML report: {html_file}", err=True)
    if report.uncovered:
        raise SystemExit(1)


@cassettes.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--target",
    metavar="URL",
    help="A running server (http://host:port or …/v1); default: the mock, started for the run.",
)
@click.option(
    "--api-key",
    envvar="AIMLAPI_API_KEY",
    show_envvar=True,
    help="Sent as the bearer key to --target (never printed).",
)
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report as a self-contained HTML page (sortable, filterable).",
)
@click.option(
    "--junit",
    "junit_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write JUnit XML: one test case per interaction.",
)
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A YAML list of accepted differences, each with its reason.",
)
def compare(
    directory: Path,
    target: str | None,
    api_key: str | None,
    html_file: Path | None,
    junit_file: Path | None,
    baseline_file: Path | None,
) -> None:
    """Send every recorded request under DIRECTORY to a target; compare the answers.

    Compared by structure, never by content: status, the error envelope, keys at every JSON
    pointer, null versus absent, JSON types, enum-like values, id prefixes and lengths, the
    order of stream event kinds and their keys, the headers clients read.
    Exit status: 0 when nothing new differs, 1 when something does, 2 on bad input or when
    no interaction could be sent (the target is down).
    """
    from harness.cassettes.compare_run import CompareOptions, check_inputs, run_compare
    from harness.errors import UsageError

    # The mock started for the run gets a key of its own; the recorded 401s need one.
    key = api_key or "sk-harness-compare"
    options = CompareOptions(
        directory, target or "http://127.0.0.1", key, html_file, junit_file, baseline_file
    )
    try:
        check_inputs(options)
        if target is not None:
            report = run_compare(options, lambda text: click.echo(text, nl=False))
        else:
            # The composition root: the default target is the mock, in this process.
            from harness.testing import LiveServer
            from mockserver import MockConfig

            with LiveServer(MockConfig(api_key=key)) as server:
                options = CompareOptions(
                    directory, server.url, key, html_file, junit_file, baseline_file
                )
                report = run_compare(options, lambda text: click.echo(text, nl=False))
    except UsageError as exc:
        raise _BadInput(" ".join(str(exc).split())) from exc
    for path, name in ((html_file, "HTML report"), (junit_file, "JUnit report")):
        if path is not None:
            click.echo(f"{name}: {path}", err=True)
    if report.results and len(report.errors) == len(report.results):
        # Nothing reached the target (down, wrong address): not a difference, so CI can tell
        # "the API drifted" (1) from "the run could not compare anything" (2).
        raise _BadInput(f"no interaction could be sent to {options.target}")
    if not report.clean:
        raise SystemExit(1)
