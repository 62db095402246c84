"""The dashboard in a real browser (Debian's chromium, driven by Playwright), against
`harness serve --api-key`: the page asks for the key once, requests the openai SDK makes
appear live, a row opens to its bodies and violations, filters narrow the rows, a stub added
from the page shows its use count, and reset empties the journal."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import requests

from tests.fixtures.servers import RunningServer, start_server, wait_until_healthy

playwright = pytest.importorskip("playwright.sync_api", reason="pip install -e .[test]")

KEY = "sk-dashboard-key-0123"
# The README's screenshot is written again only when asked (HARNESS_UPDATE_SCREENSHOTS=1),
# so a test run leaves the checkout as it was.
README_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "dashboard.png"
# How long the page may take to show what the server answered (it polls every second).
SHOWN_MS = 8000


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(["--api-key", KEY, "--workers", "1"], log_dir=tmp_path)
    yield running
    running.stop()


def test_the_dashboard_shows_requests_live_and_manages_stubs(
    browser: Any, server: RunningServer, tmp_path: Path
) -> None:
    client = openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0)
    page = browser.new_page(viewport={"width": 1440, "height": 800})
    expect = playwright.expect
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{server.url}/_mock/")
        # The page holds no data: it opens without the key, then asks for it.
        expect(page.locator("#key-form")).to_be_visible()
        page.fill("#key", "sk-not-the-key")
        page.click("#key-form button[type=submit]")
        expect(page.locator("#key-error")).to_have_text("That key was refused.")
        page.fill("#key", KEY)
        page.click("#key-form button[type=submit]")
        expect(page.locator("#key-form")).to_be_hidden()
        expect(page.locator("#empty")).to_be_visible()
        rows = page.locator("#requests tbody tr")

        # A request made by the SDK appears without a reload.
        client.chat.completions.create(
            model="gpt-4", messages=[{"role": "user", "content": "Hello from the dashboard test"}]
        )
        expect(rows).to_have_count(1, timeout=SHOWN_MS)
        expect(rows.first).to_contain_text("/v1/chat/completions")
        expect(rows.first.locator(".valid")).to_be_visible()
        stream = client.chat.completions.create(
            model="gpt-4",
            messages=[{"role": "user", "content": "Stream me something"}],
            stream=True,
        )
        streamed_text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
        expect(rows).to_have_count(2, timeout=SHOWN_MS)
        expect(rows.first.locator(".stream")).to_be_visible()
        # An invalid body (sent as it is; the SDK's types would stop it).
        refused = requests.post(
            f"{server.base_url}/chat/completions",
            json={"model": "gpt-4", "messages": [{"role": "wizard", "content": "Hi"}]},
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=10,
        )
        assert refused.status_code == 400
        expect(rows).to_have_count(3, timeout=SHOWN_MS)
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(
                model="gpt-4",
                messages=[{"role": "user", "content": "Hi"}],
                extra_headers={"X-Mock-Fault": "rate_limit"},
            )
        expect(rows).to_have_count(4, timeout=SHOWN_MS)
        expect(rows.first.locator(".fault")).to_have_text("rate_limit")

        # Opening a row shows its bodies and its (masked) headers.
        rows.nth(3).click()
        detail = page.locator("#detail")
        expect(detail).to_contain_text("Hello from the dashboard test")
        expect(detail).to_contain_text('"object": "chat.completion"')
        expect(detail).to_contain_text("Bearer ***")
        assert KEY not in detail.inner_text()
        rows.nth(2).click()
        expect(detail.locator(".event").first).to_contain_text("chat.completion.chunk")
        expect(detail).to_contain_text("[DONE]")
        assert streamed_text
        rows.nth(1).click()
        expect(detail.locator(".violations")).to_contain_text("/messages/0/role")

        # Filters narrow the rows.
        page.check("#filters input[name=invalid]")
        expect(rows).to_have_count(1, timeout=SHOWN_MS)
        expect(rows.first.locator(".invalid")).to_be_visible()
        page.click("#filters button[type=reset]")
        expect(rows).to_have_count(4, timeout=SHOWN_MS)
        page.fill("#filters input[name=status]", "200")
        expect(rows).to_have_count(2, timeout=SHOWN_MS)
        page.select_option("#filters select[name=fault]", "rate_limit")
        expect(rows).to_have_count(0, timeout=SHOWN_MS)
        page.fill("#filters input[name=status]", "")
        expect(rows).to_have_count(1, timeout=SHOWN_MS)
        page.fill("#filters input[name=path]", "/v1/responses")
        expect(rows).to_have_count(0, timeout=SHOWN_MS)
        page.click("#filters button[type=reset]")

        # A stub added from the page shows its use count.
        page.click("#tab-stubs")
        page.fill(
            "#stub-json",
            '{"id": "weather", "match": {"last_user_message": "weather"},'
            ' "reply": {"text": "Sunny, 22 °C."}}',
        )
        page.click("#add-stub button[type=submit]")
        stub_row = page.locator('#stubs tbody tr[data-id="weather"]')
        expect(stub_row.locator(".used")).to_have_text("0")
        expect(page.locator("#stub-count")).to_have_text("1")
        answer = client.chat.completions.create(
            model="gpt-4", messages=[{"role": "user", "content": "How is the weather?"}]
        )
        assert answer.choices[0].message.content == "Sunny, 22 °C."
        expect(stub_row.locator(".used")).to_have_text("1", timeout=SHOWN_MS)
        page.fill("#stub-json", "{not json")
        page.click("#add-stub button[type=submit]")
        expect(page.locator("#stub-error")).to_contain_text("Not JSON")
        page.fill("#stub-json", '{"match": {"nonsense": 1}, "reply": {"text": "x"}}')
        page.click("#add-stub button[type=submit]")
        expect(page.locator("#stub-error")).to_contain_text("nonsense")

        page.click("#tab-requests")
        expect(rows).to_have_count(5, timeout=SHOWN_MS)
        page.fill("#filters input[name=stub_id]", "weather")
        expect(rows).to_have_count(1, timeout=SHOWN_MS)
        page.click("#filters button[type=reset]")
        expect(rows).to_have_count(5, timeout=SHOWN_MS)

        # The README's picture: the list, the invalid request opened.
        rows.nth(2).click()
        expect(detail.locator(".violations")).to_contain_text("/messages/0/role")
        page.mouse.move(0, 0)
        update = os.environ.get("HARNESS_UPDATE_SCREENSHOTS") == "1"
        page.screenshot(path=str(README_SCREENSHOT if update else tmp_path / "dashboard.png"))

        # Delete from the page, then reset (asked twice) empties the journal and the stubs.
        page.click("#tab-stubs")
        stub_row.locator("button").click()
        expect(page.locator("#stub-count")).to_have_text("0")
        page.click("#tab-requests")
        page.click("#reset")
        expect(page.locator("#reset")).to_have_text("Confirm reset")
        page.click("#reset")
        expect(rows).to_have_count(0)
        expect(page.locator("#empty")).to_be_visible()
        listed = requests.get(
            f"{server.url}/_mock/requests", headers={"Authorization": f"Bearer {KEY}"}, timeout=10
        )
        assert listed.json()["data"] == []
        assert errors == []
    finally:
        page.close()


def test_a_reset_made_elsewhere_empties_the_open_page(browser: Any, server: RunningServer) -> None:
    page = browser.new_page()
    try:
        page.add_init_script(f"sessionStorage.setItem('harness-mock-key', '{KEY}')")
        page.goto(f"{server.url}/_mock/ui")
        expect = playwright.expect
        requests.post(
            f"{server.base_url}/chat/completions",
            json={"model": "gpt-4", "messages": [{"role": "user", "content": "Hi"}]},
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=10,
        )
        rows = page.locator("#requests tbody tr")
        expect(rows).to_have_count(1, timeout=SHOWN_MS)
        requests.post(
            f"{server.url}/_mock/reset", headers={"Authorization": f"Bearer {KEY}"}, timeout=10
        )
        expect(rows).to_have_count(0, timeout=SHOWN_MS)
        expect(page.locator("#key-form")).to_be_hidden()
    finally:
        page.close()


def test_a_sequence_stub_shows_its_replies(browser: Any, server: RunningServer) -> None:
    # A stub with `replies` (a sequence) has no `reply`: the page showed an empty cell.
    page = browser.new_page()
    try:
        page.add_init_script(f"sessionStorage.setItem('harness-mock-key', '{KEY}')")
        requests.post(
            f"{server.url}/_mock/stubs",
            json={
                "id": "steps",
                "match": {"last_user_message": "weather"},
                "replies": [{"text": "First."}, {"text": "Second."}],
                "after_last": "cycle",
            },
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=10,
        ).raise_for_status()
        page.goto(f"{server.url}/_mock/ui")
        page.click("#tab-stubs")
        row = page.locator('#stubs tbody tr[data-id="steps"]')
        playwright.expect(row).to_contain_text("Second.", timeout=SHOWN_MS)
        playwright.expect(row).to_contain_text("cycle")
    finally:
        page.close()


def test_without_a_journal_the_page_says_so_and_stays_live(browser: Any, tmp_path: Path) -> None:
    # `--no-journal`: the list reads would answer 409; the page says why it lists nothing,
    # rather than showing the server as offline.
    unjournaled = start_server(["--no-journal", "--workers", "1"], log_dir=tmp_path)
    page = browser.new_page()
    try:
        page.goto(f"{unjournaled.url}/_mock/ui")
        expect = playwright.expect
        expect(page.locator("#empty")).to_contain_text("--no-journal", timeout=SHOWN_MS)
        requests.post(
            f"{unjournaled.base_url}/chat/completions",
            json={"model": "gpt-4", "messages": [{"role": "user", "content": "Hi"}]},
            timeout=10,
        )
        page.wait_for_timeout(1500)  # a poll or more
        expect(page.locator("#live")).not_to_have_class("live down")
        expect(page.locator("#live")).to_have_text("live")
    finally:
        page.close()
        unjournaled.stop()


def _chat(session: requests.Session, server: RunningServer, text: str) -> None:
    session.post(
        f"{server.base_url}/chat/completions",
        json={"model": "gpt-4", "messages": [{"role": "user", "content": text}], "max_tokens": 2},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=10,
    ).raise_for_status()


def _shown_seqs(page: Any) -> list[int]:
    seqs: list[int] = page.eval_on_selector_all(
        "#requests tbody tr", "rows => rows.map(tr => Number(tr.dataset.seq))"
    )
    return seqs


def test_a_burst_between_two_polls_leaves_every_older_row_reachable(
    browser: Any, server: RunningServer
) -> None:
    # More than a page (100) between two polls: the page kept the newest 100 and hid
    # "Load older", so the rest could only be reached by reloading the page.
    page = browser.new_page()
    expect = playwright.expect
    try:
        page.add_init_script(f"sessionStorage.setItem('harness-mock-key', '{KEY}')")
        with requests.Session() as session:
            for number in range(5):
                _chat(session, server, f"before {number}")
            page.goto(f"{server.url}/_mock/ui")
            rows = page.locator("#requests tbody tr")
            expect(rows).to_have_count(5, timeout=SHOWN_MS)
            page.click("#pause")  # so the whole burst lands between two polls
            for number in range(250):
                _chat(session, server, f"burst {number}")
            page.click("#pause")
        expect(rows.first).to_have_attribute("data-seq", "255", timeout=SHOWN_MS)
        older = page.locator("#older")
        for _ in range(5):
            shown = len(_shown_seqs(page))
            if shown == 255:
                break
            expect(older).to_be_visible()
            older.click()
            expect(rows).not_to_have_count(shown, timeout=SHOWN_MS)
        expect(rows).to_have_count(255, timeout=SHOWN_MS)
        expect(older).to_be_hidden()
        assert _shown_seqs(page) == list(range(255, 0, -1))
    finally:
        page.close()


def _serve_on(port: str, log_dir: Path) -> RunningServer:
    """`harness serve` on a given port (start_server picks a free one)."""
    log_path = log_dir / "server.log"
    command = [sys.executable, "-m", "harness", "serve", "--host", "127.0.0.1", "--port", port]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--api-key", KEY, "--workers", "1"], stdout=log, stderr=subprocess.STDOUT
        )
    return wait_until_healthy(
        RunningServer(f"http://127.0.0.1:{port}", process, log_path),
        "/_mock/health",
        "restarted server",
    )


def test_a_restarted_journal_is_listed_from_scratch(browser: Any, tmp_path: Path) -> None:
    # A mock restarted on the same port (or a Redis restarted empty) numbers its entries
    # from 1 again: the page asked for entries after the old newest seq and showed nothing
    # new (and the old rows) until the new seqs passed it.
    first = start_server(["--api-key", KEY, "--workers", "1"], log_dir=tmp_path)
    port = first.url.rsplit(":", 1)[1]
    page = browser.new_page()
    expect = playwright.expect
    second: RunningServer | None = None
    try:
        page.add_init_script(f"sessionStorage.setItem('harness-mock-key', '{KEY}')")
        with requests.Session() as session:
            for number in range(6):
                _chat(session, first, f"first life {number}")
        page.goto(f"{first.url}/_mock/ui")
        rows = page.locator("#requests tbody tr")
        expect(rows).to_have_count(6, timeout=SHOWN_MS)
        first.stop()
        restarted = tmp_path / "restarted"
        restarted.mkdir()
        second = _serve_on(port, restarted)
        with requests.Session() as session:
            for number in range(2):
                _chat(session, second, f"second life {number}")
        expect(rows).to_have_count(2, timeout=SHOWN_MS)
        assert _shown_seqs(page) == [2, 1]
        rows.first.click()
        expect(page.locator("#detail")).to_contain_text("second life 1", timeout=SHOWN_MS)
        expect(page.locator("#live")).to_have_text("live", timeout=SHOWN_MS)
    finally:
        page.close()
        first.stop()
        if second is not None:
            second.stop()


def test_the_stubs_tab_does_not_fetch_big_stubs_whole_on_every_poll(
    browser: Any, server: RunningServer
) -> None:
    # GET /_mock/stubs sends every stub whole: with a 2 MB stub, the page fetched 2 MB a
    # second on the Stubs tab (every 5 s on the others).
    big_text = "x" * (2 * 1024 * 1024)
    requests.post(
        f"{server.url}/_mock/stubs",
        json={"id": "big", "match": {"last_user_message": "big"}, "reply": {"text": big_text}},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=30,
    ).raise_for_status()
    page = browser.new_page()
    expect = playwright.expect
    fetched: list[int] = []

    def count(response: Any) -> None:
        if "stubs" in response.url and response.request.method == "GET":
            fetched.append(len(response.body()) if response.status == 200 else 0)

    page.on("response", count)
    try:
        page.add_init_script(f"sessionStorage.setItem('harness-mock-key', '{KEY}')")
        page.goto(f"{server.url}/_mock/ui")
        page.click("#tab-stubs")
        row = page.locator('#stubs tbody tr[data-id="big"]')
        expect(row).to_contain_text("xxxx", timeout=SHOWN_MS)
        expect(row).to_contain_text("2.0 MB")
        page.wait_for_timeout(3500)  # three polls or more on the Stubs tab
        assert len(fetched) >= 3
        assert sum(fetched) < 64 * 1024, fetched
        # A change (a use, a new stub) still shows within a poll.
        with requests.Session() as session:
            _chat(session, server, "big please")
        expect(row.locator(".used")).to_have_text("1", timeout=SHOWN_MS)
        requests.post(
            f"{server.url}/_mock/stubs",
            json={"id": "small", "match": {"last_user_message": "small"}, "reply": {"text": "s"}},
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=10,
        ).raise_for_status()
        expect(page.locator("#stub-count")).to_have_text("2", timeout=SHOWN_MS)
    finally:
        page.close()
