"""Identifiers shaped like the real API's (``chatcmpl-…``, ``call_…``, ``resp_…``).

Ids are random, not derived from the request: the same request gives the same content
but, as against the real API, a new id each time.
"""

from __future__ import annotations

import os
import random
import string

_ALPHABET = (string.ascii_letters + string.digits).encode()
# Random bytes translated to letters instead of a `secrets.choice` per character: ids are
# made on every request, and the per-character version cost ~60 µs a request. The bytes
# come from a generator seeded from the OS once per process (these ids are not secrets; a
# syscall per id showed in profiles). 256 % 62 leaves a slight bias towards the first letters.
_BYTE_TO_CHAR = bytes(_ALPHABET[byte % len(_ALPHABET)] for byte in range(256))
_generator: tuple[int, random.Random] | None = None


def _random_bytes(length: int) -> bytes:
    global _generator
    pid = os.getpid()
    if _generator is None or _generator[0] != pid:
        # Reseeded in every process: forked workers must not repeat each other's ids.
        _generator = (pid, random.Random(os.urandom(16)))
    return _generator[1].randbytes(length)


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + _random_bytes(length).translate(_BYTE_TO_CHAR).decode("ascii")


def new_hex_id(prefix: str, length: int = 24) -> str:
    """``prefix`` and ``length`` random bytes in hex (the Responses API's ``resp_…`` shape)."""
    return prefix + _random_bytes(length).hex()


def chat_completion_id() -> str:
    return new_id("chatcmpl-", 29)


def tool_call_id() -> str:
    return new_id("call_", 24)
