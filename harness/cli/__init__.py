"""The ``harness`` command: one thin module per subcommand."""

from __future__ import annotations

import click

from harness import __version__
from harness.cli.serve import serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="harness")
def main() -> None:
    """Mock and contract-test harness for the AIML API (OpenAI-compatible)."""


main.add_command(serve)

__all__ = ["main"]
