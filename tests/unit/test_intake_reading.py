"""How intake reads a body: the fast paths agree with the standard library and werkzeug."""

from __future__ import annotations

import io
import json
import math
import random
import re

import pytest
from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Request

from mockserver.errors import MockError
from mockserver.intake import has_long_digit_run, read_body, read_json
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


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"1" * 18,
        b"1" * 19,
        b'{"n": 1234567890123456789}',
        b'{"n": 123456789012345678}',
        b'{"a": "12345678901234567890"}',
        b"x" + b"9" * 19 + b"x",
        b"1" * 18 + b"." + b"1" * 18,
        b"\xff\x00" + b"0" * 19,
        b"\x01" * 40,  # the bytes the search itself marks digits with
    ],
)
def test_a_long_digit_run_is_found_where_the_regular_expression_finds_it(raw: bytes) -> None:
    assert has_long_digit_run(raw) is (re.search(rb"[0-9]{19}", raw) is not None)


def test_the_digit_run_search_agrees_with_the_regular_expression_on_random_bodies() -> None:
    generator = random.Random(7)
    alphabet = b'0123456789 ,.:"{}[]-+eE\x01\xff'
    for _ in range(2000):
        raw = bytes(generator.choice(alphabet) for _ in range(generator.randrange(60)))
        raw += b"7" * generator.randrange(22)
        raw += bytes(generator.choice(alphabet) for _ in range(generator.randrange(60)))
        assert has_long_digit_run(raw) is (re.search(rb"[0-9]{19}", raw) is not None), raw


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_a_compressed_body_is_refused_naming_its_encoding(encoding: str) -> None:
    import gzip

    raw = gzip.compress(b'{"model": "gpt-4"}')
    environ = post_environ("/v1/chat/completions", raw, headers={"Content-Encoding": encoding})
    with pytest.raises(MockError) as refused:
        read_json(Request(environ))
    assert refused.value.reply.status == 400
    assert f"Content-Encoding {encoding!r}" in refused.value.reply.message


def test_a_plain_body_labelled_compressed_is_read_as_it_is() -> None:
    # Refused only when it cannot be read: the label alone decides nothing.
    raw = b'{"model": "gpt-4"}'
    environ = post_environ("/v1/chat/completions", raw, headers={"Content-Encoding": "gzip"})
    assert read_json(Request(environ)) == {"model": "gpt-4"}
