"""The ``harness`` command: one thin module per subcommand, each loaded when it is run.

A subcommand's module is imported only when that subcommand runs (or help lists them all):
``harness serve`` then never loads the cassette machinery (vcrpy, which brings httpx and
requests) that ``validate``, ``record`` and ``cassettes`` need. The server's workers are
forked from that process, so everything it imports is in every worker's memory; loading
them all cost about 14 MB of RSS per worker and 0.14 s of start-up. The
group is click's documented lazy-loading recipe; click itself does not ship one.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from harness import __version__

# Each subcommand: "module:attribute" of its click command.
SUBCOMMANDS = {
    "serve": "harness.cli.serve:serve",
    "validate": "harness.cli.validate:validate",
    "contract": "harness.cli.contract:contract",
    "record": "harness.cli.record:record",
    "cassettes": "harness.cli.cassettes:cassettes",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported when they are looked up."""

    def __init__(self, *args: Any, lazy_subcommands: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = lazy_subcommands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy_subcommands])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = self.lazy_subcommands.get(cmd_name)
        if where is None:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = where.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{where} is not a click command")
        return command


@click.group(
    cls=LazyGroup,
    lazy_subcommands=SUBCOMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="harness")
def main() -> None:
    """Mock and contract-test harness for the AIML API (OpenAI-compatible)."""


__all__ = ["main"]
