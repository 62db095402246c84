"""Blueprint ``dashboard``: the page, its two files, and the journal reads it polls.

``GET /_mock/`` and ``GET /_mock/ui``: the page; ``/_mock/ui/app.js``, ``/_mock/ui/app.css``.
These hold no data, so they are served without the server's key (the page asks for it and
sends it on its own calls); Host and Origin are checked as for the admin API.

With the key when the server has one (:mod:`mockserver.admin_access`):
``GET /_mock/ui/requests``: entry summaries newest first, after a seq (``after``: what the
page already has) or before one (``before``: older pages), filtered by the journal's columns
(``path``, ``method``, ``status``, ``model``, ``stub_id``, ``valid``, ``fault``), at most
``limit``; with ``oldest`` and ``newest``, the oldest and newest seq kept (of any entry, not
only the filtered ones), so the page drops rows a reset removed and sees seqs that started
again from 1 (a mock restarted, a Redis restarted empty).
``GET /_mock/ui/requests/<seq>``: one entry whole. ``GET /_mock/ui/meta``: the paths, models
and fault names the filters offer. ``GET /_mock/ui/stubs``: each stub's numbers, its match
and reply as JSON text cut to :data:`STUB_TEXT_CHARS`, and its whole size, with an ETag: the
page polls it, and a stub megabytes long would be sent whole on every poll by the admin API's
``GET /_mock/stubs``. Adding, deleting and the reset go through the admin API itself.

Polling keeps the server's cost to a short indexed read a second per open page, most of
them empty; a stream of server-sent events would hold a worker thread per open page.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator
from importlib import resources

from flask import Blueprint, Response, request

from harness.sse import dump_json
from mockserver.admin_access import admin_access_problem
from mockserver.errors import ErrorReply, MockError
from mockserver.faults import FAULT_NAMES
from mockserver.journal_store import COLUMNS, SQL_INT_MAX, filter_value
from mockserver.state import current_state, state_with_journal
from mockserver.stubs import Stub

dashboard = Blueprint("dashboard", __name__, url_prefix="/_mock")

# The page's files, by the name the page asks for, with their media types.
_FILES = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "app.css": "text/css",
}
_PAGE_PATHS = frozenset(
    {"/_mock/", "/_mock/ui", "/_mock/ui/", "/_mock/ui/app.js", "/_mock/ui/app.css"}
)
# The page runs only its own script and style, and talks only to its own origin: a request
# body shown in it can never load or send anything elsewhere.
_PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
_BOUNDS = ("after", "before", "limit")
# How much of a stub's match and reply the page's stub list shows (as JSON text).
STUB_TEXT_CHARS = 300


@dashboard.before_request
def _check_access() -> None:
    config = current_state().config
    if request.path in _PAGE_PATHS:
        # No data in the page or its files: served without the key, which the page asks
        # for; Host and Origin are checked all the same.
        config = dataclasses.replace(config, api_key=None)
    problem = admin_access_problem(request, config)
    if problem is not None:
        raise MockError(problem)


@functools.cache
def _file(name: str) -> bytes:
    # Read through importlib.resources, so an installed wheel (or a zip) serves them too.
    return (resources.files("mockserver.dashboard") / "static" / name).read_bytes()


def _file_response(name: str) -> Response:
    response = Response(_file(name), mimetype=_FILES[name])
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if name == "index.html":
        response.headers["Content-Security-Policy"] = _PAGE_POLICY
        response.headers["X-Frame-Options"] = "DENY"
    return response


@dashboard.get("/")
@dashboard.get("/ui")
@dashboard.get("/ui/")
def page() -> Response:
    return _file_response("index.html")


@dashboard.get("/ui/app.js")
def script() -> Response:
    return _file_response("app.js")


@dashboard.get("/ui/app.css")
def style() -> Response:
    return _file_response("app.css")


def _json(body: object, status: int = 200) -> Response:
    return Response(dump_json(body), status=status, mimetype="application/json")


@dashboard.get("/ui/meta")
def meta() -> Response:
    state = current_state()
    specs = state.specs
    body = {
        "paths": specs.paths,
        "models": specs.models,
        "faults": sorted(FAULT_NAMES),
        "journal": state.config.journal,  # false: started with --no-journal, nothing to list
    }
    return _json(body)


@dashboard.get("/ui/requests")
def summaries() -> Response:
    arguments = request.args.to_dict()
    unknown = sorted(set(arguments) - set(COLUMNS) - set(_BOUNDS))
    if unknown:
        choices = ", ".join((*COLUMNS, *_BOUNDS))
        raise MockError(
            ErrorReply(400, f"Unknown parameter {unknown[0]!r}; use: {choices}.", param=unknown[0])
        )
    after = _whole_number(arguments.pop("after", "0"), "after")
    before_text = arguments.pop("before", None)
    before = None if before_text is None else _whole_number(before_text, "before")
    limit = min(_whole_number(arguments.pop("limit", str(DEFAULT_LIMIT)), "limit"), MAX_LIMIT)
    filters = {}
    for name, text in arguments.items():
        try:
            filters[name] = filter_value(name, text)
        except ValueError as exc:
            wanted = "true or false" if name == "valid" else "a whole number"
            raise MockError(ErrorReply(400, f"`{name}` must be {wanted}.", param=name)) from exc
    store = state_with_journal().db.journal
    oldest = store.oldest_seq()
    found = store.summaries(filters, after, before, limit)
    # Read after the page's rows, so no row listed is past it.
    newest_row = store.summaries({}, 0, None, 1)
    newest = newest_row[0][0] if newest_row else None
    return Response(_listing(found, oldest, newest), mimetype="application/json")


def _listing(found: list[tuple[int, str]], oldest: int | None, newest: int | None) -> Iterator[str]:
    """``{"object": "list", "oldest": ..., "newest": ..., "data": [...]}``, the stored JSON
    sent as it is."""
    bounds = f'"oldest":{_or_null(oldest)},"newest":{_or_null(newest)}'
    yield f'{{"object":"list",{bounds},"data":['
    for index, (seq, text) in enumerate(found):
        yield ("," if index else "") + _with_seq(seq, text)
    yield "]}"


def _or_null(seq: int | None) -> str:
    return "null" if seq is None else str(seq)


def _with_seq(seq: int, text: str) -> str:
    # A stored entry or summary is an object: "seq" goes in front without parsing it.
    return f'{{"seq":{seq},{text[1:]}' if text != "{}" else f'{{"seq":{seq}}}'


@dashboard.get("/ui/requests/<int:seq>")
def one_entry(seq: int) -> Response:
    # No entry is numbered past what the stores hold (SQLite would raise OverflowError).
    text = state_with_journal().db.journal.entry(seq) if seq <= SQL_INT_MAX else None
    if text is None:
        raise MockError(ErrorReply(404, f"No journal entry {seq}: it was cleared or dropped."))
    return Response(_with_seq(seq, text), mimetype="application/json")


def _whole_number(text: str, name: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise MockError(
            ErrorReply(400, f"`{name}` must be a whole number (0 or more).", param=name)
        )
    return int(text)


@dashboard.get("/ui/stubs")
def stub_summaries() -> Response:
    stubs = [_stub_summary(stub) for stub in current_state().stubs.list()]
    response = _json({"object": "list", "data": stubs})
    # The page sends the ETag back (If-None-Match): an unchanged list is a bodiless 304.
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    response.make_conditional(request)  # in place: a matching If-None-Match makes it a 304
    return response


def _stub_summary(stub: Stub) -> dict[str, object]:
    definition = stub.definition()
    answer = (
        {"replies": definition["replies"], "after_last": stub.after_last}
        if stub.replies
        else definition["reply"]
    )
    match_text, reply_text = dump_json(definition["match"]), dump_json(answer)
    return {
        "id": stub.id,
        "priority": stub.priority,
        "times": stub.times,
        "used": stub.used,
        "match": _cut(match_text),
        "reply": _cut(reply_text),
        "cut": max(len(match_text), len(reply_text)) > STUB_TEXT_CHARS,
        "size": len(dump_json(definition).encode()),
    }


def _cut(text: str) -> str:
    return text if len(text) <= STUB_TEXT_CHARS else text[:STUB_TEXT_CHARS] + "…"
