"""In a real browser (Debian's chromium, driven by Playwright): a web page calls `harness serve`
across origins only with --cors, and the drift report page sorts, filters and expands."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.cassettes.test_drift import check, drifting_cassette
from tests.fixtures.servers import start_server

PAGE_HTML = b"<!DOCTYPE html><html><head><title>app</title></head><body>app</body></html>"


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE_HTML)))
        self.end_headers()
        self.wfile.write(PAGE_HTML)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture(scope="module")
def page_origin() -> Iterator[str]:
    """A web app's page, served from its own loopback port: another origin than the mock's."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# What a browser app's SDK does: a JSON POST with a bearer key (a preflighted request).
FETCH = """async ([url, stream]) => {
  try {
    const answer = await fetch(url + '/v1/chat/completions', {
      method: 'POST',
      headers: {'Content-Type': 'application/json', 'Authorization': 'Bearer browser-key'},
      body: JSON.stringify({model: 'gpt-4', stream: stream,
                            messages: [{role: 'user', content: 'Hello'}]}),
    });
    return {status: answer.status, text: await answer.text(),
            requestId: answer.headers.get('x-request-id')};
  } catch (error) {
    return {error: String(error)};
  }
}"""


# Every word in a table cell laid out on more than one line. A word: letters between spaces,
# hyphens, and the / . _ that join the parts of pointers and names (the page's break chances).
SPLIT_WORDS = """() => {
  const split = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.parentElement.closest('td')) continue;
    for (const match of node.data.matchAll(/[^\\s\\/._-]+/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set(Array.from(range.getClientRects(), r => Math.round(r.top)));
      if (tops.size > 1) split.push(match[0]);
    }
  }
  return split;
}"""


def _fetch_from_page(browser: Any, page_origin: str, mock_url: str, stream: bool) -> Any:
    page = browser.new_page()
    try:
        page.goto(page_origin)
        return page.evaluate(FETCH, [mock_url, stream])
    finally:
        page.close()


def test_a_page_calls_the_mock_with_cors_and_is_refused_without(
    browser: Any, page_origin: str, tmp_path: Path
) -> None:
    allowed = start_server(["--cors", page_origin, "--workers", "1"], log_dir=tmp_path)
    closed = start_server(["--workers", "1"], log_dir=tmp_path)
    try:
        plain = _fetch_from_page(browser, page_origin, allowed.url, stream=False)
        assert plain.get("status") == 200, plain
        assert '"chat.completion"' in plain["text"]
        assert plain["requestId"], "x-request-id is exposed to the page"
        streamed = _fetch_from_page(browser, page_origin, allowed.url, stream=True)
        assert streamed.get("status") == 200, streamed
        assert streamed["text"].rstrip().endswith("data: [DONE]")

        refused = _fetch_from_page(browser, page_origin, closed.url, stream=False)
        assert "Failed to fetch" in refused.get("error", ""), refused
    finally:
        allowed.stop()
        closed.stop()
    # The browser's preflight reached the mock and was answered there.
    assert "OPTIONS /v1/chat/completions 204" in allowed.log()
    assert "OPTIONS /v1/chat/completions 405" in closed.log()


def test_the_drift_page_sorts_filters_and_expands(browser: Any, tmp_path: Path) -> None:
    folder = tmp_path / "my-cassettes"
    drifting_cassette(folder)
    shutil.copytree(Path(__file__).resolve().parents[2] / "cassettes", folder / "shipped")
    report = tmp_path / "drift.html"
    assert check(str(folder), "--html", str(report)).exit_code == 1
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(report.as_uri())
        assert "my-cassettes" in page.inner_text("h1")
        headings = page.locator("h2").all_inner_texts()
        assert headings[0].startswith("Not covered") and headings[1].startswith("Covered")
        page.screenshot(path="/tmp/drift-report.png", full_page=False)

        covered = page.locator("section[data-status=covered] tbody tr")
        total = covered.count()
        assert total > 5
        # Filter: words typed keep only the rows holding them all.
        page.fill("#filter", "logprobs refusal")
        assert covered.locator("visible=true").count() == 1
        assert "1 of" in page.inner_text("#shown")
        page.fill("#filter", "")
        page.select_option("#which", "uncovered")
        assert not page.locator("section[data-status=covered]").is_visible()
        page.select_option("#which", "all")

        # Sort by count, biggest first (two clicks: ascending, then descending).
        count_heading = page.locator("section[data-status=covered] th", has_text="Count")
        count_heading.click()
        count_heading.click()
        counts = [
            int(value)
            for value in covered.evaluate_all("rows => rows.map(r => r.cells[4].dataset.sort)")
        ]
        assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]

        # A long overlay description opens on a click.
        details = page.locator("details").first
        summary_only = details.bounding_box()
        details.locator("summary").click()
        assert details.get_attribute("open") is not None
        opened = details.bounding_box()
        assert summary_only is not None and opened is not None
        assert opened["height"] > summary_only["height"]

        page.screenshot(path="/tmp/drift-report-sorted.png", full_page=False)
        # No word is split across two lines, every description open, on a laptop's width and
        # on a narrow window (which scrolls sideways rather than split words).
        for summary in page.locator("details summary").all()[1:]:
            summary.click()
        for width in (1280, 1024):
            page.set_viewport_size({"width": width, "height": 900})
            assert sorted(set(page.evaluate(SPLIT_WORDS))) == [], width
    finally:
        page.close()
