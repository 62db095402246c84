"""Objects: required and about half of the optional properties, dependents, extra keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.engine.generation_limits import check_count
from mockserver.engine.instances.core import LOCAL_ATTEMPTS, GeneratorCore
from mockserver.engine.instances.errors import CannotGenerate, Retry, UnsatisfiableSchemaError
from mockserver.engine.instances.pointers import child_pointer
from mockserver.engine.instances.refs import SOFT_REF_DEPTH, Trail, recursion_depth
from mockserver.engine.instances.regex_strings import search_pattern
from mockserver.engine.instances.vocabulary import EXTRA_KEYS


class ObjectMixin(GeneratorCore):
    def _generate_object(
        self, schema: Mapping[str, Any], path: str, trail: Trail, hint: str | None
    ) -> dict[str, Any]:
        props: Mapping[str, Any] = schema.get("properties") or {}
        patterns: Mapping[str, Any] = schema.get("patternProperties") or {}
        extra = schema.get("additionalProperties", True)
        required = [r for r in dict.fromkeys(schema.get("required") or []) if isinstance(r, str)]
        low, high = _property_count_bounds(schema, required, path)
        minimal = recursion_depth(trail) >= SOFT_REF_DEPTH
        keys = self._named_keys(schema, required, low, high, minimal)
        wants_extra = not props and (patterns or isinstance(extra, Mapping)) and not minimal
        n_extra = max(low - len(keys), self.rng.randint(1, 2) if wants_extra else 0)
        if high is not None:
            n_extra = min(n_extra, high - len(keys))
        keys += self._extra_keys(schema, keys, n_extra, path)
        must = set(required)
        result: dict[str, Any] = {}
        for key in keys:
            sub = self._property_schema(props, patterns, extra, key)
            sub_path = child_pointer(path, "properties", key)
            if sub is False and key in must:
                raise UnsatisfiableSchemaError(
                    f"at {sub_path!r}: property {key!r} is required but not allowed"
                    " (keywords 'required' / 'additionalProperties')"
                )
            try:
                result[key] = self.generate(sub, sub_path, trail, key)
            except (Retry, UnsatisfiableSchemaError):
                if key in must or len(keys) - 1 < low:
                    raise
                keys = [k for k in keys if k != key]
        return result

    def _named_keys(
        self,
        schema: Mapping[str, Any],
        required: list[str],
        low: int,
        high: int | None,
        minimal: bool,
    ) -> list[str]:
        """The required keys, about half of the optional `properties` (none when `minimal`;
        one at least when none is required), their dependents, as many as min/maxProperties
        allow, in `properties` order."""
        props: Mapping[str, Any] = schema.get("properties") or {}
        must = set(required)
        optional = [k for k in props if k not in must and props[k] is not False]
        chosen = {k for k in optional if not minimal and self.rng.random() < 0.5}
        if optional and not must and not chosen and not minimal:
            # An object of optional properties only is not left empty: a model fills in what
            # the schema names (instructor's iterable wrapper has one optional list, and an
            # empty object is no answer to it).
            chosen = {optional[0]}
        keys = [k for k in props if k in must or k in chosen]
        keys += [r for r in required if r not in props]
        keys = self._add_dependents(schema, keys)
        if high is not None:
            while len(keys) > high:
                drop = next(k for k in reversed(keys) if k not in must)
                keys.remove(drop)
        for key in optional:
            if len(keys) >= low:
                break
            if key not in keys:
                keys.append(key)
        return keys

    def _add_dependents(self, schema: Mapping[str, Any], keys: list[str]) -> list[str]:
        dependents: dict[str, list[str]] = {}
        for source in ("dependentRequired", "dependencies"):
            spec = schema.get(source)
            if isinstance(spec, Mapping):
                for name, needed in spec.items():
                    if isinstance(needed, list):
                        dependents.setdefault(name, []).extend(needed)
        if not dependents:
            return keys
        out = list(keys)
        for key in out:  # grows while iterating: pulls in transitive dependencies
            out.extend(d for d in dependents.get(key, []) if d not in out)
        return out

    def _extra_keys(
        self, schema: Mapping[str, Any], taken: list[str], count: int, path: str
    ) -> list[str]:
        """`count` more property names that patternProperties, additionalProperties and
        propertyNames allow."""
        if count <= 0:
            return []
        names_schema = schema.get("propertyNames", True)
        names: list[str] = []
        none_allowed = False
        for attempt in range(count * LOCAL_ATTEMPTS):
            if len(names) >= count:
                break
            self.tick()
            name = self._extra_name(schema, attempt, path)
            if name is None:
                none_allowed = True
                break
            if name in taken or name in names:
                continue
            if names_schema is not True and not self.is_valid(names_schema, name):
                continue
            names.append(name)
        if len(names) < count and len(taken) + len(names) < schema.get("minProperties", 0):
            message = (
                f"at {path!r}: minProperties {schema.get('minProperties')} cannot be met"
                " (keywords 'additionalProperties' / 'patternProperties' / 'propertyNames')"
            )
            # Provable only when no further name is allowed at all; names that were drawn
            # but refused (propertyNames, repeats) say nothing about the names not drawn.
            if none_allowed:
                raise UnsatisfiableSchemaError(message)
            raise CannotGenerate(message)
        return names

    def _extra_name(self, schema: Mapping[str, Any], attempt: int, path: str) -> str | None:
        """One candidate name: from a patternProperties pattern (every other attempt when any
        name is allowed), the propertyNames pattern, or a word (None: no name is allowed)."""
        patterns = [p for p in (schema.get("patternProperties") or {}) if isinstance(p, str)]
        names_schema = schema.get("propertyNames", True)
        allow_any = schema.get("additionalProperties", True) is not False
        if patterns and (not allow_any or attempt % 2 == 0):
            return self.xeger(self.rng.choice(patterns), 0, path)
        if not allow_any:
            return None
        if isinstance(names_schema, Mapping) and isinstance(names_schema.get("pattern"), str):
            return self.xeger(names_schema["pattern"], 0, path)
        name = self.rng.choice(EXTRA_KEYS)
        return f"{name}_{attempt}" if attempt >= len(EXTRA_KEYS) else name

    @staticmethod
    def _property_schema(
        props: Mapping[str, Any], patterns: Mapping[str, Any], extra: Any, key: str
    ) -> Any:
        found: list[Any] = [props[key]] if key in props else []
        found += [s for p, s in patterns.items() if search_pattern(p, key)]
        if not found:
            return extra
        if len(found) == 1:
            return found[0]
        return {"allOf": found}


def _property_count_bounds(
    schema: Mapping[str, Any], required: list[str], path: str
) -> tuple[int, int | None]:
    """(minProperties, maxProperties), checked against the limits and the required count."""
    low = schema.get("minProperties", 0)
    low = low if isinstance(low, int) else 0
    check_count(low, "minProperties", path)
    high = schema.get("maxProperties")
    high = high if isinstance(high, int) else None
    if high is not None and len(required) > high:
        raise UnsatisfiableSchemaError(
            f"at {path!r}: {len(required)} required properties exceed maxProperties {high}"
        )
    return low, high
