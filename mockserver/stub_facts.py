"""What a stub's ``match`` reads of a request besides its body, for each endpoint.

- ``last_user_message`` searches the last user message (chat), or the last user input text
  (Responses).
- ``turns`` is the number of user messages in the conversation: chat ``messages`` with role
  ``user``; for Responses, the user messages of ``input`` (a string is one) and, when
  ``previous_response_id`` continues a stored response, those of the stored conversation.
  Tool round trips inside a turn (a call, its result) do not add turns.
- ``has_tool_result`` is whether the conversation ends with a tool result: the last chat
  message has role ``tool`` (or the legacy ``function``); the last Responses input item the
  mock reads is a ``function_call_output``. This is when the engine answers a tool's result
  with text rather than calling again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mockserver.engine.chat import last_user_text
from mockserver.engine.responses import input_messages, last_user_input_text
from mockserver.storage import ResponseStorage
from mockserver.stubs import RequestFacts, _endpoint

Message = Mapping[str, Any]
# Roles whose message is a tool's result in chat (``function`` is the legacy form).
_TOOL_ROLES = frozenset({"tool", "function"})


def chat_facts(body: Mapping[str, Any]) -> RequestFacts:
    """A chat completions request's facts."""
    messages = body.get("messages")
    listed = [m for m in messages if isinstance(m, Mapping)] if isinstance(messages, list) else []
    return RequestFacts(
        last_user_text(body),
        turns=lambda: _user_messages(listed),
        has_tool_result=lambda: bool(listed) and listed[-1].get("role") in _TOOL_ROLES,
    )


def responses_facts(
    stored: ResponseStorage | None,
) -> Callable[[Mapping[str, Any]], RequestFacts]:
    """A Responses request's facts; ``stored`` finds the conversation a
    ``previous_response_id`` continues (``None``: its turns are not counted)."""

    def facts(body: Mapping[str, Any]) -> RequestFacts:
        def turns() -> int:
            return _user_messages(_history(stored, body.get("previous_response_id"))) + (
                _user_messages(input_messages(body.get("input")))
            )

        def has_tool_result() -> bool:
            messages = input_messages(body.get("input"))
            return bool(messages) and messages[-1].get("role") == "tool"

        return RequestFacts(last_user_input_text(body), turns, has_tool_result)

    return facts


def facts_for(
    endpoint: str, body: Mapping[str, Any], stored: ResponseStorage | None = None
) -> RequestFacts:
    """The facts of a request to ``endpoint`` (none for an endpoint stubs do not answer)."""
    path = _endpoint(endpoint)
    if path == "/chat/completions":
        return chat_facts(body)
    if path == "/responses":
        return responses_facts(stored)(body)
    return RequestFacts("")


def _user_messages(messages: Sequence[Message]) -> int:
    return sum(1 for message in messages if message.get("role") == "user")


def _history(stored: ResponseStorage | None, previous_id: Any) -> Sequence[Message]:
    if stored is None or not isinstance(previous_id, str):
        return ()
    found = stored.get(previous_id)
    # An unknown id is answered 404 by the view, after matching.
    if found is None:
        return ()
    return found.conversation
