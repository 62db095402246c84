"""The matrix's guard: a client that tries any host but the mock's fails on this machine.

`.invalid` names never resolve, so even a broken guard sends nothing off the machine.
"""

from __future__ import annotations

import httpx
import pytest
import requests

from tests.fixtures.servers import RunningServer

ELSEWHERE = "https://client-matrix.invalid/v1/models"


def test_other_hosts_go_to_a_closed_local_proxy(mock: RunningServer) -> None:
    with pytest.raises(requests.exceptions.ProxyError):
        requests.get(ELSEWHERE, timeout=5)
    # Refused by the proxy port, not a failed name lookup: the request never left.
    with pytest.raises(httpx.ConnectError, match="Connection refused"):
        httpx.get(ELSEWHERE, timeout=5)


def test_the_mock_is_reached_directly(mock: RunningServer) -> None:
    assert requests.get(f"{mock.url}/_mock/health", timeout=5).status_code == 200
    assert httpx.get(f"{mock.url}/_mock/health", timeout=5).status_code == 200
