"""The floors the mock is measured against, served exactly as `harness serve` serves the mock.

``flask``: a trivial Flask handler that returns a fixed chat completion (Flask's own cost).
``wsgi``: a bare WSGI callable returning the same bytes (the server's own cost).
``busy``: the same callable after 100 µs of Python (what the server answers for a handler that
costs about what the mock's own work costs: the ceiling for that much Python per request).
Run: ``python benchmarks/floor_app.py flask|wsgi|busy SERVER PORT WORKERS THREADS`` where SERVER is
one of `harness serve --server`'s choices (granian-rsgi, granian, gthread, sync, gevent).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flask import Flask, Response

from mockserver.serving import run_gunicorn

FIXED_BODY = json.dumps(
    {
        "id": "chatcmpl-fixed",
        "object": "chat.completion",
        "created": 1744185166,
        "model": "gpt-4-0613",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello! How can I assist you today?"},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 8, "completion_tokens": 9, "total_tokens": 17},
    },
    separators=(",", ":"),
).encode()


def trivial_flask_app() -> Flask:
    app = Flask("floor")

    @app.post("/v1/chat/completions")
    def create() -> Response:
        return Response(FIXED_BODY, mimetype="application/json")

    @app.get("/_mock/health")
    def health() -> Response:
        return Response(b'{"status":"ok"}', mimetype="application/json")

    return app


def bare_wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    environ["wsgi.input"].read()
    start_response(
        "200 OK",
        [("Content-Type", "application/json"), ("Content-Length", str(len(FIXED_BODY)))],
    )
    return [FIXED_BODY]


# What the busy floor spends in Python per request, holding the GIL as the mock's work does.
BUSY_S = 100e-6


def busy_wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    deadline = time.perf_counter() + BUSY_S
    while time.perf_counter() < deadline:
        pass
    return bare_wsgi_app(environ, start_response)


FLOORS: dict[str, Any] = {"wsgi": bare_wsgi_app, "busy": busy_wsgi_app}


def serve_with_granian(kind: str, port: int, workers: int, threads: int, rsgi: bool) -> None:
    """As ``harness serve --server granian`` (WSGI) or ``granian-rsgi`` (the RSGI bridge)."""
    from granian import Granian
    from granian.constants import Interfaces

    target = {
        "flask": "floor_app:trivial_flask_app",
        "wsgi": "floor_app:bare_wsgi_app",
        "busy": "floor_app:busy_wsgi_app",
    }[kind]
    if rsgi:
        target = f"floor_app:bridged_{kind}"
    Granian(
        target,
        factory=rsgi or kind == "flask",
        address="127.0.0.1",
        port=port,
        interface=Interfaces.RSGI if rsgi else Interfaces.WSGI,
        workers=workers,
        blocking_threads=1 if rsgi else threads,
        working_dir=Path(__file__).parent,
    ).serve()


def _bridged(app: Any) -> Any:
    from mockserver.rsgi_bridge import RsgiBridge

    return RsgiBridge(app, max_body_bytes=32 * 1024 * 1024, threads=8)


def bridged_flask() -> Any:
    return _bridged(trivial_flask_app())


def bridged_wsgi() -> Any:
    return _bridged(bare_wsgi_app)


def bridged_busy() -> Any:
    return _bridged(busy_wsgi_app)


if __name__ == "__main__":
    kind, server = sys.argv[1], sys.argv[2]
    port, workers, threads = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    if server.startswith("granian"):
        serve_with_granian(kind, port, workers, threads, rsgi=server == "granian-rsgi")
    else:
        app: Any = trivial_flask_app() if kind == "flask" else FLOORS[kind]
        run_gunicorn(
            app, host="127.0.0.1", port=port, workers=workers, threads=threads, worker_class=server
        )
