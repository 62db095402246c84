"""Faults answered with the live API's error instead of a reply: 429, 500, 503."""

from __future__ import annotations

from typing import ClassVar

from mockserver.errors import SERVER_ERROR, ErrorReply
from mockserver.faults.base import Fault

# What the real API sends with a 429: when to retry (``retry-after-ms`` is OpenAI's own,
# read first by the official SDKs) and the state of the request and token budgets.
RATE_LIMIT_HEADERS = {
    "Retry-After": "1",
    "retry-after-ms": "1000",
    "x-ratelimit-limit-requests": "500",
    "x-ratelimit-remaining-requests": "0",
    "x-ratelimit-reset-requests": "1s",
    "x-ratelimit-limit-tokens": "10000",
    "x-ratelimit-remaining-tokens": "0",
    "x-ratelimit-reset-tokens": "6s",
}


class RateLimit(Fault):
    name: ClassVar[str] = "rate_limit"
    summary: ClassVar[str] = (
        "429 with the real error body, `Retry-After`, `retry-after-ms` and "
        "`x-ratelimit-{limit,remaining,reset}-{requests,tokens}`"
    )

    def error(self, model: str) -> ErrorReply:
        return ErrorReply(
            429,
            f"Rate limit reached for {model} in organization org-mock on requests per min "
            "(RPM): Limit 500, Used 500, Requested 1. Please try again in 1s.",
            "requests",
            None,
            "rate_limit_exceeded",
            headers=RATE_LIMIT_HEADERS,
        )


class ServerError(Fault):
    name: ClassVar[str] = "server_error"
    summary: ClassVar[str] = "500 `server_error`"

    def error(self, model: str) -> ErrorReply:
        return ErrorReply(
            500,
            "The server had an error while processing your request. Sorry about that!",
            SERVER_ERROR,
        )


class Overloaded(Fault):
    name: ClassVar[str] = "overloaded"
    summary: ClassVar[str] = "503"

    def error(self, model: str) -> ErrorReply:
        return ErrorReply(
            503,
            "The engine is currently overloaded, please try again later.",
            SERVER_ERROR,
            code="overloaded",
        )
