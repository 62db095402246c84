"""The public function: prepare the schema, generate, validate, redraw."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, Final

import jsonschema  # type: ignore[import-untyped]

from mockserver.engine.generation_limits import (
    CannotGenerateError,
    GenerationBudget,
    GenerationLimitError,
)
from mockserver.engine.instances.core import Suggest
from mockserver.engine.instances.errors import Retry, UnsatisfiableSchemaError
from mockserver.engine.instances.generator import Generator
from mockserver.engine.instances.pointers import pointer
from mockserver.engine.instances.preparation import prepare

# Whole-value attempts: a failed final validation is retried with fresh rng draws.
_MAX_ATTEMPTS: Final = 12


def generate_instance(
    schema: Mapping[str, Any] | bool,
    rng: random.Random,
    suggest: Suggest | None = None,
    budget: GenerationBudget | None = None,
) -> Any:
    """Return a JSON value (dict/list/str/int/float/bool/None) valid against `schema`.

    `schema` is a JSON Schema (draft 4 to 2020-12, chosen by ``$schema``, default 2020-12) and
    may use OpenAPI 3.0's ``nullable``.  The value depends only on the schema and the state of
    `rng` (which is advanced).  Raises :class:`UnsatisfiableSchemaError` when no value exists
    (every attempt ran into a contradiction: ``minLength`` above ``maxLength``, a type no
    branch allows, not a schema at all), and :class:`CannotGenerateError` (a
    :class:`GenerationLimitError`) when the generator found no value but cannot tell that
    none exists; both messages name the keyword and JSON pointer at fault.

    ``suggest``, when given, proposes values for named properties (the user's own words for a
    tool call's arguments); a proposal is used only where the property's schema accepts it.
    ``budget`` is what the caller's request may still spend (one per request, shared by its
    choices); :class:`GenerationLimitError` says which limit a schema would exceed.
    """
    if not isinstance(schema, Mapping | bool):
        raise TypeError(f"schema must be a mapping or a bool, not {type(schema).__name__}")
    budget = budget if budget is not None else GenerationBudget()
    compiled = budget.prepared(schema, prepare)
    generator = Generator(compiled, rng, suggest, budget)
    problem = "no attempt made"
    # Only a contradiction found on every attempt proves that no value exists; a redraw that
    # kept failing, or a value that kept failing validation, proves nothing.
    proven = True
    # Why validate and retry: the generator is a heuristic (lossy allOf merges, regex
    # lookarounds, float multipleOf, oneOf overlap, `not`, ...), while the caller promises the
    # client a valid value.  jsonschema is the referee; a failed draw is simply redrawn, and the
    # attempts are bounded so an unsatisfiable schema ends in a clear error, not a hang.
    try:
        for _ in range(_MAX_ATTEMPTS):
            try:
                value = generator.generate(compiled.root, "#", (), None)
            except UnsatisfiableSchemaError as exc:
                problem = str(exc)
                continue
            except Retry as exc:
                problem, proven = str(exc), False
                continue
            if generator.is_valid(compiled.root, value):
                return value
            problem, proven = _describe_failure(compiled.validator, value), False
    except RecursionError:
        # The backstop behind the depth and $ref-chain limits: jsonschema follows `$ref`
        # inside `not`/`anyOf` by recursion too, one chain the generator never walks.
        raise GenerationLimitError(
            "the schema nests (through $ref, not, anyOf, ...) deeper than Python's stack"
        ) from None
    if proven:
        raise UnsatisfiableSchemaError(f"no value satisfies the schema: {problem}")
    raise CannotGenerateError(f"no valid value found in {_MAX_ATTEMPTS} attempts: {problem}")


def generate_from_words(
    schema: Mapping[str, Any] | bool,
    rng: random.Random,
    suggest: Suggest | None = None,
    budget: GenerationBudget | None = None,
) -> Any:
    """:func:`generate_instance` for a schema read from the prompt's words (a JSON Schema
    written in a message, DSPy's field notes, a ReAct tool's arguments), not a request field.

    Its caller answers with text when it fails, rather than a 400, so each of ``n`` choices
    would try the same failing schema again, up to the request's time limit (10 s for
    ``n: 16``). After one such failure in a request (``budget``), the rest fail at once.
    """
    budget = budget if budget is not None else GenerationBudget()
    if budget.words_failed:
        raise GenerationLimitError("a schema read from the prompt already failed in this request")
    try:
        return generate_instance(schema, rng, suggest, budget)
    except (UnsatisfiableSchemaError, GenerationLimitError):
        budget.words_failed = True
        raise


def _describe_failure(validator: Any, value: Any) -> str:
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is None:
        return "validation failed"
    keyword_path = pointer(error.absolute_schema_path)
    return f"generated value fails {keyword_path!r} (keyword {error.validator!r}): {error.message}"
