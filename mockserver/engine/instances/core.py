"""The generator's state and plumbing: rng, budget, validation, regex draws, `$ref`/`allOf`
folding. The value mixins (strings, numbers, arrays, objects, ...) build on it."""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeAlias

import jsonschema  # type: ignore[import-untyped]
import referencing.exceptions
import regex  # type: ignore[import-untyped]  # no type information is installed

from mockserver.engine.generation_limits import (
    MAX_REF_CHAIN,
    MAX_STRING_LENGTH,
    GenerationBudget,
    GenerationLimitError,
    check_pattern,
)
from mockserver.engine.instances.errors import CannotGenerate, UnsatisfiableSchemaError
from mockserver.engine.instances.keywords import validatable
from mockserver.engine.instances.merging import merge
from mockserver.engine.instances.pointers import child_pointer, shorten
from mockserver.engine.instances.preparation import Compiled
from mockserver.engine.instances.refs import HARD_REF_DEPTH, Trail, recursion_depth, resolve
from mockserver.engine.instances.regex_strings import ReadableXeger
from mockserver.engine.instances.regex_syntax import drawable, is_regex

# Proposes values for the property `name` with schema `schema`, best first (see
# engine.mentions); the generator keeps the first one the schema accepts.
Suggest: TypeAlias = Callable[[str, Mapping[str, Any]], Sequence[Any]]

# Retries of a single node (pattern strings, `not`, residual checks).
LOCAL_ATTEMPTS: Final = 6
# Attempts per anyOf/oneOf branch before moving on to the next branch.
BRANCH_ATTEMPTS: Final = 2
# Characters a regex draw may emit beyond what the string needs, before it is redrawn.
XEGER_SLACK: Final = 1024


class GeneratorCore:
    def __init__(
        self,
        compiled: Compiled,
        rng: random.Random,
        suggest: Suggest | None = None,
        budget: GenerationBudget | None = None,
    ) -> None:
        self.root = compiled.root
        self.suggest = suggest
        self.budget = budget if budget is not None else GenerationBudget()
        self.depth = 0
        self.validator = compiled.validator
        self.siblings_of_ref_apply = compiled.siblings_of_ref_apply
        self.rng = rng
        self._xeger: ReadableXeger | None = None

    # -- plumbing ---------------------------------------------------------------------------

    def tick(self) -> None:
        self.budget.spend_step()

    def is_valid(self, schema: Any, value: Any) -> bool:
        self.budget.check_clock()
        try:
            if schema is self.root:
                return bool(self.validator.is_valid(value))
            return bool(self.validator.evolve(schema=validatable(schema)).is_valid(value))
        # What a schema that passed check_schema can still hold; anything else is a bug and
        # surfaces as one.
        except (
            referencing.exceptions.Unresolvable,
            jsonschema.exceptions.UnknownType,
            regex.error,
        ) as exc:
            raise UnsatisfiableSchemaError(f"jsonschema cannot evaluate the schema: {exc}") from exc

    def xeger(self, pattern: str, floor: int, path: str, wanted: int = 0) -> str:
        """A string matching `pattern`, its repeats at least `floor` long; drawing stops
        (``Retry``) once it has emitted a few times the `wanted` length."""
        parsable = drawable(pattern)
        shortest = check_pattern(pattern, path, parsable)
        if self._xeger is None:
            self._xeger = ReadableXeger(self.rng, self.budget)
        self._xeger.repeat_floor = floor
        self._xeger.emitted = 0
        # Nested repeats count their characters once per level, hence the factor.
        self._xeger.cap = min(MAX_STRING_LENGTH, 8 * max(wanted, shortest, XEGER_SLACK))
        try:
            return str(self._xeger.xeger(parsable))
        # rstr has no case for some of Python's regex syntax and fails with a KeyError, or a
        # ValueError/IndexError on odd ranges; `re` cannot parse some of the `regex` package's.
        except (KeyError, ValueError, IndexError, re.error) as exc:
            if not is_regex(pattern):
                raise UnsatisfiableSchemaError(
                    f"at {path!r}: pattern {pattern!r} is not a valid regex: {exc}"
                ) from exc
            raise CannotGenerate(
                f"at {path!r}: the mock cannot draw strings from pattern {pattern!r} ({exc});"
                " it is matched with the regex package, which accepts it"
            ) from exc

    def flatten(self, schema: Any, path: str, trail: Trail) -> tuple[Mapping[str, Any], Trail]:
        """Fold `$ref` and `allOf` into one schema; also returns the trail of $refs followed."""
        self.tick()
        if schema is True:
            return {}, trail
        if schema is False:
            raise UnsatisfiableSchemaError(f"at {path!r}: schema is false (nothing is valid)")
        if not isinstance(schema, Mapping):
            raise UnsatisfiableSchemaError(f"at {path!r}: not a schema: {schema!r}")
        if "$ref" not in schema and "allOf" not in schema:
            return schema, trail
        result: Mapping[str, Any] = {k: v for k, v in schema.items() if k not in ("$ref", "allOf")}
        deepest = trail
        if "$ref" in schema:
            target, target_path = resolve(self.root, schema["$ref"], path)
            if len(trail) >= MAX_REF_CHAIN:
                raise GenerationLimitError(
                    f"at {shorten(path)!r}: more than {MAX_REF_CHAIN} $refs followed in a chain"
                )
            if trail.count(target_path) >= HARD_REF_DEPTH:
                raise UnsatisfiableSchemaError(
                    f"at {shorten(path)!r}: $ref {schema['$ref']!r} recurses more than"
                    f" {HARD_REF_DEPTH} times (does the schema require infinite nesting?)"
                )
            flat, deepest = self.flatten(target, target_path, (*trail, target_path))
            result = merge(flat, result, path) if self.siblings_of_ref_apply else flat
        subschemas = schema.get("allOf", [])
        for index, sub in enumerate(subschemas if isinstance(subschemas, list) else []):
            flat, sub_trail = self.flatten(sub, child_pointer(path, "allOf", index), trail)
            deepest = max(deepest, sub_trail, key=recursion_depth)
            result = merge(result, flat, path)
        return result, deepest

    def generate(self, schema: Any, path: str, trail: Trail, hint: str | None) -> Any:
        """A value for `schema` at `path`: the recursive entry point, see Generator.generate."""
        raise NotImplementedError

    def _copied(self, value: Any) -> Any:
        """A copy of a value the schema spells out (const, enum, example), counted against
        the output budget: a large const repeated by minItems is as costly as a long string."""
        if isinstance(value, str):
            self.budget.spend_chars(len(value))
            return value
        if isinstance(value, list | dict):
            self.budget.spend_chars(len(json.dumps(value)))
            return copy.deepcopy(value)
        return value
