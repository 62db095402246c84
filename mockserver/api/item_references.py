"""``item_reference`` input items, read as the stored output items they name.

The Vercel AI SDK sends an earlier reply back as ``{"type": "item_reference", "id":
"msg_…"}`` when it believes the response was stored (its default on the Responses API), and
OpenAI's API reads the stored item in its place. An id that names no stored item is a 404
naming ``input``, in the live API's words: the reply was not stored (``store`` is false by
default here, as the published document and the recorded wire say), or it was deleted.

The item's id names its response (:func:`mockserver.engine.responses.response_id_of_item`),
so each reference costs one read of the state store, once per response referenced.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.engine.responses import response_id_of_item
from mockserver.errors import ErrorReply, MockError
from mockserver.storage import ResponseStorage

# The live API's text for a reference to an item it does not hold (opencode#7724, oh-my-pi#41).
_NOT_FOUND = (
    "Item with id '{}' not found. Items are not persisted when `store` is set to false. "
    "Try again with `store` set to true, or remove this item from your input."
)
# An id is quoted in the error as sent, cut to this many characters.
_QUOTED_ID_LIMIT = 200


def with_references_read(body: dict[str, Any], store: ResponseStorage) -> dict[str, Any]:
    """``body`` with each ``item_reference`` in its ``input`` replaced by the stored item;
    ``body`` itself when it has none. A 404 naming ``input`` for an item not stored."""
    items = body.get("input")
    if not isinstance(items, list) or not any(_is_reference(item) for item in items):
        return body
    outputs: dict[str, dict[str, Mapping[str, Any]] | None] = {}
    read = [
        _stored_item(item["id"], store, outputs) if _is_reference(item) else item for item in items
    ]
    return {**body, "input": read}


def _is_reference(item: Any) -> bool:
    # The document types item_reference's `type` nullable and requires `id` alone; an item
    # without a type is a message when it has a role.
    if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
        return False
    kind = item.get("type")
    return kind == "item_reference" or (kind is None and "role" not in item)


def _stored_item(
    item_id: str, store: ResponseStorage, outputs: dict[str, dict[str, Mapping[str, Any]] | None]
) -> Mapping[str, Any]:
    response_id = response_id_of_item(item_id)
    if response_id is not None and response_id not in outputs:
        stored = store.get(response_id)
        outputs[response_id] = (
            {item["id"]: item for item in stored.body.get("output") or [] if "id" in item}
            if stored is not None
            else None
        )
    found = outputs.get(response_id) if response_id is not None else None
    item = found.get(item_id) if found is not None else None
    if item is None:
        quoted = item_id[:_QUOTED_ID_LIMIT]
        raise MockError(ErrorReply(404, _NOT_FOUND.format(quoted), param="input"))
    return item
