"""Arrays: tuple prefixes, item counts, unique items and `contains`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.engine.generation_limits import check_count, freeze
from mockserver.engine.instances.core import LOCAL_ATTEMPTS, GeneratorCore
from mockserver.engine.instances.errors import Retry, UnsatisfiableSchemaError
from mockserver.engine.instances.hints import singular
from mockserver.engine.instances.keywords import combine
from mockserver.engine.instances.pointers import child_pointer
from mockserver.engine.instances.refs import SOFT_REF_DEPTH, Trail, recursion_depth


class ArrayMixin(GeneratorCore):
    def _generate_array(
        self, schema: Mapping[str, Any], path: str, trail: Trail, hint: str | None
    ) -> list[Any]:
        prefix, rest, rest_key = _item_schemas(schema)
        low, high = _item_count_bounds(schema, prefix, rest, path)
        length = self._array_length(trail, len(prefix), low, high)
        unique = schema.get("uniqueItems") is True
        item_hint = singular(hint)
        seen: set[Any] = set()
        result: list[Any] = []
        for index in range(length):
            if index < len(prefix):
                sub, sub_path = prefix[index], child_pointer(path, "prefixItems", index)
            else:
                sub, sub_path = rest, child_pointer(path, rest_key)
            value = self._array_item(sub, sub_path, trail, item_hint, unique, seen)
            if value is None:
                if index < low:
                    raise Retry(f"at {path!r}: cannot generate {low} items (keyword 'minItems')")
                break
            result.append(value[0])
        contains = schema.get("contains")
        if contains is not None:
            wanted = _contains_count(schema, high, path)
            missing = wanted - sum(1 for v in result if self.is_valid(contains, v)) if wanted else 0
            for _ in range(missing):
                self._add_contained(
                    contains, rest, len(prefix), result, path, trail, item_hint, high
                )
        return result

    def _array_length(self, trail: Trail, prefix_len: int, low: int, high: int | None) -> int:
        """How many items: the fewest deep in a recursive schema, else the tuple's length or
        one to three more than the minimum."""
        if recursion_depth(trail) >= SOFT_REF_DEPTH:
            length = low
        elif prefix_len:
            length = max(low, prefix_len)
        else:
            start = max(low, 1)
            length = self.rng.randint(start, start + 2)
        return length if high is None else min(length, high)

    def _array_item(
        self, sub: Any, path: str, trail: Trail, hint: str | None, unique: bool, seen: set[Any]
    ) -> tuple[Any] | None:
        for _ in range(LOCAL_ATTEMPTS if unique else 1):
            try:
                value = self.generate(sub, path, trail, hint)
            except (Retry, UnsatisfiableSchemaError):
                return None
            if unique:
                frozen = freeze(value)
                if frozen in seen:
                    continue
                seen.add(frozen)
            return (value,)
        return None

    def _add_contained(
        self,
        contains: Any,
        rest: Any,
        prefix_len: int,
        result: list[Any],
        path: str,
        trail: Trail,
        hint: str | None,
        high: int | None,
    ) -> None:
        value = self.generate(combine(rest, contains), child_pointer(path, "contains"), trail, hint)
        if high is None or len(result) < high:
            result.insert(self.rng.randint(prefix_len, len(result)), value)
        elif len(result) > prefix_len:
            result[self.rng.randint(prefix_len, len(result) - 1)] = value


def _contains_count(schema: Mapping[str, Any], high: int | None, path: str) -> int:
    """How many items must match `contains` (`minContains`, 1 when absent), within the item
    limit and the array's own bounds."""
    wanted = schema.get("minContains", 1)
    wanted = wanted if isinstance(wanted, int) and not isinstance(wanted, bool) else 1
    check_count(wanted, "minContains", path)
    most = schema.get("maxContains")
    if isinstance(most, int) and wanted > most:
        raise UnsatisfiableSchemaError(
            f"at {path!r}: minContains {wanted} is greater than maxContains {most}"
        )
    if high is not None and wanted > high:
        raise UnsatisfiableSchemaError(
            f"at {path!r}: minContains {wanted} cannot be met (at most {high} items allowed by"
            " maxItems/items)"
        )
    return wanted


def _item_schemas(schema: Mapping[str, Any]) -> tuple[list[Any], Any, str]:
    """(tuple prefix schemas, schema of the items after them, the keyword naming it), for
    both the 2020-12 (`prefixItems` + `items`) and draft-7 (`items: [...]` +
    `additionalItems`) spellings."""
    items = schema.get("items", True)
    if isinstance(schema.get("prefixItems"), list):
        return schema["prefixItems"], items if not isinstance(items, list) else True, "items"
    if isinstance(items, list):
        return items, schema.get("additionalItems", True), "additionalItems"
    return [], items, "items"


def _item_count_bounds(
    schema: Mapping[str, Any], prefix: list[Any], rest: Any, path: str
) -> tuple[int, int | None]:
    """(minItems, the most items allowed): `rest: false` caps the array at its prefix."""
    low = schema.get("minItems", 0)
    low = low if isinstance(low, int) else 0
    check_count(low, "minItems", path)
    high = schema.get("maxItems")
    high = high if isinstance(high, int) else None
    if rest is False:
        high = len(prefix) if high is None else min(high, len(prefix))
    if high is not None and low > high:
        raise UnsatisfiableSchemaError(
            f"at {path!r}: minItems {low} cannot be met (at most {high} items allowed by"
            " maxItems/items)"
        )
    return low, high
