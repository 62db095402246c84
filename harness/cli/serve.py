"""``harness serve``: run the mock under a production WSGI server."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from flask import Flask

DEFAULT_WORKERS = 2
# Chosen by measurement (benchmarks/bench_serve.py, 2 cores, 32 connections): granian
# answers three times the plain requests gunicorn's gthread workers do (11,000 against
# 3,500 a second) with a lower p99, and streams start sooner. The replay server is a plain
# Flask app that granian's workers cannot rebuild, so --replay runs under gthread.
DEFAULT_SERVER = "granian"
REPLAY_SERVER = "gthread"
# Threads per worker: each open stream holds one, so enough of them keep long streams
# from starving plain requests.
DEFAULT_THREADS = 64


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=DEFAULT_WORKERS,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes.",
)
@click.option(
    "--threads",
    default=DEFAULT_THREADS,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Threads per worker (each open stream uses one).",
)
@click.option(
    "--specs",
    "specs_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A specs folder (published documents + overlays); default: the shipped specs.",
)
@click.option("--api-key", help="Accept only this bearer key (default: any non-empty key).")
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file for stored responses, stubs and the journal (default: a temp file).",
)
@click.option(
    "--stubs",
    "stubs_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Stubs to load at start (YAML or JSON: one stub, a list, or {stubs: [...]}).",
)
@click.option(
    "--server",
    type=click.Choice(["granian", "gthread", "sync", "gevent"]),
    help=f"WSGI server: granian (default, the fastest), or gunicorn with gthread, sync or "
    f"gevent workers (default with --replay: {REPLAY_SERVER}).",
)
@click.option(
    "--replay",
    "replay_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Answer from the vcrpy cassettes in this folder (method, path, JSON body as data).",
)
@click.option(
    "--replay-fallback",
    type=click.Choice(["mock"]),
    help="With --replay: answer what no cassette holds from the mock instead of a 404.",
)
@click.option(
    "--model",
    "model_aliases",
    multiple=True,
    metavar="NAME",
    help="Also serve this model name, as the gpt-4 document serves gpt-4 (repeatable).",
)
@click.option("--debug", is_flag=True, help="Flask's development server, with reloader off.")
def serve(
    host: str,
    port: int,
    workers: int,
    threads: int,
    specs_dir: Path | None,
    api_key: str | None,
    state_path: Path | None,
    stubs_file: Path | None,
    server: str | None,
    replay_dir: Path | None,
    replay_fallback: str | None,
    model_aliases: tuple[str, ...],
    debug: bool,
) -> None:
    """Serve the mock API; point an OpenAI client's base_url at the printed URL."""
    # Lazy: the harness reaches into the mock only where a server is started.
    from harness.errors import HarnessError
    from mockserver import MockConfig, create_app
    from mockserver.serving import ensure_port_free, run_granian, run_gunicorn

    config = MockConfig(
        specs_dir=specs_dir,
        api_key=api_key,
        state_path=state_path,
        stubs_file=stubs_file,
        debug=debug,
        model_aliases=model_aliases,
        listen_host=host,
    )
    if any(not name.strip() for name in model_aliases):
        raise click.BadParameter("a model name cannot be empty", param_hint="--model")
    if replay_fallback is not None and replay_dir is None:
        raise click.UsageError("--replay-fallback needs --replay DIR")
    if server is None:
        server = DEFAULT_SERVER if replay_dir is None else REPLAY_SERVER
    if replay_dir is not None and server == "granian":
        raise click.UsageError("--replay is served by gunicorn; use another --server")
    try:
        # Before the app is built: a taken port is the likelier mistake, and found at once.
        address = ensure_port_free(host, port)
        if replay_dir is None:
            app = create_app(config)
        else:
            app = _replay_app(replay_dir, create_app(config) if replay_fallback else None)
    except HarnessError as exc:
        raise click.ClickException(str(exc)) from exc
    base_url = f"http://{_url_host(host)}:{port}/v1"
    if replay_dir is None:
        served = [*app.extensions["mockserver"].specs.models, *model_aliases]
        models = ", ".join(dict.fromkeys(served))
        click.echo(f"Mock AIML API serving {models} at {base_url}  (Ctrl-C to stop)", err=True)
    else:
        fallback = " (unmatched requests: the mock)" if replay_fallback else ""
        click.echo(f"Replaying {replay_dir} at {base_url}{fallback}  (Ctrl-C to stop)", err=True)
    if debug:
        app.run(host=address, port=port, threaded=True, use_reloader=False)
        return
    if server == "gevent" and importlib.util.find_spec("gevent") is None:
        raise click.ClickException("--server gevent needs gevent: pip install gevent")
    if server == "granian":
        run_granian(app, config, host=address, port=port, workers=workers, threads=threads)
    else:
        run_gunicorn(
            app, host=address, port=port, workers=workers, threads=threads, worker_class=server
        )


def _replay_app(folder: Path, fallback: Flask | None) -> Flask:
    """The ``--replay`` server; every unreadable cassette is reported, file and entry named."""
    from harness.cassettes.cassette import CassetteError, read_cassettes
    from harness.cassettes.replay import create_replay_app

    try:
        cassettes = read_cassettes(folder)
    except CassetteError as exc:
        problems = "\n  ".join(exc.problems)
        raise click.ClickException(f"cannot replay {folder}:\n  {problems}") from exc
    return create_replay_app(cassettes, fallback=fallback)


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
