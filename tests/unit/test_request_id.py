"""Every answer carries the `x-request-id` the live API sends, one, and keeps one it has."""

from __future__ import annotations

import re

from werkzeug.wrappers import Response

from mockserver import MockConfig, close_app, create_app
from mockserver.api.dispatch import stamp_request_id


def test_an_answer_without_an_id_gets_one() -> None:
    response = stamp_request_id(Response(b"{}", mimetype="application/json"))
    [value] = response.headers.getlist("X-Request-Id")
    assert re.fullmatch(r"req_[A-Za-z0-9]{32}", value)


def test_an_id_the_answer_has_is_kept_whatever_its_case() -> None:
    response = Response(b"{}", headers={"X-Request-ID": "req_given"})
    stamp_request_id(response)
    assert response.headers.getlist("x-request-id") == ["req_given"]


def test_api_and_admin_answers_carry_one_id_each_and_new_ones() -> None:
    app = create_app(MockConfig())
    try:
        client = app.test_client()
        body = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hi"}]}
        answers = [client.post("/v1/chat/completions", json=body) for _ in range(2)]
        answers.append(client.get("/_mock/health"))
        ids = [answer.headers.getlist("x-request-id") for answer in answers]
        assert all(len(found) == 1 for found in ids)
        assert len({found[0] for found in ids}) == 3
    finally:
        close_app(app)
