"""An emulator of the AIML API (OpenAI-compatible) built on the ``harness`` contract library."""

from __future__ import annotations

from mockserver.app import close_app, create_app
from mockserver.config import MockConfig

__all__ = ["MockConfig", "close_app", "create_app"]
