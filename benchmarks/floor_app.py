"""The floors the mock is measured against, served exactly as `harness serve` serves the mock.

``flask``: a trivial Flask handler that returns a fixed chat completion (Flask's own cost).
``wsgi``: a bare WSGI callable returning the same bytes (the server's own cost).
Run: ``python benchmarks/floor_app.py flask PORT WORKERS THREADS``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
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


if __name__ == "__main__":
    kind, port, workers, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    app: Any = trivial_flask_app() if kind == "flask" else bare_wsgi_app
    run_gunicorn(app, host="127.0.0.1", port=port, workers=workers, threads=threads)
