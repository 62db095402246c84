"""`harness serve`'s defaults are the mock's own (the CLI keeps literals to start fast)."""

from __future__ import annotations

import click

from harness.cli.serve import serve
from mockserver.config import MockConfig


def _default(name: str) -> object:
    for param in serve.params:
        if isinstance(param, click.Option) and param.name == name:
            return param.default
    raise AssertionError(f"no option {name}")


def test_the_limits_options_default_to_the_configs_values() -> None:
    config = MockConfig()
    assert _default("max_body_bytes") == config.max_body_bytes
    assert _default("context_window") == config.context_window
