"""Stored responses (``store: true``) in the SQLite file every server worker shares.

A response is kept as its final Response object (what ``GET /v1/responses/{id}`` returns)
and the conversation ``previous_response_id`` continues (role/content messages of every turn
so far, this one included). The store is bounded: past :data:`MAX_STORED_RESPONSES` the
oldest responses are dropped, as a long test session would otherwise grow the file forever.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mockserver.db import Database

MAX_STORED_RESPONSES = 10_000

# `seq` orders responses by insertion, so the oldest are found through the primary key.
TABLES = (
    """
    CREATE TABLE IF NOT EXISTS responses (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL,
        conversation TEXT NOT NULL
    )
    """,
)


@dataclass(frozen=True)
class StoredResponse:
    body: dict[str, Any]
    conversation: list[dict[str, Any]]


class ResponseStore:
    """Stored responses on a :class:`Database`; at most ``limit`` of them, newest kept."""

    def __init__(self, db: Database, limit: int = MAX_STORED_RESPONSES) -> None:
        self.db = db
        self.limit = limit

    def save(
        self, response_id: str, body: Mapping[str, Any], conversation: Sequence[Mapping[str, Any]]
    ) -> None:
        with self.db.transaction() as connection:
            cursor = connection.execute(
                "INSERT INTO responses (id, body, conversation) VALUES (?, ?, ?)",
                (response_id, _dump(body), _dump(list(conversation))),
            )
            newest = cursor.lastrowid or 0
            connection.execute("DELETE FROM responses WHERE seq <= ?", (newest - self.limit,))

    def get(self, response_id: str) -> StoredResponse | None:
        with self.db.connection() as connection:
            row = connection.execute(
                "SELECT body, conversation FROM responses WHERE id = ?", (response_id,)
            ).fetchone()
        if row is None:
            return None
        return StoredResponse(body=json.loads(row[0]), conversation=json.loads(row[1]))

    def delete(self, response_id: str) -> bool:
        """Remove a response; ``False`` when there was none with that id."""
        with self.db.transaction() as connection:
            cursor = connection.execute("DELETE FROM responses WHERE id = ?", (response_id,))
            return cursor.rowcount > 0


def _dump(value: Any) -> str:
    # ASCII escapes: clients send lone surrogates, which SQLite's UTF-8 text cannot hold.
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))
