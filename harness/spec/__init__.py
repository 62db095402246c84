"""Load the published OpenAPI documents, apply their overlays, index their operations."""

from __future__ import annotations

from pathlib import Path

from harness.spec.index import EVENT_STREAM, JSON, Operation, SpecSet
from harness.spec.loader import SpecDocument, default_specs_dir, load_documents
from harness.spec.overlays import Overlay, OverlayAction, apply_overlay, parse_overlay, read_overlay


def load_specs(specs_dir: Path | str | None = None, *, overlays: bool = True) -> SpecSet:
    """Load a specs folder (default: the specs shipped with the package) into a :class:`SpecSet`.

    >>> specs = load_specs()
    >>> specs.find("/v1/chat/completions", "post", "gpt-4").operation_id
    '_v1_chat_completions'
    """
    folder = Path(specs_dir) if specs_dir is not None else None
    return SpecSet(load_documents(folder, overlays=overlays))


__all__ = [
    "EVENT_STREAM",
    "JSON",
    "Operation",
    "Overlay",
    "OverlayAction",
    "SpecDocument",
    "SpecSet",
    "apply_overlay",
    "default_specs_dir",
    "load_documents",
    "load_specs",
    "parse_overlay",
    "read_overlay",
]
