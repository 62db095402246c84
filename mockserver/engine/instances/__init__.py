"""Generate plausible JSON values that are valid against a JSON Schema.

The mock server needs such values in two places: the ``arguments`` of a fabricated tool call must
validate against the function's ``parameters`` schema, and a structured-output reply must validate
against the requested ``json_schema``.  :func:`generate_instance` produces them.

How it works
------------
* The schema is normalised once (OpenAPI 3.0 ``nullable``, draft-4 boolean
  ``exclusiveMinimum``/``exclusiveMaximum``, draft-7 tuple ``items`` under 2020-12) and compiled
  into a :mod:`jsonschema` validator; both are cached by the JSON text of the schema.
* The generator walks the schema keyword by keyword.  ``$ref`` and ``allOf`` are folded into a
  single schema by *merging*; ``anyOf``/``oneOf``/``if`` pick a branch in rng order and merge it
  with the surrounding keywords.  Merging is best effort: whatever it cannot combine exactly is
  kept as a "residual" schema and checked after generation.
* Values look like something a model would send: words, city and person names chosen from the
  property name, small non-negative integers, about half of the optional properties.
* Every result is validated with :mod:`jsonschema` before it is returned (see
  :func:`generate_instance` for why) and regenerated a bounded number of times if it fails.
* The work is bounded (:mod:`engine.generation_limits`): string lengths, item counts, depth,
  steps and output per request, regex matches with a timeout. A schema that needs more raises
  :class:`GenerationLimitError`; one that no value satisfies (a contradiction every attempt
  ran into), :class:`UnsatisfiableSchemaError`; one the generator found no value for without
  proving that none exists, :class:`CannotGenerateError` (a GenerationLimitError: the caller
  refuses it clearly rather than sending a value that breaks the schema).
* Function-call arguments are generated from :func:`arguments_schema` (``parameters`` as an
  object), since live arguments are always a JSON object.
* A ``suggest`` callback may propose values for named properties (the user's own words for a
  tool call, see :mod:`engine.mentions`); a proposal is kept only if the schema accepts it.

Output is a pure function of the schema and the rng state: no global ``random``, no clock, no
iteration over sets (``PYTHONHASHSEED`` would change the order between processes).

Keywords
--------
Generated directly: ``type`` (single, list, or inferred from the other keywords), ``properties``,
``required``, ``additionalProperties``, ``patternProperties``, ``propertyNames`` (pattern),
``minProperties``/``maxProperties``, ``dependentRequired`` (and array-valued ``dependencies``),
``enum``, ``const``, ``items``/``prefixItems``/``additionalItems``, ``minItems``/``maxItems``,
``uniqueItems``, ``contains``/``minContains``, ``minLength``/``maxLength``, ``pattern``,
``format`` (date-time, date, time, email, uri, uuid, ipv4, ipv6, hostname, duration, ...; built
at the length ``minLength``/``maxLength`` ask where the format allows), ``minimum``/``maximum``/
``exclusiveMinimum``/``exclusiveMaximum`` (draft-4 boolean and draft-6+ numeric forms),
``multipleOf``, ``allOf``, ``anyOf``, ``oneOf`` (exactly one branch, verified), ``not`` (a
variant violating one of its keywords, else redraw), ``if``/``then``/``else``, local ``$ref``
(JSON pointers, ``#``, ``$anchor``; recursion is bounded), ``nullable``, ``default``/``examples``/
``example``, boolean schemas.  Anything else (``dependentSchemas``, ``unevaluated*``,
``maxContains``, ...) is only honoured through the final validate-and-redraw loop.  Remote
``$ref`` and draft-03 schemas are rejected.  Patterns follow the ``regex`` package's syntax
(which matches them): what Python's ``re`` parser cannot read (``\\p{L}``, ``(?<name>``) is
rewritten for drawing (``regex_syntax``); possessive repeats, atomic groups and conditionals
are drawn as their plain forms and the match decides.

Modules
-------
``api`` (:func:`generate_instance`: prepare, generate, validate, redraw) ->
``preparation`` (normalise, metaschema check, compile, cache) and ``generator``
(:class:`Generator`: dispatch on keywords and types), built from ``core`` (state, validation,
``$ref``/``allOf`` folding) and one mixin per kind of value: ``choices`` (anyOf/oneOf/if),
``enums``, ``numbers``, ``strings``, ``arrays``, ``objects``. Below them, plain functions and
data: ``merging`` (conjunction of two schemas), ``refs``, ``negation`` (``not``),
``regex_strings`` (rstr), ``regex_syntax`` (the regex package's syntax, for drawing),
``format_lengths`` (formats at a given length), ``arguments`` (``parameters`` as an object),
``arithmetic``, ``keywords``, ``pointers``, ``hints`` (values from a property's name),
``formats``, ``vocabulary``, ``errors``.
"""

from mockserver.engine.generation_limits import CannotGenerateError, GenerationLimitError
from mockserver.engine.instances.api import generate_from_words, generate_instance
from mockserver.engine.instances.arguments import arguments_schema
from mockserver.engine.instances.core import Suggest
from mockserver.engine.instances.errors import UnsatisfiableSchemaError

__all__ = [
    "CannotGenerateError",
    "GenerationLimitError",
    "Suggest",
    "UnsatisfiableSchemaError",
    "arguments_schema",
    "generate_from_words",
    "generate_instance",
]
