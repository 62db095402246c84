"""`enum` members: shuffled when the list is short, sampled when it is long."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from mockserver.engine.instances.core import GeneratorCore
from mockserver.engine.instances.errors import UnsatisfiableSchemaError
from mockserver.engine.instances.keywords import ANNOTATIONS, matches_type, types_of

# Enums longer than this are sampled instead of shuffled (see _generate_large_enum).
SAMPLED_ENUM_SIZE: Final = 64


class EnumMixin(GeneratorCore):
    def _generate_enum(self, schema: Mapping[str, Any], path: str) -> Any:
        values = schema["enum"]
        if isinstance(values, list) and len(values) > SAMPLED_ENUM_SIZE:
            return self._generate_large_enum(schema, values, path)
        kinds = types_of(schema)
        if kinds is not None:
            values = [v for v in values if any(matches_type(v, k) for k in kinds)]
        order = list(range(len(values)))
        self.rng.shuffle(order)
        order.sort(key=lambda i: values[i] is None)
        simple = all(k in ("enum", "type", *ANNOTATIONS) for k in schema)
        for index in order:
            if simple or self.is_valid(schema, values[index]):
                return self._copied(values[index])
        raise UnsatisfiableSchemaError(
            f"at {path!r}: no enum value satisfies the other constraints (keyword 'enum')"
        )

    def _generate_large_enum(self, schema: Mapping[str, Any], values: list[Any], path: str) -> Any:
        """A member of a large enum, drawn at random: shuffling or filtering the whole list
        for every value (128 choices of a 300,000-member enum) would cost more than the rest
        of the request. The walk from a random start is bounded by the step budget."""
        kinds = types_of(schema)
        simple = all(k in ("enum", "type", *ANNOTATIONS) for k in schema)
        start = self.rng.randrange(len(values))
        fallback: tuple[Any] | None = None
        for offset in range(len(values)):
            self.tick()
            value = values[(start + offset) % len(values)]
            if kinds is not None and not any(matches_type(value, k) for k in kinds):
                continue
            if simple or self.is_valid(schema, value):
                if value is not None:
                    return self._copied(value)
                fallback = fallback or (value,)
            if fallback is not None and offset >= SAMPLED_ENUM_SIZE:
                break
        if fallback is not None:
            return fallback[0]
        raise UnsatisfiableSchemaError(
            f"at {path!r}: no enum value satisfies the other constraints (keyword 'enum')"
        )
