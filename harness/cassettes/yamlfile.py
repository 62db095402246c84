"""Cassette YAML read with a bound on what its aliases may expand to.

Every reader of cassettes (``harness serve --replay``, ``harness cassettes check``,
``harness validate``, appending in ``harness record``) loads the text through
:func:`load_cassette_yaml`: the bound of :mod:`harness.yaml_aliases`, then vcrpy's own safe
loader, so what is read is exactly what vcrpy reads.
"""

from __future__ import annotations

from typing import Any

# vcrpy ships no type hints; its deserializer builds the document (its safe cassette loader).
from vcr.serializers import yamlserializer  # type: ignore[import-untyped]

from harness.yaml_aliases import MAX_ALIAS_EXPANSION, AliasExpansionError, compose_bounded

__all__ = ["MAX_ALIAS_EXPANSION", "AliasExpansionError", "load_cassette_yaml"]


def load_cassette_yaml(text: str) -> Any:
    """The YAML document in ``text``, as vcrpy's cassette loader builds it.

    Raises :class:`AliasExpansionError` (a ``yaml.YAMLError``) when its aliases repeat more
    than :data:`MAX_ALIAS_EXPANSION` nodes and characters (or more than the document writes
    out), or when it nests too deeply to be read; any other ``yaml.YAMLError`` when it is not
    YAML.
    """
    compose_bounded(text)
    return yamlserializer.deserialize(text)
