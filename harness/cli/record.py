"""``harness record``: a recording proxy that writes vcrpy cassettes, secrets scrubbed."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import click

DEFAULT_PORT = 8081


@click.command()
@click.option(
    "--upstream",
    required=True,
    metavar="URL",
    help="The API to record, e.g. https://api.aimlapi.com (a path prefix such as /v1 is kept).",
)
@click.option(
    "--cassettes",
    "cassettes_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the cassettes (created if missing; existing cassettes are appended to).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=DEFAULT_PORT,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port, printed at start).",
)
@click.option(
    "--api-key-env",
    metavar="VAR",
    help="Send the key in this environment variable upstream instead of the client's key.",
)
def record(
    upstream: str, cassettes_dir: Path, host: str, port: int, api_key_env: str | None
) -> None:
    """Proxy to URL and record every exchange into cassettes.

    Point a client's base_url at the printed URL. One cassette per endpoint
    (chat_completions.yaml, responses.yaml), or per name sent in an X-Harness-Cassette
    header. Authorization, api-key, cookies, OpenAI-Organization, OpenAI-Project and any
    header or query parameter named like a key are never written; nor is any of their values
    anywhere else (any letter case, URL-encoded, JSON-escaped or base64), except the
    client's own key under --api-key-env: a placeholder that goes nowhere, left where it
    appears. The proxy keeps no cookies: a cookie the upstream sets reaches only the client
    it answered.
    """
    from harness.cassettes.recorder import RecorderConfig, serve_recorder

    parts = urlsplit(upstream)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(f"{upstream!r} is not an http(s) URL", param_hint="--upstream")
    if parts.username is not None or parts.password is not None:
        # Refused, not stripped: it was written into every cassette's uri and printed at
        # start, and the client sent it upstream as Basic auth in place of its bearer key.
        shown = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
        raise click.BadParameter(
            f"credentials in the URL would be written into every cassette; use {shown} "
            "and pass the key with --api-key-env",
            param_hint="--upstream",
        )
    api_key = None
    if api_key_env is not None:
        api_key = os.environ.get(api_key_env, "").strip()
        if not api_key:
            raise click.BadParameter(
                f"the environment variable {api_key_env} is not set or empty",
                param_hint="--api-key-env",
            )
    try:
        cassettes_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(f"cannot create {cassettes_dir}: {exc.strerror}") from exc
    _log_recordings()
    config = RecorderConfig(upstream=upstream, cassettes_dir=cassettes_dir, api_key=api_key)

    def announce(url: str) -> None:
        click.echo(
            f"Recording {upstream} at {url}/v1 into {cassettes_dir}  (Ctrl-C to stop)", err=True
        )

    try:
        serve_recorder(config, host=host, port=port, announce=announce)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


def _log_recordings() -> None:
    """One line per recorded interaction on stderr.

    Only the recorder's logger is turned up: httpx logs every request URL at INFO, and a URL
    may carry a key in its query.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("harness.record")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
