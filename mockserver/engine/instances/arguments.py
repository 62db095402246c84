"""The schema a function call's arguments are generated from: ``parameters``, as an object.

A model's function-call ``arguments`` are always a JSON object (the SDKs and agent frameworks
``json.loads`` them and pass them on as keyword arguments), whatever ``parameters`` says:
``{}`` (any value), ``{"anyOf": [{"type": "object"}, {"type": "string"}]}``, or a ``type``
list all admit non-objects the live API never sends. So arguments are generated from
``parameters`` with ``type: object`` added. A ``parameters`` schema that no object satisfies
(``{"type": "string"}``) gets the boolean schema ``false``, whose answer is the empty object
(see ``engine.reply``): the arguments stay an object, and the schema allows nothing better.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.engine.generation_limits import GenerationBudget

_OBJECT: Mapping[str, Any] = {"type": "object"}


def arguments_schema(
    parameters: Mapping[str, Any] | None, budget: GenerationBudget | None = None
) -> Mapping[str, Any] | bool:
    """`parameters` constrained to objects (built once per request when `budget` is given,
    so the n choices of a request share one prepared schema)."""
    if parameters is None:
        return _OBJECT
    if budget is None:
        return _object_only(parameters)
    return budget.prepared(parameters, _object_only)


def _object_only(parameters: Mapping[str, Any]) -> Mapping[str, Any] | bool:
    kind = parameters.get("type")
    if kind == "object":
        return parameters  # already an object schema: the very same, so values do not change
    if kind is None or (isinstance(kind, list) and "object" in kind):
        return {**parameters, "type": "object"}
    return False
