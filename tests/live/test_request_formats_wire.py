"""Request formats through the `openai` SDK against `harness serve`: a bad ``uri`` is a 400.

schemathesis's negative mode sends ``"url": ""`` in a replayed ``url_citation`` annotation,
where the spec declares ``format: uri``; the mock used to answer 200.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai import OpenAI

from tests.unit.test_request_formats import URL_PARAM, _replayed_citation


def _create(client: OpenAI, url: str) -> Any:
    body = _replayed_citation(url)
    return client.responses.create(model=body["model"], input=body["input"])


def test_a_replayed_citation_with_a_uri_is_answered(client: OpenAI) -> None:
    response = _create(client, "https://en.wikipedia.org/wiki/Paris?utm_source=openai")
    assert response.status == "completed"


@pytest.mark.parametrize("url", ["", "not a uri"], ids=["empty", "words"])
def test_a_citation_url_that_is_not_a_uri_is_refused(client: OpenAI, url: str) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        _create(client, url)
    assert refused.value.param == URL_PARAM
    assert refused.value.code is None or isinstance(refused.value.code, str)
    assert "uri" in refused.value.message
