"""The generator's failures: a schema nothing satisfies, a draw to repeat, and a value the
generator has no way to make."""


class UnsatisfiableSchemaError(ValueError):
    """No valid instance exists, provably (a contradiction such as ``minLength`` above
    ``maxLength``, or not a schema at all); the message names the keyword / JSON pointer."""


class Retry(Exception):
    """A generated value failed a check; another draw from the rng may succeed."""


class CannotGenerate(Retry):
    """The generator has no way to make a value here (regex syntax it cannot draw from, a
    format that has no string of the length asked for), though one may exist. Another branch
    may still succeed; if none does, the schema is not called unsatisfiable (see
    :class:`~mockserver.engine.generation_limits.CannotGenerateError`)."""
