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
