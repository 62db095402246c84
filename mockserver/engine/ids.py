"""Identifiers shaped like the real API's (``chatcmpl-…``, ``call_…``, ``resp_…``).

Ids are random, not derived from the request: the same request gives the same content
but, as against the real API, a new id each time.
"""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def chat_completion_id() -> str:
    return new_id("chatcmpl-", 29)


def tool_call_id() -> str:
    return new_id("call_", 24)
