"""Stored responses (``store: true``) in the SQLite file every server worker shares.

(On Redis: :mod:`mockserver.redis_state.responses`, the same rules.)

A response is kept as its final Response object (what ``GET /v1/responses/{id}`` returns)
and the conversation ``previous_response_id`` continues (role/content messages of every turn
so far, this one included). Each turn is stored once: a response that continues another
keeps only its own new messages (this input and its output) and the id of the one it
continues, and the conversation is rebuilt by walking that chain. (Storing the whole
conversation at each step made a chain quadratic: 57 turns of 100 KB took 170 MB.)

So that no chain is ever cut:

- a response deleted by the client while a later stored response continues from it is
  only hidden (it answers 404 as deleted, its messages stay for the chain), and removed
  with the last response that needs it;
- the store is bounded: past :data:`MAX_STORED_RESPONSES` the oldest responses are dropped
  (a long test session would otherwise grow the file forever), and the messages of a
  dropped response move into the responses that continue from it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from mockserver.db import Database
from mockserver.storage import StoredResponse

__all__ = ["MAX_STORED_RESPONSES", "TABLES", "ResponseStore", "StoredResponse"]

MAX_STORED_RESPONSES = 10_000

# `seq` orders responses by insertion, so the oldest are found through the primary key.
# `conversation` holds the messages this response added to the one it continues (`parent`),
# or the whole conversation when it continues none; `turns` is the whole conversation's
# length; `hidden` marks a response deleted but still continued from.
TABLES = (
    """
    CREATE TABLE IF NOT EXISTS responses (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL,
        conversation TEXT NOT NULL,
        parent TEXT,
        turns INTEGER,
        hidden INTEGER NOT NULL DEFAULT 0
    )
    """,
    # A state file from before chains were stored once: its rows hold whole conversations.
    "ALTER TABLE responses ADD COLUMN parent TEXT",
    "ALTER TABLE responses ADD COLUMN turns INTEGER",
    "ALTER TABLE responses ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX IF NOT EXISTS responses_parent ON responses (parent)",
)

# A response (body and hidden on its row only) and the chain back to the first turn it
# continues, newest first: one statement, so one snapshot of the file.
_CHAIN = """
    WITH RECURSIVE chain(id, parent, conversation, body, hidden, depth) AS (
        SELECT id, parent, conversation, body, hidden, 0 FROM responses WHERE id = ?
        UNION ALL
        SELECT r.id, r.parent, r.conversation, NULL, NULL, chain.depth + 1
        FROM responses AS r JOIN chain ON r.id = chain.parent
    )
    SELECT conversation, body, hidden FROM chain ORDER BY depth
"""


class ResponseStore:
    """Stored responses on a :class:`Database`; at most ``limit`` of them, newest kept.

    The SQLite :class:`~mockserver.storage.ResponseStorage`."""

    def __init__(self, db: Database, limit: int = MAX_STORED_RESPONSES) -> None:
        self.db = db
        self.limit = limit

    def save(
        self, response_id: str, body: Mapping[str, Any], conversation: Sequence[Mapping[str, Any]]
    ) -> None:
        """Store a response; ``conversation`` is the whole of it, this turn included.

        When ``body`` continues a stored response (its ``previous_response_id``), whose
        conversation ``conversation`` starts with, only the new messages are written.
        """
        previous = body.get("previous_response_id")
        with self.db.transaction() as connection:
            parent, earlier = None, 0
            if isinstance(previous, str):
                known = _turns(connection, previous)
                if known is not None and known <= len(conversation):
                    parent, earlier = previous, known
            cursor = connection.execute(
                "INSERT INTO responses (id, body, conversation, parent, turns)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    response_id,
                    _dump(body),
                    _dump(list(conversation[earlier:])),
                    parent,
                    len(conversation),
                ),
            )
            newest = cursor.lastrowid or 0
            self._drop_oldest(connection, newest - self.limit)

    def get(self, response_id: str) -> StoredResponse | None:
        with self.db.connection() as connection:
            chain = connection.execute(_CHAIN, (response_id,)).fetchall()
        if not chain or chain[0][2]:  # not stored, or deleted
            return None
        conversation: list[dict[str, Any]] = []
        for messages, _, _ in reversed(chain):
            conversation.extend(json.loads(messages))
        return StoredResponse(body=json.loads(chain[0][1]), conversation=conversation)

    def delete(self, response_id: str) -> bool:
        """Remove a response; ``False`` when there was none with that id."""
        with self.db.transaction() as connection:
            row = connection.execute(
                "SELECT parent, hidden FROM responses WHERE id = ?", (response_id,)
            ).fetchone()
            if row is None or row[1]:
                return False
            if _continued(connection, response_id):
                # Later turns still need its messages: hidden, its body no longer kept.
                connection.execute(
                    "UPDATE responses SET hidden = 1, body = '{}' WHERE id = ?", (response_id,)
                )
                return True
            connection.execute("DELETE FROM responses WHERE id = ?", (response_id,))
            _drop_unneeded(connection, row[0])
            return True

    def clear(self) -> int:
        """Remove every stored response; the count of those a client could still retrieve.

        Every row goes, hidden turns and chains whole, so nothing is left that a parent
        pointer could lead to. The rows' pages become free pages inside the file, which
        later writes reuse: the file itself does not shrink.
        """
        with self.db.transaction() as connection:
            (visible,) = connection.execute(
                "SELECT COUNT(*) FROM responses WHERE hidden = 0"
            ).fetchone()
            connection.execute("DELETE FROM responses")
        return int(visible)

    def _drop_oldest(self, connection: sqlite3.Connection, up_to_seq: int) -> None:
        """Drop responses up to ``up_to_seq``, oldest first, moving their messages on."""
        victims = connection.execute(
            "SELECT seq FROM responses WHERE seq <= ? ORDER BY seq", (up_to_seq,)
        ).fetchall()
        for (seq,) in victims:
            # Read now, not with the list: an older victim may have moved messages into it.
            victim_id, messages = connection.execute(
                "SELECT id, conversation FROM responses WHERE seq = ?", (seq,)
            ).fetchone()
            # Its parent, older, went first: its own messages are its whole conversation.
            children = connection.execute(
                "SELECT seq, conversation FROM responses WHERE parent = ?", (victim_id,)
            ).fetchall()
            for child_seq, child_messages in children:
                whole = json.loads(messages) + json.loads(child_messages)
                connection.execute(
                    "UPDATE responses SET conversation = ?, parent = NULL WHERE seq = ?",
                    (_dump(whole), child_seq),
                )
            connection.execute("DELETE FROM responses WHERE seq = ?", (seq,))


def _turns(connection: sqlite3.Connection, response_id: str) -> int | None:
    """The length of a stored response's whole conversation; ``None`` if it is not stored."""
    row = connection.execute(
        "SELECT turns, conversation, parent FROM responses WHERE id = ?", (response_id,)
    ).fetchone()
    if row is None:
        return None
    turns, messages, parent = row
    if turns is None and parent is None:  # a row from before `turns`: its whole conversation
        return len(json.loads(messages))
    return int(turns) if turns is not None else None


def _continued(connection: sqlite3.Connection, response_id: str) -> bool:
    found = connection.execute(
        "SELECT 1 FROM responses WHERE parent = ? LIMIT 1", (response_id,)
    ).fetchone()
    return found is not None


def _drop_unneeded(connection: sqlite3.Connection, parent: str | None) -> None:
    """Remove hidden ancestors that no remaining response continues from."""
    while parent is not None:
        row = connection.execute(
            "SELECT parent, hidden FROM responses WHERE id = ?", (parent,)
        ).fetchone()
        if row is None or not row[1] or _continued(connection, parent):
            return
        connection.execute("DELETE FROM responses WHERE id = ?", (parent,))
        parent = row[0]


def _dump(value: Any) -> str:
    # ASCII escapes: clients send lone surrogates, which SQLite's UTF-8 text cannot hold.
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))
