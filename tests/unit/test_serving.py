"""How granian's workers get their app: the one built before the fork, or one of their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver import MockConfig, create_app, serving
from mockserver.state import EXTENSION_KEY


def test_a_forked_worker_serves_the_app_built_before_the_fork(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    built = create_app(MockConfig(state_path=tmp_path / "state.sqlite3"))
    monkeypatch.setattr(serving, "_built_before_fork", built)
    assert serving.app_from_environment() is built


def test_a_fresh_worker_builds_the_app_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = MockConfig(api_key="k-123", state_path=tmp_path / "shared.sqlite3")
    monkeypatch.setattr(serving, "_built_before_fork", None)
    monkeypatch.setenv(serving.CONFIG_ENV, serving._dump_config(config))
    app = serving.app_from_environment()
    state = app.extensions[EXTENSION_KEY]
    assert state.config == config
    assert state.db.path == tmp_path / "shared.sqlite3"  # the state every worker shares
    answer = app.test_client().get("/v1/models", headers={"Authorization": "Bearer k-123"})
    assert answer.status_code == 200


def test_a_worker_drops_the_variables_a_request_environ_would_read_as_its_own() -> None:
    environment = {
        "HTTP_PROXY": "http://user:secret@proxy.invalid:3128",
        "HTTP_AUTHORIZATION": "Bearer sk-env",
        "CONTENT_LENGTH": "5",
        "CONTENT_TYPE": "text/plain",
        "http_proxy": "http://proxy.invalid:3128",  # not a CGI name: no environ reads it
        "PATH": "/usr/bin",
        "HARNESS_MOCK_CONFIG": "{}",
        "XHTTP_NOT_A_HEADER": "1",
    }
    removed = serving.drop_request_variables(environment)
    assert sorted(removed) == ["CONTENT_LENGTH", "CONTENT_TYPE", "HTTP_AUTHORIZATION", "HTTP_PROXY"]
    assert environment == {
        "http_proxy": "http://proxy.invalid:3128",
        "PATH": "/usr/bin",
        "HARNESS_MOCK_CONFIG": "{}",
        "XHTTP_NOT_A_HEADER": "1",
    }
