"""Identifiers shaped like the real API's (``chatcmpl-…``, ``call_…``, ``resp_…``).

Ids are random, not derived from the request: the same request gives the same content
but, as against the real API, a new id each time.
"""

from __future__ import annotations

import os
import string

_ALPHABET = (string.ascii_letters + string.digits).encode()
# One urandom call and a byte translation instead of a `secrets.choice` per character:
# ids are made on every request, and the per-character version cost ~60 µs a request.
# (256 % 62 leaves a slight bias towards the first letters; these ids are not secrets.)
_BYTE_TO_CHAR = bytes(_ALPHABET[byte % len(_ALPHABET)] for byte in range(256))


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + os.urandom(length).translate(_BYTE_TO_CHAR).decode("ascii")


def chat_completion_id() -> str:
    return new_id("chatcmpl-", 29)


def tool_call_id() -> str:
    return new_id("call_", 24)
