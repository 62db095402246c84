"""The drift report page, parsed: the folder in the heading, "Not covered" first, counts
pluralised, long overlay descriptions folded, sortable tables and an inline script only.
(How it looks and behaves in a browser: tests/live/test_browser_conventions.py.)"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from harness.cassettes.report import render_html, render_text
from tests.cassettes.conftest import SHIPPED
from tests.cassettes.test_drift import check, drifting_cassette


class _Page(HTMLParser):
    """Text by element: headings, summaries, scripts; attributes of cells and headers."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.text: dict[str, list[str]] = {}
        self.attributes: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("wbr", "br", "meta", "col", "input"):
            self.open.append(tag)
        self.attributes.append((tag, dict(attrs)))
        self.text.setdefault(tag, []).append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            while self.open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        for tag in set(self.open):
            self.text[tag][-1] += data


def _page(folder: Path, tmp_path: Path) -> _Page:
    html_file = tmp_path / "report.html"
    check(str(folder), "--html", str(html_file))
    page = _Page()
    page.feed(html_file.read_text(encoding="utf-8"))
    return page


def test_one_cassette_reads_in_the_singular_and_the_heading_names_the_folder(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "recorded-today"
    drifting_cassette(folder)
    page = _page(folder, tmp_path)
    assert page.text["h1"] == [f"Spec drift: {folder}"]
    paragraphs = " ".join(page.text["p"])
    assert "1 cassette, 1 interaction, 1 checked" in paragraphs
    assert "1 rule is not covered (1 violation)" in paragraphs
    headings = page.text["h2"]
    assert headings[0] == "Not covered (1)" and headings[1].startswith("Covered by the overlays")


def test_the_text_report_pluralises_too(tmp_path: Path) -> None:
    folder = tmp_path / "one"
    drifting_cassette(folder)
    text = check(str(folder)).output
    assert "Spec drift in " in text and ": 1 cassette, 1 interaction," in text
    assert "1 rule is not covered (1 violation)" in text


def test_long_descriptions_fold_and_tables_sort(tmp_path: Path) -> None:
    page = _page(SHIPPED, tmp_path)
    summaries = page.text["summary"]
    assert summaries and any(summary.rstrip().endswith("…") for summary in summaries)
    # The whole description is in the page, inside the details, after its summary.
    details = page.text["details"]
    assert all(len(whole) > len(summary) for whole, summary in zip(details, summaries, strict=True))
    headers = [attrs for tag, attrs in page.attributes if tag == "th"]
    assert {attrs.get("data-type") for attrs in headers} == {"text", "number"}
    counts = [attrs["data-sort"] for tag, attrs in page.attributes if "data-sort" in attrs]
    assert counts and all(value is not None and value.isdigit() for value in counts)
    scripts = [attrs for tag, attrs in page.attributes if tag == "script"]
    assert scripts == [{}]  # one inline script, nothing fetched
    assert not [tag for tag, attrs in page.attributes if tag in ("link", "img", "iframe")]
    # Examples are shown from the folder the heading names.
    assert f"{SHIPPED}/" not in " ".join(page.text["td"])


def test_words_break_only_between_their_parts() -> None:
    from harness.cassettes.report import _breakable

    assert _breakable("/choices/*/finish_reason") == "/<wbr>choices/*/<wbr>finish_<wbr>reason"
    assert _breakable("a <b> & c.d") == "a &lt;b&gt; &amp; c.<wbr>d"
    assert render_html and render_text  # both renderers are importable side by side
