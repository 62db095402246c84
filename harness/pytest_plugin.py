"""pytest plugin (entry point ``pytest11: harness``): a live mock server per session.

Fixtures:
- ``mock_server``: a :class:`harness.testing.LiveServer` (one per session, reset before each
  test): ``.url``, ``.base_url``, ``.stub(...)``, ``.requests`` (the journal: a list, with
  ``.filter(path=, model=, status=, stub_id=, fault=, body_contains=, predicate)``),
  ``.near_misses(...)`` (why no stub answered), ``.reset()``.
- ``mock_server_config``: override it (session scope) to start the server with another
  :class:`mockserver.MockConfig` (e.g. ``chaos=(("rate_limit", 0.05),)``: the reset before
  each test restarts the chaos draws, so each test meets the same faults).
- ``assert_conforms``: :func:`harness.testing.assert_conforms`, as a fixture.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from harness.testing import LiveServer
    from mockserver import MockConfig


@pytest.fixture(scope="session")
def mock_server_config() -> MockConfig:
    """The configuration of the session's mock server (override to change it)."""
    from mockserver import MockConfig

    return MockConfig()


@pytest.fixture(scope="session")
def _mock_server_session(mock_server_config: MockConfig) -> Iterator[LiveServer]:
    from harness.testing import LiveServer

    with LiveServer(mock_server_config) as server:
        yield server


@pytest.fixture
def mock_server(_mock_server_session: LiveServer) -> LiveServer:
    """The session's live mock server, with no stubs, no stored responses and an empty
    journal (a response an earlier test stored is not there to retrieve or continue)."""
    _mock_server_session.reset()
    return _mock_server_session


@pytest.fixture
def assert_conforms() -> Callable[..., None]:
    """Assert that a response or stream conforms to the spec, listing every violation."""
    from harness.testing import assert_conforms as check

    def assert_conforms_(response: Any, **options: Any) -> None:
        check(response, **options)

    return assert_conforms_
