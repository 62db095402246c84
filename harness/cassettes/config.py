"""The vcrpy configuration the harness records and replays with, for users' own tests.

``vcr_config()`` is a dict of ``vcr.VCR`` / ``use_cassette`` keyword arguments, as
pytest-recording's ``vcr_config`` fixture expects; its ``match_on`` names the
``json_body`` matcher, which must be registered on the ``VCR`` that uses it
(:func:`register_matchers`; with pytest-recording, in its ``pytest_recording_configure``
hook). :func:`create_vcr` does both for plain vcrpy::

    from harness.cassettes import create_vcr

    with create_vcr().use_cassette("cassettes/documented/chat-completion.yaml"):
        client.chat.completions.create(model="gpt-4", messages=[...])
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# vcrpy ships no type hints.
import vcr  # type: ignore[import-untyped]

from harness.cassettes.matching import JSON_BODY_MATCHER, match_json_body
from harness.cassettes.scrub import (
    SECRET_HEADERS,
    carried_secrets,
    redact,
    redact_bytes,
    redact_headers,
    scrub_headers,
    scrub_uri,
)

MATCH_ON = ("method", "path", JSON_BODY_MATCHER)
# Query parameters named in the filter list (the pattern-based rest is dropped by the hook).
SECRET_QUERY_PARAMETERS = ("api_key", "api-key", "apikey", "key", "access_token", "token")


def vcr_config(*, secrets: Iterable[str] = ()) -> dict[str, Any]:
    """Keyword arguments for ``vcr.VCR(...)`` or pytest-recording's ``vcr_config`` fixture.

    - ``filter_headers``/``filter_query_parameters``: credentials are removed before a request
      is recorded; the filters also note each key they remove, so the response hook can
      replace that key (and any of ``secrets``) wherever it appears in a recorded body.
    - ``before_record_request``/``before_record_response``: drop every header and query
      parameter whose name says it carries a credential (``harness.cassettes.scrub``).
    - ``decode_compressed_response``: bodies are stored as readable text, never gzip.
    - ``match_on``: method, path, and the JSON body compared as data (key order and
      whitespace ignored); the ``json_body`` matcher must be registered on the ``VCR``.
    """
    seen: set[str] = {value for value in secrets if value}

    # Closures rather than functools.partial: pytest-recording deep-copies the config, which
    # copies a partial's arguments (and so would split ``seen`` in two) but not a function.
    def remember(key: str, value: Any, request: Any) -> None:
        # vcrpy's header/query filters call this with the value they are about to drop.
        text = str(value[0] if isinstance(value, list | tuple) and value else value)
        seen.update(carried_secrets({key: [text]}) | ({text} if text else set()))
        return None

    def scrub_request(request: Any) -> Any:
        return _scrub_request(request, seen)

    def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
        return _scrub_response(response, seen)

    return {
        "filter_headers": [(name, remember) for name in sorted(SECRET_HEADERS)],
        "filter_query_parameters": [(name, remember) for name in SECRET_QUERY_PARAMETERS],
        "before_record_request": scrub_request,
        "before_record_response": scrub_response,
        "decode_compressed_response": True,
        "match_on": list(MATCH_ON),
    }


def register_matchers(target: Any) -> Any:
    """Register the ``json_body`` matcher on a ``vcr.VCR`` (returned, for chaining)."""
    target.register_matcher(JSON_BODY_MATCHER, match_json_body)
    return target


def create_vcr(**overrides: Any) -> Any:
    """A ``vcr.VCR`` with :func:`vcr_config` (updated by ``overrides``) and the matcher."""
    options = {**vcr_config(), **overrides}
    return register_matchers(vcr.VCR(**options))


def _scrub_request(request: Any, seen: set[str]) -> Any:
    headers = {name: [str(value)] for name, value in request.headers.items()}
    seen.update(carried_secrets(headers))
    request.headers = {
        name: values[0] for name, values in redact_headers(scrub_headers(headers), seen).items()
    }
    request.uri = redact(scrub_uri(request.uri), seen)
    body = request.body
    if isinstance(body, bytes) and seen:
        request.body = redact_bytes(body, seen)
    return request


def _scrub_response(response: dict[str, Any], seen: set[str]) -> dict[str, Any]:
    headers = response.get("headers") or {}
    listed = {
        str(name): [str(value) for value in (values if isinstance(values, list) else [values])]
        for name, values in headers.items()
    }
    response["headers"] = redact_headers(scrub_headers(listed), seen)
    body = response.get("body")
    if isinstance(body, dict) and seen:
        text = body.get("string")
        if isinstance(text, bytes):
            body["string"] = redact_bytes(text, seen)
        elif isinstance(text, str):
            body["string"] = redact(text, seen)
    return response
