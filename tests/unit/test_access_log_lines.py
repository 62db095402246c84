"""Access lines handed to ``harness serve``'s log handler as fields (not as log records) are
printed as the records would have been, in order with the other records, at the flush."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from mockserver import access_log, serving
from mockserver.app import create_app
from mockserver.config import MockConfig

FIELDS = {
    "method": "POST",
    "path": "/v1/chat/completions",
    "status": 200,
    "latency_ms": 1.5,
    "stub_id": None,
    "fault": None,
}
MESSAGE = "POST /v1/chat/completions 200 1.5ms stub=- fault=-"
CHAT = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]}


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_an_access_line_reads_as_its_record_would(log_format: str) -> None:
    formatter = (
        serving._JsonFormatter()
        if log_format == "json"
        else serving._TextFormatter(serving._TEXT_FORMAT)
    )
    plain = logging.Formatter(serving._TEXT_FORMAT)  # logging's own, for the text lines
    for created in (1_796_000_000.0, 1_796_000_000.0005, 1_796_000_000.999, 1_796_000_061.25):
        record = serving._access_record(created, MESSAGE, dict(FIELDS))
        expected = formatter.format(record) if log_format == "json" else plain.format(record)
        assert formatter.access_line(created, MESSAGE, dict(FIELDS)) == expected


@contextmanager
def _printed_as(log_format: str) -> Iterator[io.StringIO]:
    """``harness serve``'s logging in ``log_format``, printing into the returned buffer."""
    logger = logging.getLogger("mockserver")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    serving.configure_logging("info", log_format)
    handler = logger.handlers[0]
    assert isinstance(handler, serving._BatchedStderrHandler)
    printed = io.StringIO()
    duplicate = handler.setStream(printed)  # the handler's own copy of stderr
    if duplicate is not None and duplicate is not sys.stderr:
        duplicate.close()
    try:
        yield printed
    finally:
        access_log.print_lines_with(None)
        logger.handlers[:], logger.level, logger.propagate = saved


@pytest.fixture
def configured() -> Iterator[io.StringIO]:
    with _printed_as("json") as printed:
        yield printed


def test_requests_print_their_lines_at_the_flush_in_order(configured: io.StringIO) -> None:
    client = create_app(MockConfig(access_log=True)).test_client()
    key = {"Authorization": "Bearer sk-test"}
    client.post("/v1/chat/completions", json=CHAT, headers=key)
    logging.getLogger("mockserver.test").warning("between")
    client.post("/v1/chat/completions", json=CHAT, headers={**key, "X-Mock-Fault": "overloaded"})
    handler = logging.getLogger("mockserver").handlers[0]
    assert isinstance(handler, serving._BatchedStderrHandler)
    handler._flush_now()
    lines = [json.loads(line) for line in configured.getvalue().splitlines()]
    assert [(line["logger"], line.get("status")) for line in lines] == [
        ("mockserver.access", 200),
        ("mockserver.test", None),
        ("mockserver.access", 503),
    ]
    assert lines[2]["fault"] == "overloaded" and lines[2]["message"].startswith("POST ")


def test_a_handler_added_elsewhere_gets_records(configured: io.StringIO) -> None:
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    access = logging.getLogger("mockserver.access")
    extra = Keep()
    access.addHandler(extra)
    try:
        client = create_app(MockConfig(access_log=True)).test_client()
        client.post("/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer k"})
    finally:
        access.removeHandler(extra)
    assert [record.access["status"] for record in seen] == [200]  # type: ignore[attr-defined]


@pytest.fixture
def text_log() -> Iterator[io.StringIO]:
    with _printed_as("text") as printed:
        yield printed


def test_a_path_cannot_write_a_line_of_its_own(text_log: io.StringIO) -> None:
    # A %0D%0A in the path was printed raw: any client (no key needed) could add a forged
    # "POST /_mock/reset 200" line to the log. Control characters are escaped, and a path
    # of tens of kilobytes is cut.
    client = create_app(MockConfig(access_log=True)).test_client()
    forged = "/v1/models\r\n2026-12-01 00:00:00,000 INFO mockserver.access: POST /_mock/reset 200"
    # As servers decode it: %0D%0A is a CR LF in PATH_INFO (the test client would drop them).
    client.get(
        "/v1/models",
        headers={"Authorization": "Bearer k"},
        environ_overrides={"PATH_INFO": forged + "x" * 50_000},
    )
    handler = logging.getLogger("mockserver").handlers[0]
    assert isinstance(handler, serving._BatchedStderrHandler)
    handler._flush_now()
    (line,) = text_log.getvalue().splitlines()
    assert "GET /v1/models\\r\\n2026-12-01" in line and " 404 " in line
    assert len(line) < 2_000
