"""What one app holds for its lifetime, kept in ``app.extensions`` (never in globals)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from harness.spec import SpecSet
from mockserver.config import MockConfig
from mockserver.db import Database
from mockserver.journal import Journal
from mockserver.stubs import StubStore

EXTENSION_KEY = "mockserver"


@dataclass
class MockState:
    config: MockConfig
    specs: SpecSet
    db: Database
    journal: Journal
    stubs: StubStore


def current_state() -> MockState:
    state: MockState = current_app.extensions[EXTENSION_KEY]
    return state
