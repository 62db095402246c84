"""Run an app under gunicorn, configured in code (no config file, no import string)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

# A WSGI application: the Flask app, or any callable(environ, start_response).
WSGIApp = Callable[..., Any]


class _GunicornApp(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    def __init__(self, app: WSGIApp, options: dict[str, Any]) -> None:
        self._app = app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApp:
        return self._app


def run_gunicorn(app: WSGIApp, *, host: str, port: int, workers: int, threads: int) -> None:
    """Serve until interrupted (Ctrl-C / SIGTERM stop it cleanly)."""
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    options = {
        "bind": bind,
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        # The app is built once in the master and forked, so workers start instantly and
        # share the loaded specs' memory.
        "preload_app": True,
        "graceful_timeout": 5,
        "timeout": 120,
        "keepalive": 5,
        "accesslog": None,
        "loglevel": "warning",
    }
    _GunicornApp(app, options).run()
