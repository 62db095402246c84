"""What one app holds for its lifetime, kept in ``app.extensions`` (never in globals)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from harness.spec import SpecSet
from mockserver.chaos import Chaos
from mockserver.config import MockConfig
from mockserver.journal import Journal
from mockserver.storage import StateBackend
from mockserver.stubs import StubStore

EXTENSION_KEY = "mockserver"


@dataclass
class MockState:
    config: MockConfig
    specs: SpecSet
    # The store of responses, stubs and journal (SQLite or Redis); named for what it was.
    db: StateBackend
    journal: Journal
    stubs: StubStore
    # Server-wide probabilistic faults (``--chaos``); None: none.
    chaos: Chaos | None = None


def current_state() -> MockState:
    state: MockState = current_app.extensions[EXTENSION_KEY]
    return state
