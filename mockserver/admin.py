"""Blueprint ``admin``: the mock's own routes under ``/_mock/`` (JSON in and out).

Who may call them is checked first (:mod:`mockserver.admin_access`): the server's key when it
has one, JSON-only writes, a loopback or the listened-on Host, no foreign Origin.

``GET /_mock/health``; ``POST``/``GET``/``DELETE /_mock/stubs`` and ``DELETE /_mock/stubs/<id>``;
``GET``/``DELETE /_mock/requests`` (the journal, filtered by ``path``, ``method``, ``status``,
``model``, ``stub_id`` and cut to the last ``limit`` entries); ``DELETE /_mock/responses``
(every stored response); ``POST /_mock/reset`` clears all three, as a fresh mock would be.
``GET /_mock/near-misses``: for the last journaled requests no stub answered, the closest
stubs and why each did not match; ``POST /_mock/near-misses`` does it for a request given
as ``{"path": ..., "body": {...}}`` (:mod:`mockserver.stub_diagnosis`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, Response, request

from harness.sse import dump_json
from mockserver.admin_access import admin_access_problem
from mockserver.errors import ErrorReply, MockError
from mockserver.intake import read_json
from mockserver.journal import FILTERS
from mockserver.journal_store import SQL_INT_MAX, filter_value
from mockserver.state import current_state, state_with_journal
from mockserver.stub_diagnosis import held_stubs, near_misses, preview, quoted, user_text
from mockserver.stubs import Stub, StubError, parse_stubs

admin = Blueprint("admin", __name__, url_prefix="/_mock")


@admin.before_request
def _check_access() -> None:
    problem = admin_access_problem(request, current_state().config)
    if problem is not None:
        raise MockError(problem)


def _json(body: Any, status: int = 200) -> Response:
    return Response(dump_json(body), status=status, mimetype="application/json")


@admin.get("/health")
def health() -> Response:
    state = current_state()
    body = {
        "status": "ok",
        # As GET /v1/models lists them: the specs' models, then the --model aliases.
        "models": list(dict.fromkeys([*state.specs.models, *state.config.model_aliases])),
        "paths": state.specs.paths,
        # Started without --api-key the mock takes any non-empty key: `harness contract`
        # reads this to leave out its check that a wrong key is refused (harness.contract).
        "accepts_any_key": state.config.api_key is None,
    }
    return _json(body)


@admin.post("/stubs")
def create_stubs() -> Response:
    try:
        stubs = parse_stubs(read_json(request), served_paths=current_state().specs.paths)
    except StubError as exc:
        raise MockError(ErrorReply(400, str(exc), param=exc.param, code="invalid_stub")) from exc
    current_state().stubs.add(stubs)
    return _json({"object": "list", "data": [stub.definition() for stub in stubs]}, 201)


@admin.get("/stubs")
def list_stubs() -> Response:
    stubs = current_state().stubs.list()
    return _json({"object": "list", "data": [stub.definition() for stub in stubs]})


@admin.delete("/stubs")
def clear_stubs() -> Response:
    # Clearing works on a full disk too (see Database.freeing): it is how space is freed.
    state = current_state()
    return _json({"deleted": state.db.freeing(state.stubs.clear)})


@admin.delete("/stubs/<stub_id>")
def delete_stub(stub_id: str) -> Response:
    if not current_state().stubs.delete(stub_id):
        raise MockError(ErrorReply(404, f"No stub with id '{stub_id}'.", param="id"))
    return _json({"deleted": 1})


@admin.get("/requests")
def list_requests() -> Response:
    arguments = request.args.to_dict()
    limit = arguments.pop("limit", None)
    unknown = sorted(set(arguments) - set(FILTERS))
    if unknown:
        raise MockError(
            ErrorReply(
                400,
                f"Unknown filter {unknown[0]!r}; filter by: {', '.join(FILTERS)}, limit.",
                param=unknown[0],
            )
        )
    for name, value in arguments.items():
        try:
            filter_value(name, value)
        except ValueError as exc:
            expected = "true or false" if name == "valid" else "a whole number"
            raise MockError(
                ErrorReply(400, f"`{name}` must be {expected}, not {value!r}.", param=name)
            ) from exc
    if limit is not None and not (limit.isascii() and limit.isdigit()):
        raise MockError(
            ErrorReply(400, f"`limit` must be a whole number, not {limit!r}.", param="limit")
        )
    journal = state_with_journal().journal
    journal.wait_for_pending()
    # A limit past SQLite's integers asks for everything, as one at its largest does.
    count = None if limit is None else min(int(limit), SQL_INT_MAX)
    query = journal.read(arguments, count)
    # Sent as it is read from the table, page by page: the journal may hold many megabytes.
    return Response(query.json_list(), mimetype="application/json")


# Requests GET /_mock/near-misses explains by default, and at most: each is held against
# every stub.
NEAR_MISS_REQUESTS = 10
MAX_NEAR_MISS_REQUESTS = 100


@admin.get("/near-misses")
def list_near_misses() -> Response:
    """The last ``limit`` journaled API requests no stub answered, each with its near misses.

    Filtered by ``path`` and ``model`` as the journal is; requests to a route stubs do not
    answer (GET, the models list) are left out.
    """
    arguments = request.args.to_dict()
    limit_text = arguments.pop("limit", str(NEAR_MISS_REQUESTS))
    unknown = sorted(set(arguments) - {"path", "model"})
    if unknown:
        raise MockError(
            ErrorReply(
                400,
                f"Unknown filter {unknown[0]!r}; filter by: path, model, limit.",
                param=unknown[0],
            )
        )
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_NEAR_MISS_REQUESTS:
        raise MockError(
            ErrorReply(
                400,
                f"`limit` must be a whole number from 1 to {MAX_NEAR_MISS_REQUESTS}.",
                param="limit",
            )
        )
    state = state_with_journal()
    state.journal.wait_for_pending()
    unanswered: deque[dict[str, Any]] = deque(maxlen=int(limit_text))
    for entry in state.journal.entries(arguments):
        if entry.get("stub_id") is None and entry.get("method") == "POST":
            unanswered.append(entry)
    stubs = state.stubs.list()
    held = held_stubs(stubs)  # the same for every request: picked once
    data = []
    for entry in unanswered:
        body = entry.get("body")
        if not isinstance(body, Mapping) or entry.get("body_truncated"):
            continue  # not JSON, or kept only in part: nothing a stub could be held to
        data.append(
            {
                "request": _request_summary(entry, body),
                "near_misses": near_misses(
                    held, str(entry["path"]), body, stored=state.db.responses
                ),
            }
        )
    return _json({"object": "list", "data": data, **_held_counts(stubs, held)})


@admin.post("/near-misses")
def explain_request() -> Response:
    """The near misses of a request given as ``{"path": ..., "body": {...}}``."""
    given = read_json(request)
    path = given.get("path") if isinstance(given, dict) else None
    body = given.get("body") if isinstance(given, dict) else None
    if not isinstance(path, str) or not path.startswith("/") or not isinstance(body, dict):
        raise MockError(
            ErrorReply(
                400,
                'Give the request as {"path": "/v1/chat/completions", "body": {...}}.',
                param="path" if not isinstance(path, str) or not path.startswith("/") else "body",
            )
        )
    state = current_state()
    stubs = state.stubs.list()
    held = held_stubs(stubs)
    return _json(
        {
            "request": _request_summary({"path": path, "method": "POST"}, body),
            "near_misses": near_misses(held, path, body, stored=state.db.responses),
            **_held_counts(stubs, held),
        }
    )


def _held_counts(stubs: Sequence[Stub], held: Sequence[Stub]) -> dict[str, int]:
    """How many stubs there are, and how many each request was held against (the first
    MAX_NEAR_MISS_STUBS the matcher tries): a near miss among the others is not shown."""
    return {"stubs_total": len(stubs), "stubs_held": len(held)}


def _request_summary(entry: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    summary = {
        key: entry[key] for key in ("seq", "method", "path", "status", "fault") if key in entry
    }
    summary["model"] = preview(body.get("model"))  # a refused request's may be anything
    summary["last_user_message"] = quoted(user_text(str(entry["path"]), body))
    return summary


@admin.delete("/requests")
def clear_requests() -> Response:
    state = current_state()
    state.journal.wait_for_pending()
    return _json({"deleted": state.db.freeing(state.journal.clear)})


@admin.delete("/responses")
def clear_responses() -> Response:
    # What `store: true` keeps is most of what fills a state file: clearing it must work on
    # a full disk too (see Database.freeing).
    state = current_state()
    return _json({"deleted": state.db.freeing(state.db.responses.clear)})


@admin.post("/reset")
def reset() -> Response:
    state = current_state()
    state.journal.wait_for_pending()
    if state.chaos is not None:  # each test then meets the same faults, whatever ran before
        state.chaos.restart()
    # Stored responses too: a test reset before it runs must not continue or read back a
    # response an earlier test stored.
    counts = {
        "stubs_deleted": state.db.freeing(state.stubs.clear),
        "stubs_restored": len(state.file_stubs),
        "requests_deleted": state.db.freeing(state.journal.clear),
        "responses_deleted": state.db.freeing(state.db.responses.clear),
    }
    # Everything cleared first: a store too full to take the file's stubs back still ends
    # the reset empty. A fresh mock started with --stubs has them, each at its first use.
    if state.file_stubs:
        state.stubs.add(list(state.file_stubs))
    return _json(counts)
