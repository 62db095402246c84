"""An API request leaves no reference cycles behind.

Objects in a cycle outlive their request until the garbage collector finds them: under load
each worker's young collections then walked thousands of them, and their memory was not
reused at once. werkzeug's Request put itself in its environ (``werkzeug.request``), a
cycle of the request, its environ, its headers and its body stream on every request.
"""

from __future__ import annotations

import collections
import gc
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import EnvironBuilder, run_wsgi_app

from mockserver.app import create_app
from mockserver.config import MockConfig

KEY = "garbage-key"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    state = tmp_path_factory.mktemp("garbage") / "state.sqlite3"
    return create_app(MockConfig(api_key=KEY, state_path=state))


def _call(app: Flask, path: str, body: Any, method: str = "POST") -> bytes:
    environ = EnvironBuilder(
        method=method,
        path=path,
        data=json.dumps(body) if body is not None else None,
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    ).get_environ()
    # As a WSGI server calls it: the body iterated, then closed.
    body_iter, _, _ = run_wsgi_app(app, environ)
    try:
        return b"".join(body_iter)
    finally:
        close = getattr(body_iter, "close", None)
        if close is not None:
            close()


def _requests(app: Flask, index: int) -> Iterator[bytes]:
    chat = {"model": "gpt-4", "messages": [{"role": "user", "content": f"order {index}"}]}
    yield _call(app, "/v1/chat/completions", chat)
    yield _call(app, "/v1/chat/completions", {**chat, "stream": True})
    yield _call(app, "/v1/responses", {"model": "gpt-4", "input": f"order {index}"})
    yield _call(app, "/v1/chat/completions", {"model": "gpt-4"})  # 400: no messages
    # Not here: a path matched by werkzeug's URL map (one with parts, such as
    # /v1/responses/<id>, or none at all) leaves a cycle of the matcher's own, a recursive
    # closure it makes on each match.


def test_requests_leave_no_cycles(app: Flask) -> None:
    for index in range(20):  # warm: caches filled, lazily built objects built
        list(_requests(app, index))
    state = app.extensions["mockserver"]
    state.journal.wait_for_pending()
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for index in range(100, 120):
            assert all(list(_requests(app, index)))
        state.journal.wait_for_pending()
        gc.collect()
        left = collections.Counter(type(found).__qualname__ for found in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert not left, f"objects in cycles after 100 requests: {dict(left)}"
