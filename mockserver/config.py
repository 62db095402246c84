"""The mock's configuration: one frozen value, built by the CLI or by tests, read by the app."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# Bodies above this size get a JSON 413 instead of being read into memory.
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class MockConfig:
    """How one mock app behaves.

    ``api_key``: when set, only ``Authorization: Bearer <api_key>`` is accepted; otherwise any
    non-empty bearer key is. ``specs_dir``: a specs folder (published documents + overlays);
    ``None`` serves the specs shipped with the package.
    """

    specs_dir: Path | None = None
    api_key: str | None = None
    state_path: Path | None = None
    stubs_file: Path | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    debug: bool = False
