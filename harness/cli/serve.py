"""``harness serve``: run the mock under a production WSGI server."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

if TYPE_CHECKING:
    from flask import Flask

    from mockserver import MockConfig

# Kept here, not imported from mockserver.serving, so `harness --help` does not load the mock.
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")

DEFAULT_WORKERS = 2
# Chosen by measurement (benchmarks/bench_serve.py; the figures are in the README's table):
# granian answers over twice the plain requests gunicorn's gthread workers do, with a
# lower p99, and streams start sooner. On its RSGI interface (mockserver/rsgi_bridge.py)
# against its WSGI one, side by side in three runs: p99 halved (varied chat at 32
# connections: 11 to 17 ms against 25 to 44), plain requests 5 to 15 % fewer a second,
# streams from 4 % fewer to 17 % more; and a waiting answer or a slow client's body holds
# no thread. The replay server is a plain
# Flask app that granian's workers cannot rebuild, so --replay runs under gthread.
DEFAULT_SERVER = "granian-rsgi"
REPLAY_SERVER = "gthread"
# Threads per worker: under a WSGI server each open stream holds one, so enough of them
# keep long streams from starving plain requests. (Under granian-rsgi only the admin API
# and a Redis store's requests use them.)
DEFAULT_THREADS = 64


ENV_PREFIX = "HARNESS_"


def _env(name: str) -> dict[str, Any]:
    """An option's environment variable (``HARNESS_<NAME>``), shown in ``--help``."""
    return {"envvar": f"{ENV_PREFIX}{name}", "show_envvar": True}


@click.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on.", **_env("HOST")
)
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port, printed at start).",
    **_env("PORT"),
)
@click.option(
    "--workers",
    default=DEFAULT_WORKERS,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (each answers requests on its own; they share the state file).",
    **_env("WORKERS"),
)
@click.option(
    "--threads",
    default=DEFAULT_THREADS,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Threads per worker: under granian-rsgi, for the admin API and every request on a "
    "Redis store; under the WSGI servers, for every request (each open stream uses one).",
    **_env("THREADS"),
)
@click.option(
    "--specs",
    "specs_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A specs folder (published documents + overlays); default: the shipped specs.",
    **_env("SPECS"),
)
@click.option(
    "--api-key",
    help="Accept only this bearer key (default: any non-empty key).",
    **_env("API_KEY"),
)
@click.option(
    "--state",
    metavar="FILE|redis://HOST:PORT/DB",
    help="Where stored responses, stubs and the journal live: a SQLite file (default: a "
    "temp file), or a Redis URL (redis:// or rediss://) that several instances share; "
    "its password from the URL or HARNESS_REDIS_PASSWORD.",
    **_env("STATE"),
)
@click.option(
    "--redis-prefix",
    default="harness:",
    show_default=True,
    help="With --state redis://: the prefix of every key, so several mocks share one Redis.",
    **_env("REDIS_PREFIX"),
)
@click.option(
    "--stubs",
    "stubs_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Stubs to load at start (YAML or JSON: one stub, a list, or {stubs: [...]}).",
    **_env("STUBS"),
)
@click.option(
    "--server",
    type=click.Choice(["granian", "granian-rsgi", "gthread", "sync", "gevent"]),
    help=f"Server: granian-rsgi (default: granian's RSGI interface, each request on its "
    f"worker's event loop, a body not sent within 30 s answered 408), granian (its WSGI "
    f"interface: a thread a request), or gunicorn with gthread, sync or gevent workers "
    f"(default with --replay: {REPLAY_SERVER}).",
    **_env("SERVER"),
)
@click.option(
    "--replay",
    "replay_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Answer from the vcrpy cassettes in this folder (method, path, JSON body as data).",
    **_env("REPLAY"),
)
@click.option(
    "--replay-fallback",
    type=click.Choice(["mock"]),
    help="With --replay: answer what no cassette holds from the mock instead of a 404.",
    **_env("REPLAY_FALLBACK"),
)
@click.option(
    "--model",
    "model_aliases",
    multiple=True,
    metavar="NAME",
    help="Also serve this model name, as the gpt-4 document serves gpt-4 (repeatable; "
    "in the variable: names separated by spaces).",
    **_env("MODEL"),
)
@click.option(
    "--cors",
    "cors_origins",
    multiple=True,
    metavar="ORIGIN",
    help="Let web pages from this origin (http://host:port, or * for any) call the API "
    "routes from a browser; repeatable (in the variable: separated by spaces). The admin "
    "API /_mock/ stays closed to other origins. Default: no CORS.",
    **_env("CORS"),
)
@click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    default="info",
    show_default=True,
    help="info: an access line per request (method, path, status, latency, stub, fault); "
    "warning: problems only.",
    **_env("LOG_LEVEL"),
)
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    default="text",
    show_default=True,
    help="text lines, or one JSON object a line (for log collectors).",
    **_env("LOG_FORMAT"),
)
@click.option(
    "--max-body-bytes",
    default=32 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(1024),
    help="Largest request body read, declared or chunked; a larger one is a 413.",
    **_env("MAX_BODY_BYTES"),
)
@click.option(
    "--context-window",
    default=8192,
    show_default=True,
    type=click.IntRange(1),
    help="Prompt tokens a request may hold (gpt-4-0613's window); more is the live API's "
    "400 context_length_exceeded.",
    **_env("CONTEXT_WINDOW"),
)
@click.option(
    "--chaos",
    metavar="FAULT=RATE,...",
    default="",
    callback=lambda _ctx, _param, value: _parse_chaos(value),
    help="Fail API requests at random with these faults and rates, e.g. "
    "rate_limit=0.05,disconnect=0.01 (an X-Mock-Fault header wins). Default: none.",
    **_env("CHAOS"),
)
@click.option(
    "--chaos-seed",
    default=0,
    show_default=True,
    type=click.IntRange(0, 2**63 - 1),
    help="Seed of the --chaos draws: the same seed fails the same requests (numbered in "
    "the order they arrive, across workers).",
    **_env("CHAOS_SEED"),
)
@click.option(
    "--no-journal",
    "no_journal",
    is_flag=True,
    help="Keep no request journal, for load tests that never read it: each request's entry "
    "(bodies, headers, a stream's text) is about a third of a streamed answer's CPU. "
    "GET /_mock/requests then answers 409.",
    **_env("NO_JOURNAL"),
)
@click.option(
    "--debug",
    is_flag=True,
    help="Flask's development server, with reloader off.",
    **_env("DEBUG"),
)
def serve(
    host: str,
    port: int,
    workers: int,
    threads: int,
    specs_dir: Path | None,
    api_key: str | None,
    state: str | None,
    redis_prefix: str,
    stubs_file: Path | None,
    server: str | None,
    replay_dir: Path | None,
    replay_fallback: str | None,
    model_aliases: tuple[str, ...],
    cors_origins: tuple[str, ...],
    log_level: str,
    log_format: str,
    max_body_bytes: int,
    context_window: int,
    chaos: tuple[tuple[str, float], ...],
    chaos_seed: int,
    no_journal: bool,
    debug: bool,
) -> None:
    """Serve the mock API; point an OpenAI client's base_url at the printed URL."""
    # Lazy: the harness reaches into the mock only where a server is started.
    from harness.errors import HarnessError
    from mockserver import MockConfig, create_app
    from mockserver.serving import (
        configure_logging,
        ensure_port_free,
        run_granian,
        run_gunicorn,
    )

    for origin in cors_origins:
        _check_origin(origin)
    log_level = log_level.lower()
    state_url = _state_url(state)
    config = MockConfig(
        specs_dir=specs_dir,
        api_key=api_key,
        state_path=Path(state) if state and state_url is None else None,
        state_url=state_url,
        redis_prefix=redis_prefix,
        stubs_file=stubs_file,
        debug=debug,
        model_aliases=model_aliases,
        listen_host=host,
        cors_origins=cors_origins,
        access_log=log_level in ("debug", "info"),
        max_body_bytes=max_body_bytes,
        context_window=context_window,
        chaos=chaos,
        chaos_seed=chaos_seed,
        journal=not no_journal,
    )
    if any(not name.strip() for name in model_aliases):
        raise click.BadParameter("a model name cannot be empty", param_hint="--model")
    if replay_fallback is not None and replay_dir is None:
        raise click.UsageError("--replay-fallback needs --replay DIR")
    if server is None:
        server = DEFAULT_SERVER if replay_dir is None else REPLAY_SERVER
    if replay_dir is not None and server.startswith("granian"):
        raise click.UsageError("--replay is served by gunicorn; use another --server")
    try:
        # Before the app is built: a taken port is the likelier mistake, and found at once.
        address = ensure_port_free(host, port)
        if port == 0:
            port = _any_free_port(address)
        if replay_dir is None:
            app = create_app(config)
        else:
            # The fallback answers inside the replay app, which gets the layers itself.
            bare = dataclasses.replace(config, cors_origins=(), access_log=False)
            app = _replay_app(
                replay_dir, create_app(bare) if replay_fallback else None, config.api_key
            )
            _add_layers(app, config)
    except HarnessError as exc:
        raise click.ClickException(str(exc)) from exc
    base_url = f"http://{_url_host(host)}:{port}/v1"
    if replay_dir is None:
        served = [*app.extensions["mockserver"].specs.models, *model_aliases]
        models = ", ".join(dict.fromkeys(served))
        click.echo(f"Mock AIML API serving {models} at {base_url}  (Ctrl-C to stop)", err=True)
        if chaos:
            rates = ",".join(f"{name}={rate:g}" for name, rate in chaos)
            click.echo(f"Chaos: {rates} (--chaos-seed {chaos_seed})", err=True)
        if no_journal:
            click.echo("Request journal off (--no-journal): /_mock/requests answers 409", err=True)
    else:
        fallback = " (unmatched requests: the mock)" if replay_fallback else ""
        click.echo(f"Replaying {replay_dir} at {base_url}{fallback}  (Ctrl-C to stop)", err=True)
    # Only now, with the server about to start: a refused option leaves logging alone.
    configure_logging(log_level, log_format)
    if debug:
        app.run(host=address, port=port, threaded=True, use_reloader=False)
        return
    if server == "gevent" and importlib.util.find_spec("gevent") is None:
        raise click.ClickException("--server gevent needs gevent: pip install gevent")
    if server.startswith("granian"):
        run_granian(
            app,
            config,
            host=address,
            port=port,
            workers=workers,
            threads=threads,
            rsgi=server == "granian-rsgi",
        )
    else:
        run_gunicorn(
            app, host=address, port=port, workers=workers, threads=threads, worker_class=server
        )


def _replay_app(folder: Path, fallback: Flask | None, api_key: str | None) -> Flask:
    """The ``--replay`` server; every unreadable cassette is reported, file and entry named."""
    from harness.cassettes.cassette import CassetteError, read_cassettes
    from harness.cassettes.replay import create_replay_app

    try:
        cassettes = read_cassettes(folder)
    except CassetteError as exc:
        problems = "\n  ".join(exc.problems)
        raise click.ClickException(f"cannot replay {folder}:\n  {problems}") from exc
    return create_replay_app(cassettes, fallback=fallback, api_key=api_key)


def _parse_chaos(text: str) -> tuple[tuple[str, float], ...]:
    """``--chaos``'s pairs, or a one-line usage error naming the valid faults."""
    from mockserver.chaos import ChaosError, parse_chaos

    try:
        return parse_chaos(text)
    except ChaosError as exc:
        raise click.BadParameter(str(exc), param_hint="--chaos") from exc


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


# A URL's scheme (two characters at least: "C:/" is a Windows path) and its first slash.
_URL_START = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:/")


def _state_url(state: str | None) -> str | None:
    """``--state`` as a Redis URL, or ``None`` for a file path.

    Anything else shaped like a URL (``Redis://``, ``http://``, ``redis:/host``) is refused:
    taken as a path, it made folders named after it and kept a state of its own, where the
    instances meant to share one.
    """
    if not state or not _URL_START.match(state):
        return None
    from harness.errors import HarnessError
    from mockserver.redis_state.connection import describe, without_credentials

    if not state.startswith(("redis://", "rediss://")):
        raise click.UsageError(
            f"--state {without_credentials(state)!r} is neither a file path nor a Redis URL: "
            "a Redis URL starts redis:// or rediss:// (in lower case), as redis://HOST:PORT/DB"
        )
    try:
        describe(state)  # the address read as the store will read it, password unshown
    except HarnessError as exc:  # one line, as the store's own start errors are
        raise click.ClickException(str(exc)) from exc
    return state


def _check_origin(origin: str) -> None:
    """An origin as a browser sends it: ``*``, or ``scheme://host[:port]`` with no path."""
    parts = urlsplit(origin)
    if origin == "*" or (
        parts.scheme in ("http", "https")
        and parts.netloc
        and not parts.path
        and not parts.query
        and not parts.fragment
    ):
        return
    raise click.BadParameter(
        f"{origin!r} is not an origin; use scheme://host[:port] as the browser's address bar "
        "shows it (no path, no trailing /), or * for any",
        param_hint="--cors",
    )


def _any_free_port(address: str) -> int:
    """A port free on ``address`` now, for ``--port 0``.

    The servers cannot be handed port 0 themselves: each granian worker binds on its own
    (``SO_REUSEPORT``), so each would get a different port. The kernel hands out ephemeral
    ports in turn, so the port is not handed to another socket in the moment before the
    server binds it.
    """
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((address, 0))
        port: int = probe.getsockname()[1]
        return port


def _add_layers(app: Flask, config: MockConfig) -> None:
    """CORS and the access log around an app ``create_app`` did not build (``--replay``)."""
    from mockserver.access_log import AccessLog
    from mockserver.cors import CorsMiddleware

    if config.cors_origins:
        app.wsgi_app = CorsMiddleware(app.wsgi_app, config.cors_origins)  # type: ignore[method-assign]
    if config.access_log:
        app.wsgi_app = AccessLog(app.wsgi_app)  # type: ignore[method-assign]
