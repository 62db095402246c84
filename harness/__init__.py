"""Contract library and tools for the AIML API (OpenAI-compatible chat completions and responses).

The public surface: load the specs (with their overlays), validate requests, responses and
streams against them, and the ``harness`` command line.
"""

from __future__ import annotations

from harness.errors import HarnessError, OverlayError, SpecLoadError, UsageError
from harness.schema import CompiledSchema, TaggedUnion, Violation, to_json_schema
from harness.spec import Operation, SpecSet, load_specs

__version__ = "0.1.0"

__all__ = [
    "CompiledSchema",
    "HarnessError",
    "Operation",
    "OverlayError",
    "SpecLoadError",
    "SpecSet",
    "TaggedUnion",
    "UsageError",
    "Violation",
    "__version__",
    "load_specs",
    "to_json_schema",
]
