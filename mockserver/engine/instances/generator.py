"""The generator: walks a schema keyword by keyword and dispatches on the JSON type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.engine.generation_limits import MAX_VALUE_DEPTH, GenerationLimitError
from mockserver.engine.instances.arrays import ArrayMixin
from mockserver.engine.instances.choices import ChoiceMixin
from mockserver.engine.instances.core import BRANCH_ATTEMPTS, LOCAL_ATTEMPTS
from mockserver.engine.instances.enums import EnumMixin
from mockserver.engine.instances.errors import Retry, UnsatisfiableSchemaError
from mockserver.engine.instances.keywords import (
    ARRAY_KEYS,
    NUMBER_KEYS,
    NUMERIC_FORMATS,
    OBJECT_KEYS,
    RESIDUAL,
    STRING_KEYS,
    types_of,
)
from mockserver.engine.instances.merging import merge
from mockserver.engine.instances.negation import negate_keyword
from mockserver.engine.instances.numbers import NumberMixin
from mockserver.engine.instances.objects import ObjectMixin
from mockserver.engine.instances.pointers import shorten
from mockserver.engine.instances.refs import SOFT_REF_DEPTH, Trail, recursion_depth
from mockserver.engine.instances.strings import StringMixin


class Generator(ChoiceMixin, EnumMixin, NumberMixin, StringMixin, ArrayMixin, ObjectMixin):
    def generate(self, schema: Any, path: str, trail: Trail, hint: str | None) -> Any:
        """A value for `schema` at `path` (a JSON pointer); `trail` is the $refs followed so
        far, `hint` the property's name. Raises Retry when another draw may succeed."""
        self.tick()
        if schema is True:
            schema = {}
        elif schema is False:
            raise UnsatisfiableSchemaError(f"at {path!r}: schema is false (nothing is valid)")
        elif not isinstance(schema, Mapping):
            raise UnsatisfiableSchemaError(f"at {path!r}: not a schema: {schema!r}")
        suggested = self._suggested(schema, hint)
        if suggested is not None:
            return suggested[0]
        example = self._example(schema)
        if example is not None:
            return example[0]
        if "$ref" in schema or "allOf" in schema:
            merged, trail = self.flatten(schema, path, trail)
            return self.generate(merged, path, trail, hint)
        if "not" not in schema and RESIDUAL not in schema:
            return self._generate_branching(schema, path, trail, hint)
        return self._generate_checked(schema, path, trail, hint)

    def _generate_checked(
        self, schema: Mapping[str, Any], path: str, trail: Trail, hint: str | None
    ) -> Any:
        """A value for a schema with `not` or residual constraints: they are checked after
        generation and the value redrawn."""
        failure: Exception | None = None
        for variant, attempts in self._not_variants(schema, path):
            for _ in range(attempts):
                try:
                    value = self._generate_branching(variant, path, trail, hint)
                except (Retry, UnsatisfiableSchemaError) as exc:
                    failure = exc
                    break
                failure = self._unmet_constraint(schema, value, path)
                if failure is None:
                    return value
        assert failure is not None
        raise failure

    def _not_variants(
        self, schema: Mapping[str, Any], path: str
    ) -> list[tuple[Mapping[str, Any], int]]:
        """(schema, attempts) to try in turn: variants that violate one keyword of `not`
        first, since a plain redraw rarely escapes e.g. `"not": {"minimum": 0}`."""
        variants: list[tuple[Mapping[str, Any], int]] = []
        for negation in self._negations(schema.get("not")):
            try:
                variants.append((merge(schema, negation, path), BRANCH_ATTEMPTS))
            except UnsatisfiableSchemaError:
                continue
        variants.append((schema, LOCAL_ATTEMPTS))
        return variants

    def _unmet_constraint(self, schema: Mapping[str, Any], value: Any, path: str) -> Retry | None:
        """Why `value` fails the schema's `not` or residual constraints (None: it does not)."""
        if "not" in schema and self.is_valid(schema["not"], value):
            return Retry(f"at {path!r}: value {value!r} matches the 'not' schema")
        broken = next((r for r in schema.get(RESIDUAL, ()) if not self.is_valid(r, value)), None)
        if broken is not None:
            return Retry(f"at {path!r}: value {value!r} fails the constraint {broken!r}")
        return None

    def _negations(self, negated: Any) -> list[Mapping[str, Any]]:
        """Schemas each violating one keyword of `negated` (so matching `not`), in rng order."""
        if not isinstance(negated, Mapping):
            return []
        out = [n for key, value in negated.items() for n in negate_keyword(key, value)]
        self.rng.shuffle(out)
        return out

    def _suggested(self, schema: Mapping[str, Any], hint: str | None) -> tuple[Any] | None:
        """The first suggested value for the property `hint` that the schema accepts."""
        if self.suggest is None or hint is None:
            return None
        for value in self.suggest(hint, schema):
            if self.is_valid(schema, value):
                return (self._copied(value),)
        return None

    def _example(self, schema: Mapping[str, Any]) -> tuple[Any] | None:
        """Sometimes reuse an author-supplied example or default: they read naturally."""
        candidates: list[Any] = []
        if isinstance(schema.get("examples"), list):
            candidates.extend(schema["examples"])
        for key in ("example", "default"):
            if key in schema:
                candidates.append(schema[key])
        # null / {} / [] (typical defaults, e.g. pydantic's Optional fields) say nothing:
        # generating a real value reads better.
        candidates = [c for c in candidates if c not in (None, {}, [])]
        if not candidates or self.rng.random() >= 0.5:
            return None
        value = self.rng.choice(candidates)
        if self.is_valid(schema, value):
            return (self._copied(value),)
        return None

    def _generate_branching(
        self, schema: Mapping[str, Any], path: str, trail: Trail, hint: str | None
    ) -> Any:
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list):
                return self._generate_choice(schema, key, path, trail, hint)
        if "if" in schema:
            return self._generate_conditional(schema, path, trail, hint)
        return self._generate_typed(schema, path, trail, hint)

    def _generate_typed(
        self, schema: Mapping[str, Any], path: str, trail: Trail, hint: str | None
    ) -> Any:
        if "const" in schema:
            return self._copied(schema["const"])
        if "enum" in schema:
            return self._generate_enum(schema, path)
        kinds = self._candidate_types(schema, trail)
        if not kinds:
            raise UnsatisfiableSchemaError(f"at {path!r}: no usable type (keyword 'type')")
        failures: list[Exception] = []
        for kind in kinds:
            try:
                return self._generate_of_type(kind, schema, path, trail, hint)
            except (Retry, UnsatisfiableSchemaError) as exc:
                failures.append(exc)
        if len(failures) == 1:
            raise failures[0]
        summary = f"at {path!r}: none of the types {kinds} could be generated: " + "; ".join(
            str(f) for f in failures[:4]
        )
        if all(isinstance(f, UnsatisfiableSchemaError) for f in failures):
            raise UnsatisfiableSchemaError(summary)
        raise Retry(summary)

    def _candidate_types(self, schema: Mapping[str, Any], trail: Trail) -> list[str]:
        kinds = types_of(schema)
        if kinds is None:
            kinds = []
            if any(k in schema for k in OBJECT_KEYS):
                kinds.append("object")
            if any(k in schema for k in ARRAY_KEYS):
                kinds.append("array")
            if schema.get("format") in NUMERIC_FORMATS:
                kinds.append("number")
            elif any(k in schema for k in STRING_KEYS) or "format" in schema:
                kinds.append("string")
            if any(k in schema for k in NUMBER_KEYS):
                step = schema.get("multipleOf")
                kinds.append("integer" if isinstance(step, int) else "number")
            if not kinds:
                # Unconstrained: mostly strings, which read best in a mock reply.
                common = ["string", "string", "integer", "boolean"]
                first = self.rng.choice(common)
                kinds = [first, *dict.fromkeys(common), "number", "object", "array", "null"]
                return list(dict.fromkeys(kinds))
        non_null = [k for k in kinds if k != "null"]
        if len(non_null) > 1:
            self.rng.shuffle(non_null)
        if recursion_depth(trail) >= SOFT_REF_DEPTH:
            # Deep in a recursive schema: scalars first so that the recursion ends.
            non_null.sort(key=lambda k: k in ("object", "array"))
        # OpenAPI `nullable` becomes a "null" type: allowed, but a real value reads better.
        return non_null + (["null"] if "null" in kinds else [])

    def _generate_of_type(
        self, kind: str, schema: Mapping[str, Any], path: str, trail: Trail, hint: str | None
    ) -> Any:
        if kind == "null":
            return None
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "integer":
            return self._generate_integer(schema, path, hint)
        if kind == "number":
            return self._generate_number(schema, path, hint)
        if kind == "string":
            return self._generate_string(schema, path, hint)
        if kind in ("array", "object"):
            self.depth += 1
            try:
                if self.depth > MAX_VALUE_DEPTH:
                    raise GenerationLimitError(
                        f"at {shorten(path)!r}: the value would nest more than"
                        f" {MAX_VALUE_DEPTH} arrays/objects deep"
                    )
                if kind == "array":
                    return self._generate_array(schema, path, trail, hint)
                return self._generate_object(schema, path, trail, hint)
            finally:
                self.depth -= 1
        raise UnsatisfiableSchemaError(f"at {path!r}: unknown type {kind!r} (keyword 'type')")
