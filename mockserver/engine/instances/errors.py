"""The generator's two failures: a schema nothing satisfies, and a draw to repeat."""


class UnsatisfiableSchemaError(ValueError):
    """No valid instance could be generated; the message names the keyword / JSON pointer."""


class Retry(Exception):
    """A generated value failed a check; another draw from the rng may succeed."""
