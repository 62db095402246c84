"""The bearer-key rule of the API routes, with the live API's 401 messages.

The mock checks it on its API routes (and its admin routes when it has a key), and the
replay server on the routes it replays: one rule, so a client's 401 handling meets the same
answers from both.
"""

from __future__ import annotations

from harness.openai_errors import ErrorReply

_MISSING = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
)


def check_bearer(header: str, expected_key: str | None) -> ErrorReply | None:
    """``None`` when the ``Authorization`` header lets the request pass, else the 401."""
    scheme, _, key = header.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        return ErrorReply(401, _MISSING)
    if expected_key is not None and key != expected_key:
        return ErrorReply(
            401,
            f"Incorrect API key provided: {_mask(key)}. Use the key the mock was started with.",
            code="invalid_api_key",
        )
    return None


def _mask(key: str) -> str:
    # Never echo a whole key back: it may be a real secret sent to the wrong place.
    return key[:3] + "*" * 4 + key[-2:] if len(key) > 8 else "*" * len(key)
