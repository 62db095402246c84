"""The mock's configuration: one frozen value, built by the CLI or by tests, read by the app."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Bodies above this size get a JSON 413 instead of being read into memory.
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024
# gpt-4-0613's context window: a longer prompt is the live API's `context_length_exceeded`.
DEFAULT_CONTEXT_WINDOW = 8192
# A journal entry keeps at most this much of a request body (the rest is cut, with a marker).
DEFAULT_JOURNAL_BODY_MAX_BYTES = 64 * 1024
# The journal drops its oldest entries past this total size.
DEFAULT_JOURNAL_MAX_BYTES = 64 * 1024 * 1024


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
    # Prompts (messages or input, with tools) longer than this many tokens are refused.
    context_window: int = DEFAULT_CONTEXT_WINDOW
    # The address the server listens on: the admin API accepts it as a Host besides the
    # loopback names; on a wildcard address (0.0.0.0, ::) it accepts any Host.
    listen_host: str | None = None
    # The state file may grow to this many bytes; past it a write is a 507 (None: the disk).
    state_max_bytes: int | None = None
    # The journal keeps each request body up to this many bytes, and all entries up to this.
    journal_body_max_bytes: int = DEFAULT_JOURNAL_BODY_MAX_BYTES
    journal_max_bytes: int = DEFAULT_JOURNAL_MAX_BYTES
    # Keep the request journal. Off (`harness serve --no-journal`) for load tests that never
    # read it: writing each request's entry is about a third of a stream's CPU under load.
    journal: bool = True
    # More model names to serve, each exactly as the first loaded document serves its model
    # (the shipped gpt-4): requests naming one are checked as if they named that model, and
    # answers name the model asked for.
    model_aliases: tuple[str, ...] = ()
    # Browser origins the API routes answer CORS for ("*": any); empty: no CORS headers.
    cors_origins: tuple[str, ...] = ()
    # An access log line per API request (logger "mockserver.access"); off in tests.
    access_log: bool = False
    # Shared state on Redis (redis://HOST:PORT/DB or rediss://...) instead of the SQLite
    # file; state_path then only anchors this machine's small counter files.
    state_url: str | None = None
    # The prefix of every Redis key, so several mocks can share one Redis.
    redis_prefix: str = "harness:"
    # Probabilistic faults on the API routes: (fault name, rate) pairs, e.g.
    # (("rate_limit", 0.05), ("disconnect", 0.01)); see mockserver.chaos (parse_chaos reads
    # the `--chaos` text). Empty: none.
    chaos: tuple[tuple[str, float], ...] = ()
    # The seed of every chaos draw (server-wide and stubs'): the same seed, the same faults.
    chaos_seed: int = 0

    def __post_init__(self) -> None:
        # Paths given as text (MockConfig(stubs_file="stubs.yaml"), as the docs show them
        # written) are read as paths: a str stubs_file crashed at start on .read_text.
        for name in ("specs_dir", "state_path", "stubs_file"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, Path(value))
