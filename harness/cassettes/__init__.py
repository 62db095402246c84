"""Record, replay and check vcrpy cassettes of the AIML API.

- :func:`vcr_config` / :func:`register_matchers` / :func:`create_vcr`: the vcrpy
  configuration the harness uses (secrets scrubbed at record time; replay matching on method,
  path and the JSON body as data), for ``vcr.VCR(...)`` and pytest-recording's ``vcr_config``.
- :func:`read_cassette` / :func:`read_cassettes` / :func:`append_interaction`: cassette files,
  read with errors that name the file and the entry, written atomically.
- ``harness record`` (:mod:`harness.cassettes.recorder`), ``harness serve --replay``
  (:mod:`harness.cassettes.replay`) and ``harness cassettes check``
  (:mod:`harness.cassettes.drift`) are built on these; those modules load on demand.
"""

from __future__ import annotations

from harness.cassettes.cassette import (
    Cassette,
    CassetteError,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    append_interaction,
    find_cassette_files,
    read_cassette,
    read_cassettes,
    write_cassette,
)
from harness.cassettes.config import create_vcr, register_matchers, vcr_config
from harness.cassettes.matching import JSON_BODY_MATCHER, body_differences, match_json_body
from harness.secret_names import is_secret_name

__all__ = [
    "JSON_BODY_MATCHER",
    "Cassette",
    "CassetteError",
    "Interaction",
    "RecordedRequest",
    "RecordedResponse",
    "append_interaction",
    "body_differences",
    "create_vcr",
    "find_cassette_files",
    "is_secret_name",
    "match_json_body",
    "read_cassette",
    "read_cassettes",
    "register_matchers",
    "vcr_config",
    "write_cassette",
]
