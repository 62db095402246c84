"""pytest plugin (entry point ``pytest11: harness``): a live mock server per session (one per
configuration, see ``mock_server_config``).

Fixtures:
- ``mock_server``: a :class:`harness.testing.LiveServer` (one per session, reset before each
  test): ``.url``, ``.base_url``, ``.stub(...)``, ``.requests`` (the journal: a list, with
  ``.filter(path=, model=, status=, stub_id=, fault=, body_contains=, predicate)``),
  ``.near_misses(...)`` (why no stub answered), ``.unused_stubs()`` (stubs that answered
  nothing), ``.reset()``.
- ``mock_server_config``: override it (session scope; in a folder's ``conftest.py``, for
  that folder) to start the server with another :class:`mockserver.MockConfig` (e.g.
  ``chaos=(("rate_limit", 0.05),)``: the reset before each test restarts the chaos draws,
  so each test meets the same faults).
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
def _mock_servers() -> Iterator[dict[int, tuple[MockConfig, LiveServer]]]:
    """The session's servers, one per configuration, started when first needed.

    One per configuration because ``mock_server_config`` can be overridden in a folder's
    ``conftest.py``: a single server took the configuration of whichever test came first, so
    the folder's was ignored, or applied to the whole session, depending on the order. Keyed
    by the configuration object, which each (session-scoped) override returns every time:
    a configuration holding a list is not hashable.
    """
    servers: dict[int, tuple[MockConfig, LiveServer]] = {}
    yield servers
    for _, server in servers.values():
        # Releases the app as well (mockserver.close_app): its journal written, its writer
        # thread ended, its temporary state folder removed before the session's exit.
        server.stop()


@pytest.fixture
def mock_server(
    mock_server_config: MockConfig, _mock_servers: dict[int, tuple[MockConfig, LiveServer]]
) -> LiveServer:
    """The session's live mock server for this test's configuration, with no stubs, no
    stored responses and an empty journal (a response an earlier test stored is not there
    to retrieve or continue)."""
    from harness.testing import LiveServer

    found = _mock_servers.get(id(mock_server_config))
    if found is None:
        # The configuration is kept with its server, so its id is never reused meanwhile.
        found = (mock_server_config, LiveServer(mock_server_config).start())
        _mock_servers[id(mock_server_config)] = found
    server = found[1]
    server.reset()
    return server


@pytest.fixture
def assert_conforms() -> Callable[..., None]:
    """Assert that a response or stream conforms to the spec, listing every violation."""
    from harness.testing import assert_conforms as check

    def assert_conforms_(response: Any, **options: Any) -> None:
        check(response, **options)

    return assert_conforms_
