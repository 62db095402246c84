"""Blueprint ``admin``: the mock's own routes under ``/_mock/`` (no bearer key)."""

from __future__ import annotations

from flask import Blueprint, Response

from harness.sse import dump_json
from mockserver.state import current_state

admin = Blueprint("admin", __name__, url_prefix="/_mock")


@admin.get("/health")
def health() -> Response:
    state = current_state()
    body = {"status": "ok", "models": state.specs.models, "paths": state.specs.paths}
    return Response(dump_json(body), mimetype="application/json")
