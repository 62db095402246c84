"""Who may use the admin API under ``/_mock/``: checks run before every admin view.

The admin API changes what the mock answers and shows every request body, so it is guarded
against the two ways a browser page reaches a loopback port:

- a page on another site posts to it: browsers send such a request without a preflight only
  as a "simple" request (no Content-Type, text/plain, a form), so admin writes must declare
  ``application/json``, and a foreign ``Origin`` (or ``Sec-Fetch-Site: cross-site``) is refused;
- DNS rebinding: the page's own name is made to resolve to 127.0.0.1, so the request is
  same-origin to the browser; its ``Host`` header still carries the foreign name, and only
  loopback names and the address the server listens on are accepted.

On a wildcard address (``--host 0.0.0.0``) the names the mock is reached by cannot be known
(a compose service name, a LAN address), so any Host passes there; the key (``--api-key``)
and the Origin check still hold. When the server has a key, the admin API needs it too, in
the same ``Authorization: Bearer`` header; ``GET /_mock/health`` stays open for probes.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from werkzeug.wrappers import Request

from harness.bearer import check_bearer
from mockserver.config import MockConfig
from mockserver.errors import ErrorReply

WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
OPEN_PATHS = frozenset({"/_mock/health"})


def admin_access_problem(request: Request, config: MockConfig) -> ErrorReply | None:
    """``None`` when ``request`` may use the admin API, else the error to answer."""
    host = request.headers.get("Host", "")
    if not _host_allowed(host, config.listen_host):
        return ErrorReply(
            403,
            f"The admin API does not answer for Host {host!r}: use a loopback address "
            "(127.0.0.1, localhost) or the address the mock listens on.",
            param="Host",
            code="host_not_allowed",
        )
    origin = request.headers.get("Origin")
    cross_site = request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site"
    if cross_site or (origin is not None and not _same_origin(origin, request.scheme, host)):
        return ErrorReply(
            403,
            f"The admin API refuses requests from web pages of another origin "
            f"({origin or 'cross-site'}).",
            param="Origin",
            code="origin_not_allowed",
        )
    if request.path in OPEN_PATHS and request.method in ("GET", "HEAD"):
        return None
    if config.api_key is not None:
        problem = check_bearer(request.headers.get("Authorization", ""), config.api_key)
        if problem is not None:
            return problem
    if _has_body(request) and request.mimetype != "application/json":
        declared = request.mimetype or "none"
        return ErrorReply(
            415,
            f"Unsupported Content-Type ({declared}); the admin API takes application/json.",
            param="Content-Type",
        )
    return None


def _host_allowed(host: str, listen_host: str | None) -> bool:
    if listen_host is not None and listen_host.strip("[]") in WILDCARD_HOSTS:
        return True
    name = _hostname(host)
    if name is None:
        return False
    if name == "localhost" or name.endswith(".localhost"):
        return True  # RFC 6761: browsers resolve these to loopback themselves
    if listen_host is not None and name == _hostname(listen_host):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _hostname(host: str) -> str | None:
    """The name in a ``Host`` value (``name``, ``name:port``, ``[v6]:port``), lower-cased."""
    if not host or any(char in host for char in "/?#@ \t"):
        return None
    if ":" in host and not host.startswith("[") and host.count(":") > 1:
        host = f"[{host}]"  # a bare IPv6 address, as --host takes it
    try:
        return urlsplit(f"//{host}").hostname
    except ValueError:
        return None


def _same_origin(origin: str, scheme: str, host: str) -> bool:
    try:
        parts = urlsplit(origin)
        own = urlsplit(f"{scheme}://{host}")
        return (parts.scheme, parts.hostname, parts.port or _default_port(parts.scheme)) == (
            own.scheme,
            own.hostname,
            own.port or _default_port(own.scheme),
        )
    except ValueError:  # "null", or a port that is not a number
        return False


def _default_port(scheme: str) -> int | None:
    return {"http": 80, "https": 443}.get(scheme)


def _has_body(request: Request) -> bool:
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    return chunked or bool(request.content_length)
