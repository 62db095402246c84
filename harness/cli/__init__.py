"""The ``harness`` command: one thin module per subcommand."""

from __future__ import annotations

import click

from harness import __version__
from harness.cli.cassettes import cassettes
from harness.cli.contract import contract
from harness.cli.record import record
from harness.cli.serve import serve
from harness.cli.validate import validate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="harness")
def main() -> None:
    """Mock and contract-test harness for the AIML API (OpenAI-compatible)."""


main.add_command(serve)
main.add_command(validate)
main.add_command(contract)
main.add_command(record)
main.add_command(cassettes)

__all__ = ["main"]
