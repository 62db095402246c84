"""CORS for the API routes (``harness serve --cors ORIGIN``), as a WSGI layer.

A browser app (the Node SDK with ``dangerouslyAllowBrowser``, the Vercel AI SDK) sends a
preflight ``OPTIONS`` before its ``POST`` with a JSON body and an ``Authorization`` header,
then reads the answer only if it names the page's origin. This layer answers those
preflights and adds ``Access-Control-Allow-Origin`` to every answer of the API routes,
streams included (the headers go out with the status, before the first event).

Written here rather than taken from a library: Flask-CORS works through Flask's request
hooks, which the API routes never pass (they are answered in front of Flask, see
``mockserver.api.dispatch``), and the plain-WSGI ``wsgicors`` had its last release in 2017.
What is needed is small: origins matched exactly, the requested headers echoed.

The admin API (``/_mock/``) is not covered: it refuses foreign origins on purpose
(``mockserver.admin_access``), so a web page cannot add stubs or read the journal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

ANY_ORIGIN = "*"
# The path prefixes the layer answers for: the API routes (see mockserver.api.dispatch).
API_PREFIXES = ("/v1/", "/chat/")
ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS"
# How long a browser may reuse a preflight's answer.
MAX_AGE_S = 600
# The answer headers a page's script may read besides the CORS-safelisted ones: "*" is
# honoured for requests without cookies, which is how the SDKs call (an Authorization
# header is not a cookie).
EXPOSED_HEADERS = "*"


class CorsMiddleware:
    """Adds CORS to ``app``'s answers for requests to ``API_PREFIXES`` from ``origins``."""

    def __init__(self, app: WSGIApp, origins: Sequence[str]) -> None:
        self._app = app
        self._any = ANY_ORIGIN in origins
        self._origins = frozenset(origins)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        origin = environ.get("HTTP_ORIGIN")
        if origin is None or not environ.get("PATH_INFO", "").startswith(API_PREFIXES):
            return self._app(environ, start_response)
        allow = self._allow_origin(origin)
        if allow is None:  # a foreign origin: no CORS headers, so the browser keeps it out
            return self._app(environ, start_response)
        cors = [("Access-Control-Allow-Origin", allow)]
        if allow != ANY_ORIGIN:
            # The answer depends on the Origin: a cache must not hand it to another page.
            cors.append(("Vary", "Origin"))
        requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
        if environ.get("REQUEST_METHOD") == "OPTIONS" and requested is not None:
            return self._preflight(environ, start_response, cors)

        def start_with_cors(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            present = {name.lower() for name, _ in headers}
            added = [(name, value) for name, value in cors if name.lower() not in present]
            added.append(("Access-Control-Expose-Headers", EXPOSED_HEADERS))
            return start_response(status, [*headers, *added], *exc)

        return self._app(environ, start_with_cors)

    def _allow_origin(self, origin: str) -> str | None:
        if self._any:
            return ANY_ORIGIN
        return origin if origin in self._origins else None

    @staticmethod
    def _preflight(
        environ: dict[str, Any], start_response: Callable[..., Any], cors: list[tuple[str, str]]
    ) -> list[bytes]:
        headers = [
            *(header for header in cors if header[0] != "Vary"),
            # The answer depends on both: a cache must not hand it to another page.
            ("Vary", "Origin, Access-Control-Request-Headers"),
            ("Access-Control-Allow-Methods", ALLOWED_METHODS),
            ("Access-Control-Max-Age", str(MAX_AGE_S)),
            ("Content-Length", "0"),
        ]
        # Echoed rather than "*": a wildcard does not cover Authorization, which every
        # SDK call sends, and the SDKs add headers of their own (x-stainless-*).
        requested_headers = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
        if requested_headers:
            headers.append(("Access-Control-Allow-Headers", requested_headers))
        start_response("204 No Content", headers)
        return []
