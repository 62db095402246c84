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
from pathlib import Path
from typing import Any

# vcrpy ships no type hints.
import vcr  # type: ignore[import-untyped]
from vcr.serialize import serialize as serialize_cassette  # type: ignore[import-untyped]
from vcr.serializers import yamlserializer  # type: ignore[import-untyped]

from harness.cassettes.cassette import RecordedRequest, RecordedResponse, write_text_atomically
from harness.cassettes.matching import JSON_BODY_MATCHER, match_json_body
from harness.cassettes.scrub import Secrets, scrub_request, scrub_response
from harness.cassettes.yamlfile import load_cassette_yaml

MATCH_ON = ("method", "path", JSON_BODY_MATCHER)


def vcr_config(*, secrets: Iterable[str] = ()) -> dict[str, Any]:
    """Keyword arguments for ``vcr.VCR(...)`` or pytest-recording's ``vcr_config`` fixture.

    - ``before_record_request``/``before_record_response``: the scrubbing pipeline of
      ``harness record`` (:mod:`harness.cassettes.scrub`): credential headers and query
      parameters dropped, and the key in use, the credential-shaped values among them
      (12+ characters, letters and digits) and any of ``secrets`` redacted wherever else
      they appear, in every wire form (never inside a JSON key). vcrpy also runs the
      request hook on the requests it replays, so a redacted body still matches.
    - ``decode_compressed_response``: bodies are stored as readable text, never gzip.
    - ``match_on``: method, path, and the JSON body compared as data (key order and
      whitespace ignored); the ``json_body`` matcher must be registered on the ``VCR``.
    """
    seen = Secrets(value for value in secrets if value)

    # Closures rather than functools.partial: pytest-recording deep-copies the config, which
    # copies a partial's arguments (and so would split ``seen`` in two) but not a function.
    def scrub_request_hook(request: Any) -> Any:
        return _scrub_vcr_request(request, seen)

    def scrub_response_hook(response: dict[str, Any]) -> dict[str, Any]:
        return _scrub_vcr_response(response, seen)

    return {
        "before_record_request": scrub_request_hook,
        "before_record_response": scrub_response_hook,
        "decode_compressed_response": True,
        "match_on": list(MATCH_ON),
    }


def register_matchers(target: Any) -> Any:
    """Register the harness's parts on a ``vcr.VCR`` (returned, for chaining).

    - the ``json_body`` matcher that :func:`vcr_config`'s ``match_on`` names;
    - the ``yaml`` serializer: vcrpy's own, reading through the harness's bound on YAML alias
      expansion (:mod:`harness.cassettes.yamlfile`), so a "billion laughs" cassette is refused;
    - atomic saving: vcrpy's persister writes a cassette in place, so a test run killed while
      it writes leaves half a file; the wrapped persister loads as before (pytest-recording's
      included) and saves by a temporary file and a rename.
    """
    target.register_matcher(JSON_BODY_MATCHER, match_json_body)
    target.register_serializer("yaml", BoundedYamlSerializer)
    if not isinstance(target.persister, AtomicPersister):
        target.register_persister(AtomicPersister(target.persister))
    return target


class BoundedYamlSerializer:
    """vcrpy's YAML serializer, reading with the harness's bound on alias expansion."""

    @staticmethod
    def deserialize(cassette_string: str) -> Any:
        return load_cassette_yaml(cassette_string)

    @staticmethod
    def serialize(cassette_dict: dict[str, Any]) -> str:
        text: str = yamlserializer.serialize(cassette_dict)
        return text


class AtomicPersister:
    """A vcrpy persister that loads as ``inner`` does and saves by temporary file and rename."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def load_cassette(self, cassette_path: Any, serializer: Any) -> Any:
        return self.inner.load_cassette(cassette_path, serializer)

    def save_cassette(self, cassette_path: Any, cassette_dict: Any, serializer: Any) -> None:
        write_text_atomically(Path(cassette_path), serialize_cassette(cassette_dict, serializer))


def create_vcr(**overrides: Any) -> Any:
    """A ``vcr.VCR`` with :func:`vcr_config` (updated by ``overrides``) and the matcher."""
    options = {**vcr_config(), **overrides}
    return register_matchers(vcr.VCR(**options))


def _scrub_vcr_request(request: Any, seen: Secrets) -> Any:
    """vcrpy's ``Request`` through :func:`scrub_request` and back."""
    body = request.body
    recorded = RecordedRequest(
        method=str(request.method),
        uri=str(request.uri),
        body=body if isinstance(body, bytes) else (body or "").encode("utf-8"),
        headers={str(name): [str(value)] for name, value in request.headers.items()},
    )
    scrubbed = scrub_request(recorded, seen)
    request.uri = scrubbed.uri
    request.headers = {name: values[0] for name, values in scrubbed.headers.items() if values}
    if body:
        request.body = scrubbed.body if isinstance(body, bytes) else scrubbed.body.decode()
    return request


def _scrub_vcr_response(response: dict[str, Any], seen: Secrets) -> dict[str, Any]:
    """vcrpy's response dict through :func:`scrub_response` and back."""
    headers = response.get("headers") or {}
    listed = {
        str(name): [str(value) for value in (values if isinstance(values, list) else [values])]
        for name, values in headers.items()
    }
    body = response.get("body")
    text = body.get("string") if isinstance(body, dict) else None
    raw = text.encode("utf-8") if isinstance(text, str) else text
    status = response.get("status") or {}
    scrubbed = scrub_response(
        RecordedResponse(
            status=int(status.get("code") or 0),
            reason=str(status.get("message") or ""),
            headers=listed,
            body=raw if isinstance(raw, bytes) else b"",
        ),
        seen,
    )
    response["headers"] = dict(scrubbed.headers)
    if isinstance(body, dict) and isinstance(text, bytes | str):
        body["string"] = scrubbed.body if isinstance(text, bytes) else scrubbed.body.decode()
    return response
