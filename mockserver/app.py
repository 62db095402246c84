"""The application factory."""

from __future__ import annotations

from flask import Flask

from harness.errors import UsageError
from harness.spec import SpecSet, load_specs
from mockserver.access_log import AccessLog
from mockserver.admin import admin
from mockserver.api import ApiApp
from mockserver.api.dispatch import stamp_request_id
from mockserver.chaos import ChaosError, build_chaos
from mockserver.config import MockConfig
from mockserver.cors import CorsMiddleware
from mockserver.dashboard import dashboard
from mockserver.db import TemporaryState
from mockserver.engine.tokens import load_tokenizer
from mockserver.errors import install_error_handlers
from mockserver.journal import Journal
from mockserver.sqlite_state import SqliteState
from mockserver.state import EXTENSION_KEY, MockState
from mockserver.storage import StateBackend
from mockserver.stubs import Stub, StubError, StubStore, load_stub_file


def create_app(config: MockConfig | None = None) -> Flask:
    """Build a fresh mock app: specs loaded and every validator compiled up front.

    The Flask app is what users and servers are handed (``app.test_client()``, WSGI);
    its ``wsgi_app`` answers the API routes and passes ``/_mock/`` on to Flask.

    >>> app = create_app(MockConfig(api_key="test-key"))
    >>> app.test_client().get("/_mock/health").status_code
    200
    """
    config = config or MockConfig()
    specs = load_specs(config.specs_dir)
    # Compile validators and load the tokenizer now, so no request pays for them.
    specs.compile_all()
    load_tokenizer()
    db = open_state(config)
    try:
        return _app_on(config, specs, db)
    except BaseException:
        db.close()  # a temporary state's folder goes now, not at the exit
        raise


def _app_on(config: MockConfig, specs: SpecSet, db: StateBackend) -> Flask:
    app = Flask("mockserver")
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.config["DEBUG"] = config.debug
    stubs = StubStore(db.stubs)
    file_stubs: list[Stub] = []
    if config.stubs_file is not None:
        try:
            file_stubs = load_stub_file(config.stubs_file, specs.paths)
            # Loaded once into the state: what a restart, another worker or another
            # instance on the same state loads again is kept as stored, with its use count.
            stubs.add(file_stubs, keep_same=True)
        except StubError as exc:
            raise UsageError(str(exc)) from exc
    journal = Journal(
        db.journal, config.journal_body_max_bytes, config.journal_max_bytes, local_path=db.path
    )
    # A count left over by a server that was killed mid-response would stall journal reads.
    journal.finishing.reset()
    try:
        # The request counter sits beside the state file, shared by this machine's workers.
        counter = db.path.with_name(db.path.name + ".chaos")
        chaos = build_chaos(config.chaos, config.chaos_seed, counter)
    except ChaosError as exc:
        raise UsageError(f"chaos: {exc}") from exc
    state = MockState(
        config=config,
        specs=specs,
        db=db,
        journal=journal,
        stubs=stubs,
        chaos=chaos,
        file_stubs=tuple(file_stubs),
    )
    app.extensions[EXTENSION_KEY] = state
    # werkzeug's router redirects "/_mock//health" to the merged path with an HTML page,
    # which Flask sends past the error handlers (redirects are routing, not errors). The
    # admin API answers such a path 404 in JSON instead. (The API routes answer the
    # redirect themselves, in JSON: see dispatch.)
    app.url_map.merge_slashes = False
    # Flask serves the admin routes under /_mock/; the API routes are answered before
    # Flask sees them (see mockserver.api.dispatch). Wrapping wsgi_app is Flask's documented
    # way to put middleware in front of an app; mypy sees a method being replaced.
    # Flask would answer OPTIONS on every admin route itself, 200 with an empty HTML body:
    # they answer 405 in JSON naming their methods instead, as the API routes do.
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.register_blueprint(admin)
    app.register_blueprint(dashboard)
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


def close_app(app: Flask) -> None:
    """Release what an app of :func:`create_app` holds, before the process exits.

    The journal's waiting entries are written first, then its writer thread ends; the
    state's connections and mapped counters are closed, and a temporary state folder the
    app made is removed (a ``state_path`` file and a Redis state's data stay). Without it,
    all of that stays until the process exits. Idempotent. A request still running is
    answered (its journal entry is not kept); one that needs the state after the close
    is a 503. ``harness.testing.LiveServer.stop()`` calls it.
    """
    state: MockState = app.extensions[EXTENSION_KEY]
    state.close()


def open_state(config: MockConfig) -> StateBackend:
    """The state store the configuration names: Redis for a ``state_url``, else SQLite."""
    if config.state_path is not None:
        path, temporary = config.state_path, None
    else:
        temporary = TemporaryState()
        path = temporary.path
    if config.state_url is not None:
        # Imported here: a mock on SQLite never loads the Redis client.
        from mockserver.redis_state import RedisState

        return RedisState(
            config.state_url,
            path,
            config.redis_prefix,
            journal_max_bytes=config.journal_max_bytes,
            temporary=temporary,
        )
    return SqliteState(
        path,
        max_bytes=config.state_max_bytes,
        journal_max_bytes=config.journal_max_bytes,
        # The temporary file is removed at exit: syncing it to disk would buy nothing.
        durable=config.state_path is not None,
        temporary=temporary,
    )
