"""YAML read with a bound on what its aliases may expand to.

YAML anchors (``&a``) and aliases (``*a``) let a few hundred bytes stand for billions of
values (the "billion laughs"): PyYAML builds the shared object once, so loading is cheap, but
anything that then walks the data (a check, an error message that shows a value, a replay
matcher, a stub's match) walks every repetition and spins for hours, and an alias that
refers to the node containing it builds a structure that contains itself. So the document's
node graph is measured before anything is built: what the aliases repeat may not pass
:data:`MAX_ALIAS_EXPANSION` nodes and characters, or the size of the document as written when
that is larger, so whatever walks the data does at most about twice the work its size says.

Written by hand because neither PyYAML nor libyaml has such a limit (go-yaml's
``allowedAliasRatio`` is the same idea). Kept apart from the cassette readers
(:mod:`harness.cassettes.yamlfile`, which build with vcrpy's loader) so that the mock's stub
files are read with the same bound without importing vcrpy into the server.
"""

from __future__ import annotations

from typing import Any

import yaml

# How many nodes and characters of text the aliases of one document may repeat, in all (or as
# many as the document writes out, if more). The cassettes vcrpy writes use no aliases (or a
# few, for a shared header list); a "billion laughs" of 644 bytes repeats about 3 billion.
MAX_ALIAS_EXPANSION = 100_000

# libyaml's parser, as vcrpy uses, when PyYAML has it (it is also bounded in nesting depth).
_Composer: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class AliasExpansionError(yaml.YAMLError):
    """A YAML document whose aliases expand beyond :data:`MAX_ALIAS_EXPANSION`, or refer to
    themselves."""


def load_bounded_yaml(text: str) -> Any:
    """The YAML document in ``text`` (PyYAML's safe loader), its aliases bounded.

    Raises :class:`AliasExpansionError` (a ``yaml.YAMLError``) as :func:`compose_bounded`
    does; any other ``yaml.YAMLError`` when it is not YAML.
    """
    compose_bounded(text)
    return yaml.safe_load(text)


def compose_bounded(text: str) -> None:
    """Check the node graph of ``text``: :class:`AliasExpansionError` when its aliases repeat
    more than :data:`MAX_ALIAS_EXPANSION` nodes and characters (or more than the document
    writes out), refer to a node that contains them, or when it nests too deeply to be read.
    """
    try:
        root = yaml.compose(text, Loader=_Composer)
    except RecursionError as exc:  # the pure-Python parser, where libyaml is missing
        raise AliasExpansionError("the YAML nests too deeply to be read") from exc
    if root is not None:
        check_alias_expansion(root)


def check_alias_expansion(root: yaml.Node, limit: int = MAX_ALIAS_EXPANSION) -> None:
    """Refuse a node graph whose shared nodes (aliases) repeat more than ``limit`` nodes and
    characters (or more than the document writes out, if that is more), or that contains
    itself.

    The walk visits each distinct node once (sizes are remembered by node), without recursion,
    so it is as cheap as the document is long.
    """
    # Python's integers do not overflow, and their length grows only with the nesting depth.
    expanded: dict[int, int] = {}  # id(node) -> nodes + characters it stands for
    written = 0  # the same, counting each distinct node once
    ancestors: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        children = _children(node)
        if finished:
            ancestors.discard(key)
            own = 1 + (len(node.value) if isinstance(node, yaml.ScalarNode) else 0)
            written += own
            expanded[key] = own + sum(expanded[id(child)] for child in children)
            continue
        if key in expanded:
            continue
        if key in ancestors:
            raise AliasExpansionError("a YAML alias refers to a node that contains it")
        ancestors.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in expanded)
    repeated = expanded[id(root)] - written
    if repeated > max(limit, written):
        raise AliasExpansionError(
            f"YAML aliases (*name) repeat more than {max(limit, written):,} nodes and "
            f"characters of text (a 'billion laughs'); the limit is {limit:,}, or the size of "
            "the document as written if that is larger"
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
