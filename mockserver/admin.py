"""Blueprint ``admin``: the mock's own routes under ``/_mock/`` (JSON in and out).

Who may call them is checked first (:mod:`mockserver.admin_access`): the server's key when it
has one, JSON-only writes, a loopback or the listened-on Host, no foreign Origin.

``GET /_mock/health``; ``POST``/``GET``/``DELETE /_mock/stubs`` and ``DELETE /_mock/stubs/<id>``;
``GET``/``DELETE /_mock/requests`` (the journal, filtered by ``path``, ``method``, ``status``,
``model``, ``stub_id`` and cut to the last ``limit`` entries); ``POST /_mock/reset`` clears both.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from harness.sse import dump_json
from mockserver.admin_access import admin_access_problem
from mockserver.errors import ErrorReply, MockError
from mockserver.intake import read_json
from mockserver.journal import FILTERS
from mockserver.state import current_state
from mockserver.stubs import StubError, parse_stubs

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
        "models": state.specs.models,
        "paths": state.specs.paths,
        # Started without --api-key the mock takes any non-empty key: `harness contract`
        # reads this to leave out its check that a wrong key is refused (harness.contract).
        "accepts_any_key": state.config.api_key is None,
    }
    return _json(body)


@admin.post("/stubs")
def create_stubs() -> Response:
    try:
        stubs = parse_stubs(read_json(request))
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
    try:
        journal = current_state().journal
        journal.wait_for_pending()
        query = journal.read(arguments, int(limit) if limit is not None else None)
    except ValueError as exc:
        raise MockError(
            ErrorReply(400, "`status` and `limit` must be whole numbers.", param="status")
        ) from exc
    # Sent as it is read from the table, page by page: the journal may hold many megabytes.
    return Response(query.json_list(), mimetype="application/json")


@admin.delete("/requests")
def clear_requests() -> Response:
    state = current_state()
    state.journal.wait_for_pending()
    return _json({"deleted": state.db.freeing(state.journal.clear)})


@admin.post("/reset")
def reset() -> Response:
    state = current_state()
    state.journal.wait_for_pending()
    if state.chaos is not None:  # each test then meets the same faults, whatever ran before
        state.chaos.restart()
    return _json(
        {
            "stubs_deleted": state.db.freeing(state.stubs.clear),
            "requests_deleted": state.db.freeing(state.journal.clear),
        }
    )
