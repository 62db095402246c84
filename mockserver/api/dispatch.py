"""The API routes' WSGI application: routing, the guard, errors and the journal, around views.

The API routes are served here, in front of Flask, and only ``/_mock/`` goes on to Flask.
Flask's per-request machinery (context push and pop, a URL adapter bound twice, hooks and
signals, response conversion) cost about 85 µs a request here (measured in process: 202 µs
a plain chat request through Flask, 117 µs here), more than the mock's own work costs
(validation, planning, tokens, rendering), on a path load tests call thousands of times a
second. Werkzeug, which Flask is built on, still does the routing and
the request and response handling; what is written here is only the order of the steps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.wrappers import Request, Response

from mockserver.api.chat import create_chat_completion
from mockserver.api.guard import guard
from mockserver.api.models import list_models, retrieve_model
from mockserver.api.responses import create_response, delete_response, retrieve_response
from mockserver.delivery import held_reply
from mockserver.engine.generation_limits import LIMIT_CODE, GenerationLimitError
from mockserver.engine.ids import new_id
from mockserver.errors import ErrorReply, MockError, error_response, reply_for_exception
from mockserver.exchange import Exchange
from mockserver.faults import HeldRequest
from mockserver.journal import ENTRY_ENVIRON_KEY, JournalEntry, journal_response
from mockserver.state import MockState

ADMIN_PREFIX = "/_mock/"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
View = Callable[..., Response]

# (path, methods, view); a path part in <...> is passed to the view by name.
ROUTES: tuple[tuple[str, tuple[str, ...], View], ...] = (
    ("/v1/chat/completions", ("POST",), create_chat_completion),
    ("/chat/completions", ("POST",), create_chat_completion),
    ("/v1/responses", ("POST",), create_response),
    ("/v1/responses/<response_id>", ("GET",), retrieve_response),
    ("/v1/responses/<response_id>", ("DELETE",), delete_response),
    ("/v1/models", ("GET",), list_models),
    ("/v1/models/<path:model>", ("GET",), retrieve_model),
)


REQUEST_ID_HEADER = "x-request-id"


def stamp_request_id(response: Response) -> Response:
    """Give a response the request id every live API response carries, unless it has one.

    Every answer of the mock gets it here: the API routes' and the admin routes' (a Flask
    ``after_request`` hook, see ``mockserver.app``).
    """
    # get, then add: werkzeug's setdefault scans the headers three times where this scans
    # them once.
    headers = response.headers
    if headers.get(REQUEST_ID_HEADER) is None:
        headers.add(REQUEST_ID_HEADER, new_id("req_", 32))
    return response


class ApiApp:
    """Serves every path but ``/_mock/``, which goes to ``admin`` (the Flask app)."""

    def __init__(self, state: MockState, admin: WSGIApp) -> None:
        self._state = state
        self._admin = admin
        self._views: dict[str, View] = {}
        rules = []
        for path, methods, view in ROUTES:
            endpoint = f"{view.__module__}.{view.__name__}"
            self._views[endpoint] = view
            rules.append(Rule(path, methods=list(methods), endpoint=endpoint))
        self._map = Map(rules)
        # The routes without path parts, found by one dict lookup before the URL map.
        self._fixed = {
            (method, path): view
            for path, methods, view in ROUTES
            if "<" not in path
            for method in methods
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO", "").startswith(ADMIN_PREFIX):
            return self._admin(environ, start_response)
        # Not put in its environ (werkzeug's default): the request and its environ would
        # hold each other, a cycle on every request left for the garbage collector.
        request = Request(environ, populate_request=False)
        request.max_content_length = self._state.config.max_body_bytes
        entry = JournalEntry(request.method, request.path)
        response = self._answer(Exchange(request, self._state, entry))
        stamp_request_id(response)
        # The access log reads the stub and the fault from the entry, journal or none.
        environ[ENTRY_ENVIRON_KEY] = entry
        if self._state.config.journal:
            journal_response(self._state.journal, entry, response, request)
        if isinstance(response.response, list):
            # A body in memory goes out as the list it is: granian sends a list in one
            # write, while any other iterable is pulled chunk by chunk from Python.
            response.direct_passthrough = True
        return response(environ, start_response)

    def _answer(self, exchange: Exchange) -> Response:
        request = exchange.request
        try:
            view, arguments = self._route(request)
            guard(exchange)
            return view(exchange, **arguments)
        except MockError as error:  # the common failure, answered without further checks
            return error_response(error.reply)
        except GenerationLimitError as error:  # a schema asks for more than the mock generates
            return error_response(
                ErrorReply(400, error.message, param=error.param, code=LIMIT_CODE)
            )
        except HeldRequest as held:
            return held_reply(request.environ, held)
        except RequestRedirect as redirect:  # "/v1//chat/completions" and the like
            # werkzeug's own answer is an HTML page: the status and Location stay (clients
            # that follow redirects get their answer), the body is the API's envelope.
            return error_response(
                ErrorReply(
                    redirect.code,
                    f"This URL is served at {redirect.new_url}: follow the redirect, "
                    "or send the request there.",
                    headers={"Location": redirect.new_url},
                )
            )
        except Exception as error:  # HTTP errors (404, 405, 413, ...) and the unexpected
            return error_response(reply_for_exception(error, request.method, request.path))

    def _route(self, request: Request) -> tuple[View, Mapping[str, Any]]:
        view = self._fixed.get((request.method, request.path))
        if view is not None:
            return view, {}
        # Raises NotFound, or MethodNotAllowed naming the allowed methods.
        endpoint, arguments = self._map.bind_to_environ(request.environ).match()
        return self._views[endpoint], arguments
