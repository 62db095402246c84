"""Test helpers usable with or without pytest: a live mock server and a conformance assertion.

>>> from harness.testing import LiveServer
>>> with LiveServer() as server:                       # doctest: +SKIP
...     server.stub(match={"last_user_message": "ping"}, reply={"text": "pong"})
...     OpenAI(base_url=server.base_url, api_key="k").chat.completions.create(...)
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import requests

from harness.errors import UsageError
from harness.schema import Violation
from harness.spec import EVENT_STREAM, JSON, SpecSet, load_specs
from harness.validate import validate_exchange

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.serving import BaseWSGIServer

    from mockserver import MockConfig

__all__ = ["JournalEntries", "LiveServer", "assert_conforms", "conformance_violations"]


class _Any:
    def __repr__(self) -> str:
        return "ANY"


# A filter left out: distinct from None, which asks for entries where the field is null.
ANY: Final = _Any()


class JournalEntries(list[dict[str, Any]]):
    """Journal entries, oldest first: a plain list of dicts, with :meth:`filter`.

    >>> server.requests.filter(path="/v1/chat/completions", status=429)  # doctest: +SKIP
    """

    def filter(
        self,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        *,
        path: str | _Any = ANY,
        method: str | _Any = ANY,
        model: str | _Any | None = ANY,
        status: int | _Any = ANY,
        stub_id: str | _Any | None = ANY,
        fault: str | _Any | None = ANY,
        stream: bool | _Any = ANY,
        body_contains: str | Mapping[str, Any] | _Any = ANY,
    ) -> JournalEntries:
        """The entries that meet every condition given, oldest first.

        Each keyword compares a field for equality (``stub_id=None``: no stub answered;
        ``fault=None``: no fault). ``body_contains`` is a text found in one of the body's
        strings (a message, an instruction; or in the body itself when it was kept as
        text), or a dict the body holds as a stub's ``match.body`` does (every key, equal
        values, nested dicts compared the same way). ``predicate`` takes an entry.
        """
        fields = {
            "path": path,
            "method": method,
            "status": status,
            "stub_id": stub_id,
            "fault": fault,
            "stream": stream,
        }
        wanted = {name: value for name, value in fields.items() if value is not ANY}
        chosen = JournalEntries()
        for entry in self:
            if any(entry.get(name) != value for name, value in wanted.items()):
                continue
            if model is not ANY and _entry_model(entry) != model:
                continue
            if not isinstance(body_contains, _Any) and not _body_contains(
                entry.get("body"), body_contains
            ):
                continue
            if predicate is not None and not predicate(entry):
                continue
            chosen.append(entry)
        return chosen


def _entry_model(entry: Mapping[str, Any]) -> Any:
    if "model" in entry:
        return entry["model"]
    body = entry.get("body")
    return body.get("model") if isinstance(body, Mapping) else None


def _body_contains(body: Any, wanted: str | Mapping[str, Any]) -> bool:
    if isinstance(wanted, str):
        return any(wanted in text for text in _strings(body))
    return _holds(body, wanted)


def _strings(value: Any) -> Iterable[str]:
    # Iterative: a body nested deeper than Python recurses is still searched.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _holds(actual: Any, wanted: Any) -> bool:
    """``actual`` holds ``wanted`` as a stub's ``match.body`` holds: the mock's own rule."""
    # Lazy, as everywhere the harness reaches into the mock.
    from mockserver.stub_diagnosis import is_subset

    return is_subset(wanted, actual)


class LiveServer:
    """The mock app under a real HTTP/1.1 server in a background thread, on a free port.

    ``url`` is ``http://127.0.0.1:PORT``; ``base_url`` (``…/v1``) is what an SDK's
    ``base_url`` takes. ``stub``, ``requests`` and ``reset`` use the admin API over HTTP,
    exactly as a test in another language would.
    """

    def __init__(self, config: MockConfig | None = None, host: str = "127.0.0.1") -> None:
        self._config = config
        self._host = host
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._app: Flask | None = None
        self._http = requests.Session()

    def start(self) -> LiveServer:
        # Lazy: the harness reaches into the mock only where a server is started.
        from werkzeug.serving import WSGIRequestHandler, make_server

        from mockserver import MockConfig, create_app

        class QuietHandler(WSGIRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                return None

        config = self._config or MockConfig()
        # The admin API checks the Host it is reached by against the address served.
        app = self._app = create_app(dataclasses.replace(config, listen_host=self._host))
        if config.api_key is not None:  # the admin API then needs the key too
            self._http.headers["Authorization"] = f"Bearer {config.api_key}"
        self._server = make_server(self._host, 0, app, threaded=True, request_handler=QuietHandler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="harness-live-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release what the app holds (:func:`mockserver.close_app`): the
        journal's last entries written, its writer thread ended, the state's connections
        closed, and the temporary state folder removed (a ``state_path`` file stays).
        Idempotent; a stream still being sent is finished, its journal entry not kept."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._app is not None:
            from mockserver import close_app

            close_app(self._app)
        self._http.close()
        self._server = self._thread = self._app = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise UsageError("the live server is not running; call start() first")
        return f"http://{self._host}:{self._server.server_port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def stub(
        self,
        match: Mapping[str, Any] | None = None,
        reply: Mapping[str, Any] | None = None,
        times: int | None = None,
        priority: int = 0,
        id: str | None = None,
        *,
        replies: Iterable[Mapping[str, Any]] | None = None,
        after_last: str | None = None,
    ) -> dict[str, Any]:
        """Add a stub (the admin API's stub JSON, as keyword arguments); returns it with its id.

        ``reply`` answers every use; or ``replies`` answers the n-th use with the n-th reply,
        then as ``after_last`` says (``"repeat_last"``, ``"cycle"`` or ``"stop_matching"``):

        >>> server.stub(replies=[{"tool_call": {"name": "f"}}, {"text": "Done."}])  # doctest: +SKIP
        """
        stub: dict[str, Any] = {"priority": priority}
        if replies is not None:
            stub["replies"] = [dict(each) for each in replies]
        if reply is not None or replies is None:
            stub["reply"] = dict(reply or {})
        if after_last is not None:
            stub["after_last"] = after_last
        if match:
            stub["match"] = dict(match)
        if times is not None:
            stub["times"] = times
        if id is not None:
            stub["id"] = id
        response = self._http.post(f"{self.url}/_mock/stubs", json=stub, timeout=10)
        if response.status_code != 201:
            raise UsageError(f"stub refused: {response.json()['error']['message']}")
        created: dict[str, Any] = response.json()["data"][0]
        return created

    def unused_stubs(self) -> list[dict[str, Any]]:
        """The stubs that have answered no request yet (``used`` 0), as ``GET /_mock/stubs``
        lists them: a test can assert that every stub it added was matched.

        >>> assert not server.unused_stubs(), "a stub never matched"  # doctest: +SKIP
        """
        response = self._http.get(f"{self.url}/_mock/stubs", timeout=10)
        response.raise_for_status()
        return [stub for stub in response.json()["data"] if stub.get("used") == 0]

    @property
    def requests(self) -> JournalEntries:
        """The journal, oldest first: dicts with ``method``, ``path``, ``body``, ``status``, …

        A list, with :meth:`JournalEntries.filter` to choose entries.
        """
        response = self._http.get(f"{self.url}/_mock/requests", timeout=10)
        response.raise_for_status()
        return JournalEntries(response.json()["data"])

    def near_misses(
        self,
        request: Mapping[str, Any] | None = None,
        *,
        path: str | None = None,
        model: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Why no stub answered: the closest stubs, each with the fields that differed.

        Without ``request``: for each of the last ``limit`` (10) journaled requests no stub
        answered (``path``, ``model`` narrow them), ``{"request": {...}, "near_misses":
        [...]}``. With ``request`` (a journal entry, or ``{"path": ..., "body": {...}}``):
        that request's near misses. Each near miss has ``stub_id``, ``distance`` (0 to 1),
        ``mismatches`` (``field``, ``expected``, ``actual``, ``reason``; ``pointer`` for a
        body field) and the ``stub``.
        """
        if request is not None:
            given = {"path": request["path"], "body": request["body"]}
            response = self._http.post(f"{self.url}/_mock/near-misses", json=given, timeout=10)
            if response.status_code != 200:
                raise UsageError(f"near misses refused: {response.json()['error']['message']}")
            misses: list[dict[str, Any]] = response.json()["near_misses"]
            return misses
        params = {"path": path, "model": model, "limit": limit}
        response = self._http.get(
            f"{self.url}/_mock/near-misses",
            params={name: value for name, value in params.items() if value is not None},
            timeout=30,
        )
        if response.status_code != 200:
            raise UsageError(f"near misses refused: {response.json()['error']['message']}")
        reports: list[dict[str, Any]] = response.json()["data"]
        return reports

    def reset(self) -> None:
        """Remove every stub and stored response, and empty the journal."""
        self._http.post(f"{self.url}/_mock/reset", timeout=10).raise_for_status()


_DEFAULT_SPECS: SpecSet | None = None


def _default_specs() -> SpecSet:
    global _DEFAULT_SPECS
    if _DEFAULT_SPECS is None:
        _DEFAULT_SPECS = load_specs()
    return _DEFAULT_SPECS


def conformance_violations(
    response: Any,
    *,
    path: str | None = None,
    method: str = "POST",
    status: int = 200,
    specs: SpecSet | None = None,
) -> list[Violation]:
    """Every way a response breaks the effective spec.

    ``response`` is an ``httpx.Response`` or ``requests.Response``, an SDK raw response
    (``.with_raw_response``, ``.with_streaming_response``), the SDK's stream that
    ``create(stream=True)`` returns (before it is iterated), or a body: a JSON dict or an SSE
    transcript (``str``/``bytes``), with ``path`` naming the operation. A streamed body not
    read yet is read here (the SDK can still parse it afterwards); an async one must be
    read first (``await raw.http_response.aread()``).
    """
    specs = specs or _default_specs()
    body, path, method, status, media_type, request = _unpack(response, path, method, status)
    model = _get_text(request, "model")
    operation = specs.find(path, method, model) or specs.find(path, method)
    if operation is None:
        raise UsageError(f"no operation {method} {path} in the specs")
    return validate_exchange(operation, request, status, media_type, body)


def assert_conforms(response: Any, **options: Any) -> None:
    """Assert a response or stream conforms to the spec, listing every violation."""
    violations = conformance_violations(response, **options)
    if violations:
        listed = "\n".join(f"  {violation}" for violation in violations)
        raise AssertionError(f"{len(violations)} spec violation(s):\n{listed}")


def _unpack(
    response: Any, path: str | None, method: str, status: int
) -> tuple[Any, str, str, int, str, Any]:
    """``(body, path, method, status, media type, request body or None)``."""
    response = getattr(response, "http_response", response)  # SDK raw responses
    inner = getattr(response, "response", None)  # the SDK's Stream (create(stream=True))
    if inner is not None and hasattr(inner, "status_code"):
        response = inner
    request = getattr(response, "request", None)
    if request is not None and hasattr(response, "status_code"):
        path = path or urlsplit(str(request.url)).path
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        asked = _json_of(getattr(request, "content", None) or getattr(request, "body", None))
        body = _read_body(response)
        return body, path, request.method, response.status_code, media_type, asked
    if path is None:
        if hasattr(response, "model_dump"):  # an SDK's parsed object: not the wire
            raise UsageError(
                "a parsed SDK object holds what the SDK kept of the answer, not the answer: "
                "pass the raw response (client.chat.completions.with_raw_response.create(...))"
            )
        raise UsageError("pass path= when validating a bare body")
    is_sse = isinstance(response, str | bytes) and _looks_like_sse(response)
    return response, path, method, status, EVENT_STREAM if is_sse else JSON, None


def _read_body(response: Any) -> Any:
    """The body of an HTTP response, read now if it was streamed and not read yet."""
    try:
        return response.content
    except Exception as exc:
        # httpx, and the httpx fork the openai SDK ships, raise ResponseNotRead for a
        # streamed body (stream=True) not read yet; matched by name so neither is imported.
        if type(exc).__name__ != "ResponseNotRead":
            raise
    if getattr(response, "is_stream_consumed", False) or getattr(response, "is_closed", False):
        raise UsageError(
            "the streamed body was already consumed (the SDK's stream was iterated): call "
            "assert_conforms before iterating it, or pass the saved transcript with path="
        )
    if not isinstance(getattr(response, "stream", None), Iterable):
        raise UsageError(
            "an async response's streamed body is not read yet: "
            "await raw.http_response.aread() before assert_conforms"
        )
    return response.read()


def _looks_like_sse(body: str | bytes) -> bool:
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    return text.lstrip().startswith(("data:", "event:", ":"))


def _json_of(raw: Any) -> Any:
    """A request's JSON body, or ``None`` (none, or not JSON)."""
    try:
        return json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        return None


def _get_text(value: Any, key: str) -> str | None:
    found = value.get(key) if isinstance(value, Mapping) else None
    return found if isinstance(found, str) else None
