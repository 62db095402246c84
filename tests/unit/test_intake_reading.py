"""How intake reads a body: the fast paths agree with the standard library and werkzeug."""

from __future__ import annotations

import io
import json
import math

import pytest
from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Request

from mockserver.errors import MockError
from mockserver.intake import read_body, read_json
from tests.fixtures.wsgi import post_environ


def request(raw: bytes, *, declared: int | None = None, limit: int | None = 1 << 20) -> Request:
    environ = post_environ("/v1/chat/completions", raw, declared=declared is not None)
    if declared is not None:
        environ["CONTENT_LENGTH"] = str(declared)  # what the client said, true or not
    built = Request(environ)
    built.max_content_length = limit
    return built


@pytest.mark.parametrize(
    "raw",
    [
        b'{"max_tokens": 18446744073709551616}',
        b'{"n": -9223372036854775809, "x": 1}',
        b'{"big": [123456789012345678901234567890]}',
        b'{"t": 1e999}',
        b'{"s": "\\ud800"}',
        b'\xef\xbb\xbf{"bom": true}',
        b'{"plain": [1, 2.5, "x", null, true]}',
    ],
)
def test_a_body_reads_as_the_standard_library_reads_it(raw: bytes) -> None:
    got = read_json(request(raw, declared=len(raw)))
    expected = json.loads(raw)
    assert repr(got) == repr(expected)  # an int stays an int, inf stays inf
    assert [type(v) for v in got.values()] == [type(v) for v in expected.values()]


def test_nan_is_refused_as_before() -> None:
    with pytest.raises(MockError) as refused:
        read_json(request(b'{"t": NaN}', declared=10))
    assert refused.value.reply.status == 400
    assert "NaN is not valid JSON" in refused.value.reply.message
    assert math.isnan(json.loads(b"NaN"))  # what the standard library alone would take


def test_a_declared_body_is_left_for_every_later_reader() -> None:
    raw = b'{"model": "gpt-4"}'
    read = request(raw, declared=len(raw))
    assert read_body(read) == raw
    assert read.get_data(cache=True) == raw


def test_a_body_shorter_than_declared_is_a_client_gone_away() -> None:
    with pytest.raises(ClientDisconnected):
        read_body(request(b'{"model"', declared=100))


def test_a_chunked_body_over_the_limit_is_refused_and_one_within_is_read() -> None:
    with pytest.raises(MockError) as refused:
        read_body(request(b"x" * 101, limit=100))
    assert refused.value.reply.status == 413
    assert read_body(request(b"x" * 100, limit=100)) == b"x" * 100


def test_a_declared_body_over_the_limit_is_refused_unread() -> None:
    with pytest.raises(MockError) as refused:
        read_body(request(b"x" * 101, declared=101, limit=100))
    assert refused.value.reply.status == 413


class _Trickle(io.BytesIO):
    """A server's input that hands the body over a few bytes at a time."""

    def read(self, size: int | None = -1) -> bytes:
        return super().read(min(3, size if size is not None and size >= 0 else 3))


def test_a_body_handed_over_in_parts_is_read_whole() -> None:
    raw = b'{"model": "gpt-4", "messages": []}'
    read = request(raw, declared=len(raw))
    read.environ["wsgi.input"] = _Trickle(raw)
    assert read_body(read) == raw
