"""The RSGI bridge's own parts: the WSGI environ it builds, how it calls the app, its pool.

Served for real in tests/live/test_rsgi_server.py (and every suite run against each server).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from mockserver.rsgi_bridge import ADMIN_THREADS, RsgiBridge, _start, wsgi_environ


class _Headers:
    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items

    def items(self) -> list[tuple[str, str]]:
        return self._items


class _Scope:
    proto = "http"
    http_version = "1.1"
    scheme = "http"
    method = "POST"
    path = "/v1/caf\u00e9"
    query_string = "a=1&b=2"
    server = "127.0.0.1:8080"
    client = "127.0.0.1:51234"
    headers = _Headers(
        [
            ("host", "127.0.0.1:8080"),
            ("content-type", "application/json"),
            ("content-length", "12"),
            ("x-mock-fault", "timeout"),
            ("accept", "text/plain"),
            ("accept", "application/json"),
        ]
    )


def test_the_environ_is_the_one_pep_3333_describes() -> None:
    environ = wsgi_environ(_Scope())
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["SCRIPT_NAME"] == ""
    # WSGI's native string: the path's UTF-8 bytes read as latin-1.
    assert environ["PATH_INFO"] == "/v1/caf\u00c3\u00a9"
    assert environ["PATH_INFO"].encode("latin-1").decode("utf-8") == "/v1/caf\u00e9"
    assert environ["QUERY_STRING"] == "a=1&b=2"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("127.0.0.1", "8080")
    assert environ["REMOTE_ADDR"] == "127.0.0.1"
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ["CONTENT_TYPE"] == "application/json"
    assert environ["CONTENT_LENGTH"] == "12"
    assert "HTTP_CONTENT_TYPE" not in environ and "HTTP_CONTENT_LENGTH" not in environ
    assert environ["HTTP_X_MOCK_FAULT"] == "timeout"
    assert environ["HTTP_ACCEPT"] == "text/plain,application/json"  # repeated: joined
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["wsgi.input_terminated"] is True


def test_a_list_body_is_joined_and_an_iterator_is_kept_open() -> None:
    def listed(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("201 Created", [("x-a", "1")])
        return [b"ab", b"cd"]

    assert _start(listed, {}) == (201, [("x-a", "1")], b"abcd")

    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            return iter([b"one", b"two"])

        def close(self) -> None:
            closed.append(True)

    def streamed(environ: dict[str, Any], start_response: Any) -> Body:
        start_response("200 OK", [])
        return Body()

    status, _, body = _start(streamed, {})
    assert status == 200 and list(body) == [b"one", b"two"]
    assert closed == []  # the bridge closes it after the last byte is sent
    # The app's own iterable is closed, not the iterator it hands out: the access line and
    # the journal entry of a streamed answer are made there.
    body.close()
    assert closed == [True]


def test_a_generator_that_starts_the_response_at_its_first_chunk() -> None:
    def lazy(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("404 Not Found", [])
        yield b"first"
        yield b"second"

    status, _, body = _start(lazy, {})
    assert status == 404
    assert list(body) == [b"first", b"second"]


def test_the_pool_starts_all_its_threads_at_its_first_use() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        return []

    for all_in_threads, expected in [(False, ADMIN_THREADS), (True, 24)]:
        bridge = RsgiBridge(app, max_body_bytes=10, threads=24, all_in_threads=all_in_threads)
        before = threading.active_count()
        pool = bridge._thread_pool()
        assert pool.submit(lambda: 7).result(timeout=10) == 7
        assert threading.active_count() - before == expected
        pool.shutdown()
