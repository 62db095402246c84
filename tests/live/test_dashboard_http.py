"""The dashboard over plain HTTP, from `harness serve --api-key`: the page and its two files
are served without the key and name no other host; the journal reads it polls need the key
and keep the admin API's Host and Origin checks; bad parameters are OpenAI-shaped 400s."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import openai
import pytest
import requests

from tests.fixtures.redis_server import RedisServer, redis_prefix, redis_server
from tests.fixtures.servers import RunningServer, start_server

__all__ = ["redis_prefix", "redis_server"]  # fixtures this module uses

KEY = "sk-dashboard-http-key-42"
AUTH = {"Authorization": f"Bearer {KEY}"}
# With and without the trailing slash people type.
PAGES = ("/_mock/", "/_mock/ui", "/_mock/ui/")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(
        ["--api-key", KEY, "--workers", "1"], log_dir=tmp_path_factory.mktemp("dashboard")
    )
    yield running
    running.stop()


class _Links(HTMLParser):
    """Every src and href in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value for name, value in attrs if name in ("src", "href") and value]


def links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize("path", PAGES)
def test_the_page_is_html_served_without_the_key_naming_no_other_host(
    server: RunningServer, path: str
) -> None:
    page = requests.get(server.url + path, timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    found = links(page.text)
    assert any(link.endswith("app.js") for link in found)
    assert any(link.endswith("app.css") for link in found)
    for link in found:
        target = urlsplit(urljoin(page.url, link))
        if target.scheme == "data":
            continue
        assert (target.scheme, target.netloc) == ("http", urlsplit(server.url).netloc), link
        asset = requests.get(target.geturl(), timeout=10)
        assert asset.status_code == 200, link
        # Nor does the script or the style load anything from elsewhere.
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", asset.text, re.I), link
    assert "key" in page.text.lower()  # the page says how to give the key


def test_the_journal_reads_need_the_key_and_the_admin_checks(server: RunningServer) -> None:
    for path in ("/_mock/ui/requests", "/_mock/ui/requests/1", "/_mock/ui/meta", "/_mock/ui/stubs"):
        refused = requests.get(server.url + path, timeout=10)
        assert refused.status_code == 401, path
        assert refused.json()["error"]["message"]
    # A page of another site, or a rebound name, gets neither the page nor the data.
    foreign = {"Origin": "http://evil.example"}
    assert requests.get(server.url + "/_mock/", headers=foreign, timeout=10).status_code == 403
    answer = requests.get(
        server.url + "/_mock/ui/requests", headers={**AUTH, **foreign}, timeout=10
    )
    assert answer.status_code == 403
    rebound = {"Host": "evil.example"}
    assert requests.get(server.url + "/_mock/", headers=rebound, timeout=10).status_code == 403
    meta = requests.get(server.url + "/_mock/ui/meta", headers=AUTH, timeout=10).json()
    assert "/v1/chat/completions" in meta["paths"] and "rate_limit" in meta["faults"]


def test_summaries_poll_after_a_seq_and_one_entry_opens_whole(server: RunningServer) -> None:
    requests.post(server.url + "/_mock/reset", headers=AUTH, timeout=10)
    client = openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4", messages=[{"role": "user", "content": "Poll me"}]
    )
    # The journal's own read waits for entries on their way; then the summary is there.
    requests.get(server.url + "/_mock/requests", headers=AUTH, timeout=10)
    listing = requests.get(server.url + "/_mock/ui/requests", headers=AUTH, timeout=10).json()
    [summary] = listing["data"]
    assert listing["oldest"] == listing["newest"] == summary["seq"]
    assert summary["request_id"] == raw.headers["x-request-id"]
    assert summary["status"] == 200 and summary["valid"] is True
    assert "body" not in summary and "response_body" not in summary
    newer = requests.get(
        server.url + "/_mock/ui/requests",
        params={"after": summary["seq"]},
        headers=AUTH,
        timeout=10,
    ).json()
    assert newer["data"] == []
    # The newest seq of the whole journal, so a page can tell that seqs started again.
    assert newer["newest"] == summary["seq"]
    entry = requests.get(
        f"{server.url}/_mock/ui/requests/{summary['seq']}", headers=AUTH, timeout=10
    ).json()
    assert entry["body"]["messages"][0]["content"] == "Poll me"
    assert entry["response_body"] == raw.parse().model_dump(mode="json", exclude_unset=True)
    assert entry["request_headers"]["Authorization"] == "Bearer ***"
    assert KEY not in str(entry)
    gone = requests.get(f"{server.url}/_mock/ui/requests/999999", headers=AUTH, timeout=10)
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("limit=-1", "limit"),
        ("after=x", "after"),
        ("before=1e3", "before"),
        ("status=ok", "status"),
        ("valid=maybe", "valid"),
        ("colour=red", "colour"),
    ],
)
def test_bad_parameters_are_400s_naming_them(server: RunningServer, query: str, param: str) -> None:
    answer = requests.get(f"{server.url}/_mock/ui/requests?{query}", headers=AUTH, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == param


def test_the_page_ships_in_the_package() -> None:
    import mockserver.dashboard

    static = Path(mockserver.dashboard.__file__).parent / "static"
    assert {path.name for path in static.iterdir()} >= {"index.html", "app.js", "app.css"}


def test_the_dashboard_reads_a_journal_on_redis(
    redis_server: RedisServer, redis_prefix: str, tmp_path: Path
) -> None:
    on_redis = start_server(
        ["--api-key", KEY, "--state", redis_server.url, "--redis-prefix", redis_prefix],
        log_dir=tmp_path,
    )
    try:
        client = openai.OpenAI(base_url=on_redis.base_url, api_key=KEY, max_retries=0)
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(
                model="gpt-4",
                messages=[{"role": "user", "content": "Stored in Redis"}],
                extra_headers={"X-Mock-Fault": "rate_limit"},
            )
        requests.get(on_redis.url + "/_mock/requests", headers=AUTH, timeout=10)
        listing = requests.get(
            on_redis.url + "/_mock/ui/requests",
            params={"fault": "rate_limit"},
            headers=AUTH,
            timeout=10,
        ).json()
        [summary] = listing["data"]
        assert listing["newest"] >= summary["seq"] >= listing["oldest"]
        assert summary["status"] == 429 and summary["fault"] == "rate_limit"
        entry = requests.get(
            f"{on_redis.url}/_mock/ui/requests/{summary['seq']}", headers=AUTH, timeout=10
        ).json()
        assert entry["body"]["messages"][0]["content"] == "Stored in Redis"
        assert entry["response_body"]["error"]["type"]
    finally:
        on_redis.stop()


def test_the_page_stub_list_is_cut_short_and_unchanged_is_a_304(server: RunningServer) -> None:
    # The admin API's list sends every stub whole; the page polls its own list every second.
    requests.post(server.url + "/_mock/reset", headers=AUTH, timeout=10)
    big = {"id": "big", "match": {"last_user_message": "big"}, "reply": {"text": "y" * 1_000_000}}
    seq_stub = {
        "id": "steps",
        "match": {"last_user_message": "steps"},
        "replies": [{"text": "One."}, {"text": "Two."}],
    }
    for stub in (big, seq_stub):
        requests.post(server.url + "/_mock/stubs", json=stub, headers=AUTH, timeout=30)
    listed = requests.get(server.url + "/_mock/ui/stubs", headers=AUTH, timeout=10)
    assert listed.status_code == 200
    assert len(listed.content) < 4096
    stubs = {stub["id"]: stub for stub in listed.json()["data"]}
    assert stubs["big"]["cut"] is True and stubs["big"]["size"] > 1_000_000
    assert stubs["big"]["reply"].startswith('{"text":"yyy') and stubs["big"]["reply"].endswith("…")
    assert stubs["steps"]["cut"] is False and "Two." in stubs["steps"]["reply"]
    assert stubs["steps"]["match"] == '{"last_user_message":"steps"}'
    tag = listed.headers["ETag"]
    again = requests.get(
        server.url + "/_mock/ui/stubs", headers={**AUTH, "If-None-Match": tag}, timeout=10
    )
    assert again.status_code == 304 and again.content == b""
    # A use changes the list: the count shows on the next poll.
    with openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0) as client:
        client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "big"}])
    used = requests.get(
        server.url + "/_mock/ui/stubs", headers={**AUTH, "If-None-Match": tag}, timeout=10
    )
    assert used.status_code == 200
    assert {stub["id"]: stub["used"] for stub in used.json()["data"]}["big"] == 1
    requests.post(server.url + "/_mock/reset", headers=AUTH, timeout=10)
