"""langchain-openai's ChatOpenAI on `harness serve`, as the LangChain client tests make it."""

from __future__ import annotations

from langchain_openai import ChatOpenAI

from tests.clients.expect import MODEL
from tests.fixtures.servers import API_KEY, RunningServer


def chat_model(mock: RunningServer, responses_api: bool = False, model: str = MODEL) -> ChatOpenAI:
    """``responses_api``: LangChain's Responses API path instead of Chat Completions."""
    return ChatOpenAI(
        model=model,
        base_url=mock.base_url,
        api_key=API_KEY,  # type: ignore[arg-type]
        max_retries=0,
        use_responses_api=responses_api,
    )
