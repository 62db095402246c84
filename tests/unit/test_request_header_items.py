"""Which environ items are the request's headers: never the server's own variables."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver import journal_capture
from mockserver.journal_capture import request_header_items

VARIABLES = {"PATH": "/usr/bin", "HTTP_PROXY": "http://u:secret@proxy:3128", "HOME": "/root"}


@pytest.fixture(autouse=True)
def process_variables(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(os, "environ", dict(VARIABLES))
    journal_capture._process_variables.cache_clear()
    yield
    journal_capture._process_variables.cache_clear()  # the real environment's, next


def granian_environ(scope: dict[str, Any]) -> dict[str, Any]:
    """As granian's WSGI layer builds it: the process environment, its own keys, the scope."""
    base = dict(VARIABLES) | {"SERVER_SOFTWARE": "Granian", "wsgi.version": (1, 0)}
    return base | scope


SCOPE = {
    "REQUEST_METHOD": "POST",
    "PATH_INFO": "/v1/chat/completions",
    "HTTP_HOST": "127.0.0.1",
    "HTTP_X_FIRST": "1",
    "CONTENT_TYPE": "application/json",
    "HTTP_X_SECOND": "2",
    "CONTENT_LENGTH": "10",
}
SENT = [(k, v) for k, v in SCOPE.items() if k.startswith(("HTTP_", "CONTENT_"))]


def test_granian_the_copy_of_the_environment_is_not_read_as_headers() -> None:
    environ = granian_environ(SCOPE)
    environ["mockserver.journal_entry"] = object()  # keys the app adds later
    assert request_header_items(environ) == SENT


def test_granian_a_header_named_as_a_variable_keeps_the_clients_value() -> None:
    environ = granian_environ({**SCOPE, "HTTP_PROXY": "mine"})
    assert request_header_items(environ) == [*SENT, ("HTTP_PROXY", "mine")]


def test_another_server_gives_every_header_in_order() -> None:
    environ = {"SERVER_SOFTWARE": "gunicorn/23", **SCOPE, "HTTP_PROXY": "mine"}
    items = request_header_items(environ)
    assert items == [*SENT, ("HTTP_PROXY", "mine")]
    # A server that copies the environment as granian does, unrecognised: the full scan,
    # still without the variable.
    copied = dict(VARIABLES) | {"SERVER_SOFTWARE": "other"} | SCOPE
    assert request_header_items(copied) == SENT


def test_variables_are_read_again_in_a_forked_worker() -> None:
    request_header_items(granian_environ(SCOPE))
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the worker: its environment changed before it served
        os.environ["HTTP_X_FIRST"] = "1"
        left_out = ("HTTP_X_FIRST", "1") not in request_header_items(granian_environ(SCOPE))
        os.write(write, b"1" if left_out else b"0")
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    assert os.read(read, 1) == b"1"
    os.close(read)
