"""The ``obfuscation`` padding the live API adds to stream deltas, so their sizes hide the text.

Live streams pad by default and stop when ``stream_options.include_obfuscation`` is
``false``. The padding is random letters and digits, and its length follows the delta, so
that sizes on the wire stop giving away how long each token is. Recorded streams show two
rules, and the mock follows them:

- Chat: every chunk carries ``obfuscation`` as its last field (the role chunk, the text and
  tool-call chunks, the finish chunk and the usage chunk alike), and the padding brings
  every chunk's JSON to the same length modulo 16 (a gpt-4-0613 stream: 1 to 16 characters,
  all its chunks 1 modulo 16). The mock pads each chunk's JSON to a multiple of 16 bytes.
- Responses: ``response.output_text.delta`` and ``response.function_call_arguments.delta``
  carry it, last, and the delta's characters plus the padding make a multiple of 16
  (``"Current"`` gets 9 characters, ``","`` 15). No other event is padded.

Each stream draws its padding from a block of random characters taken from one generator
per process (seeded from the OS once, again in each forked worker): padding goes with every
frame, and a draw (or a system call) per frame doubled the cost of framing a chat chunk.
It is added when a stream is rendered, after planning, so remembered plans and stream
pieces (``engine.memo``, ``engine.tokens``) stay free of it.
"""

from __future__ import annotations

import os
import random
import string
from collections.abc import Mapping
from typing import Any

BLOCK = 16
# Random characters drawn at a time: the padding of some 30 frames.
DRAW = 512
_ALPHABET = (string.ascii_letters + string.digits).encode()
# 256 % 62 leaves a slight bias towards the first letters: harmless in padding.
_BYTE_TO_CHAR = bytes(_ALPHABET[byte % len(_ALPHABET)] for byte in range(256))


def _seeded() -> random.Random:
    return random.Random(os.urandom(16))


_generator = _seeded()


def _reseed() -> None:
    # Forked workers draw different padding (granian and gunicorn fork theirs).
    global _generator
    _generator = _seeded()


os.register_at_fork(after_in_child=_reseed)


def wants_obfuscation(body: Mapping[str, Any]) -> bool:
    """Whether a stream request leaves the padding on (``include_obfuscation`` not ``false``)."""
    options = body.get("stream_options")
    return not (isinstance(options, Mapping) and options.get("include_obfuscation") is False)


class Padding:
    """Random letters and digits for one stream, drawn from the process's generator in blocks."""

    __slots__ = ("_pool", "_used")

    def __init__(self) -> None:
        self._pool = b""
        self._used = 0

    def take(self, length: int) -> bytes:
        """``length`` (at most ``BLOCK``) random letters and digits, as ASCII bytes."""
        used = self._used
        if used + length > len(self._pool):
            self._pool = random_block()
            used = 0
        self._used = used + length
        return self._pool[used : used + length]

    def for_delta(self, delta: str) -> str:
        """A Responses delta's padding: the delta's characters and it make a multiple of 16."""
        return self.take(BLOCK - len(delta) % BLOCK).decode("ascii")


def random_block() -> bytes:
    """A block of random letters and digits (ASCII bytes), enough for some 30 frames."""
    return _generator.randbytes(DRAW).translate(_BYTE_TO_CHAR)
