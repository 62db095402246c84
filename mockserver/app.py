"""The application factory."""

from __future__ import annotations

from flask import Flask

from harness.errors import UsageError
from harness.spec import load_specs
from mockserver.access_log import AccessLog
from mockserver.admin import admin
from mockserver.api import ApiApp
from mockserver.api.dispatch import stamp_request_id
from mockserver.config import MockConfig
from mockserver.cors import CorsMiddleware
from mockserver.db import Database, temporary_state_path
from mockserver.engine.tokens import encoding
from mockserver.errors import install_error_handlers
from mockserver.journal import TABLES as JOURNAL_TABLES
from mockserver.journal import Journal
from mockserver.state import EXTENSION_KEY, MockState
from mockserver.store import TABLES as RESPONSE_TABLES
from mockserver.stubs import TABLES as STUB_TABLES
from mockserver.stubs import StubError, StubStore, load_stub_file


def create_app(config: MockConfig | None = None) -> Flask:
    """Build a fresh mock app: specs loaded and every validator compiled up front.

    The Flask app is what users and servers are handed (``app.test_client()``, WSGI);
    its ``wsgi_app`` answers the API routes and passes ``/_mock/`` on to Flask.

    >>> app = create_app(MockConfig(api_key="test-key"))
    >>> app.test_client().get("/_mock/health").status_code
    200
    """
    config = config or MockConfig()
    app = Flask("mockserver")
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.config["DEBUG"] = config.debug
    specs = load_specs(config.specs_dir)
    # Compile validators and load the tokenizer now, so no request pays for them.
    specs.compile_all()
    encoding()
    # Every table the app's state needs; each store module contributes its own DDL.
    tables = [*RESPONSE_TABLES, *STUB_TABLES, *JOURNAL_TABLES]
    db = Database(
        config.state_path or temporary_state_path(), schema=tables, max_bytes=config.state_max_bytes
    )
    stubs = StubStore(db)
    if config.stubs_file is not None:
        try:
            stubs.add(load_stub_file(config.stubs_file))
        except StubError as exc:
            raise UsageError(str(exc)) from exc
    journal = Journal(db, config.journal_body_max_bytes, config.journal_max_bytes)
    # A count left over by a server that was killed mid-response would stall journal reads.
    journal.finishing.reset()
    state = MockState(config=config, specs=specs, db=db, journal=journal, stubs=stubs)
    app.extensions[EXTENSION_KEY] = state
    # Flask serves the admin routes under /_mock/; the API routes are answered before
    # Flask sees them (see mockserver.api.dispatch). Wrapping wsgi_app is Flask's documented
    # way to put middleware in front of an app; mypy sees a method being replaced.
    app.register_blueprint(admin)
    install_error_handlers(app)
    app.wsgi_app = ApiApp(state, app.wsgi_app)  # type: ignore[method-assign]
    # CORS outside the API routes (preflights never reach them), the access log outermost
    # so its latency covers everything.
    if config.cors_origins:
        app.wsgi_app = CorsMiddleware(app.wsgi_app, config.cors_origins)  # type: ignore[method-assign]
    if config.access_log:
        app.wsgi_app = AccessLog(app.wsgi_app)  # type: ignore[method-assign]
    app.after_request(stamp_request_id)
    return app
