"""Read spec documents and their overlays from a folder, and build the effective specs.

A specs folder holds the published documents (in ``upstream/``, or at the top level) and
OpenAPI Overlay documents in ``overlays/``, applied in file-name order. An overlay names
the document it corrects with ``extends``; one without ``extends`` applies to every
document. The effective documents are cached on disk, keyed by the sha256 of every input,
because applying recursive-descent JSONPath actions to the 1.8 MB Responses spec costs
about a second while reading the cached result costs milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from harness.atomic import replace_file
from harness.errors import SpecLoadError
from harness.spec.overlays import Overlay, apply_overlay, read_overlay

# Bump when the applier or the cache format changes, so old cache entries are ignored.
_CACHE_FORMAT = "1"
CACHE_ENV = "HARNESS_CACHE_DIR"


@dataclass(frozen=True)
class SpecDocument:
    """One published document, its overlays, and the result of applying them."""

    name: str
    path: Path
    upstream: dict[str, Any]
    effective: dict[str, Any]
    overlays: tuple[Overlay, ...]


def default_specs_dir() -> Path:
    """The specs shipped with the package (the wheel's ``harness/specs``, else the checkout's)."""
    packaged = resources.files("harness") / "specs"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "specs"
    if checkout.is_dir():
        return checkout
    raise SpecLoadError("no specs folder shipped with the package; pass one explicitly")


def load_documents(specs_dir: Path | None = None, *, overlays: bool = True) -> list[SpecDocument]:
    """Load every document of a specs folder, with its overlays applied unless told not to."""
    folder = Path(specs_dir) if specs_dir is not None else default_specs_dir()
    # Absolute, as the overlays' `extends` are resolved: a relative folder compared equal
    # to none of its own documents.
    folder = folder.resolve()
    if not folder.is_dir():
        raise SpecLoadError(f"{folder}: specs folder does not exist")
    upstream_dir = folder / "upstream" if (folder / "upstream").is_dir() else folder
    spec_paths = sorted(upstream_dir.glob("*.json"))
    if not spec_paths:
        raise SpecLoadError(f"{upstream_dir}: no *.json spec documents found")
    overlay_paths = (
        sorted([*(folder / "overlays").glob("*.yaml"), *(folder / "overlays").glob("*.json")])
        if overlays
        else []
    )
    parsed_overlays = [read_overlay(path) for path in overlay_paths]
    for overlay, path in zip(parsed_overlays, overlay_paths, strict=True):
        if overlay.extends is not None and _resolve(path, overlay.extends) not in spec_paths:
            raise SpecLoadError(f"{path}: extends {overlay.extends!r}, which is not in {folder}")

    documents = []
    for spec_path in spec_paths:
        raw = spec_path.read_bytes()
        upstream = _parse_json(raw, spec_path)
        mine = [
            (overlay, path)
            for overlay, path in zip(parsed_overlays, overlay_paths, strict=True)
            if overlay.extends is None or _resolve(path, overlay.extends) == spec_path
        ]
        effective = _effective(upstream, raw, mine) if mine else upstream
        documents.append(
            SpecDocument(
                name=spec_path.stem,
                path=spec_path,
                upstream=upstream,
                effective=effective,
                overlays=tuple(overlay for overlay, _ in mine),
            )
        )
    return documents


def _resolve(overlay_path: Path, reference: str) -> Path:
    return (overlay_path.parent / reference).resolve()


def _parse_json(raw: bytes, path: Path) -> dict[str, Any]:
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise SpecLoadError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or "paths" not in document:
        raise SpecLoadError(f"{path}: not an OpenAPI document (no `paths`)")
    return document


def _effective(
    upstream: dict[str, Any], raw: bytes, overlays: list[tuple[Overlay, Path]]
) -> dict[str, Any]:
    digest = hashlib.sha256(_CACHE_FORMAT.encode())
    digest.update(raw)
    for _, path in overlays:
        digest.update(path.read_bytes())
    cache_file = cache_dir() / f"effective-{digest.hexdigest()[:32]}.json"
    try:
        cached: dict[str, Any] = json.loads(cache_file.read_bytes())
        return cached
    except (OSError, ValueError):
        pass
    document = upstream
    for overlay, _ in overlays:
        document = apply_overlay(document, overlay)
    _write_cache(cache_file, document)
    return document


def cache_dir() -> Path:
    """Where effective specs (and other derived data) are cached: $HARNESS_CACHE_DIR, else
    the user's cache folder."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aimlapi-harness"


def _write_cache(cache_file: Path, document: dict[str, Any]) -> None:
    # Replaced whole, so a concurrent reader (several server workers start at once) never
    # sees half a file. A cache that cannot be written only costs speed, so failures are
    # ignored, and it is not synced to disk.
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        replace_file(cache_file, json.dumps(document, separators=(",", ":")), durable=False)
    except OSError:
        return
