"""A drift report as text (for the terminal) and as a self-contained HTML page."""

from __future__ import annotations

import re
from collections.abc import Iterable

from harness.cassettes.drift import DriftItem, DriftReport, OverlayActionRef
from harness.cassettes.html_page import SORTABLE_TABLE_SCRIPT, escape

_FIRST_SENTENCE = re.compile(r"^(.+?\.)(\s|$)")
MAX_DESCRIPTION = 110


def render_text(report: DriftReport) -> str:
    lines = [_headline(report), ""]
    lines.append(
        "Covered by the overlays (the published spec rejects it, the corrected spec accepts it):"
    )
    lines.extend(_text_items(report.covered) or ["  none"])
    lines.append("")
    lines.append("Not covered (still a violation with the overlays applied):")
    lines.extend(_text_items(report.uncovered) or ["  none"])
    if report.skipped:
        lines.append("")
        lines.append(f"Skipped, not in the specs ({len(report.skipped)}):")
        lines.extend(f"  {label}: {reason}" for label, reason in report.skipped)
    lines.append("")
    lines.append(_verdict(report))
    return "\n".join(lines) + "\n"


def _headline(report: DriftReport) -> str:
    where = f" in {report.directory}" if report.directory else ""
    return f"Spec drift{where}: {_counts(report)}."


def _counts(report: DriftReport) -> str:
    return (
        f"{_count(report.cassettes, 'cassette')}, {_count(report.interactions, 'interaction')}, "
        f"{report.checked} checked against the published spec and the spec with overlays"
    )


def _verdict(report: DriftReport) -> str:
    covered = sum(item.count for item in report.covered)
    uncovered = sum(item.count for item in report.uncovered)
    rules, left = len(report.covered), len(report.uncovered)
    return (
        f"{_count(rules, 'published-spec rule')} broken by the wire {_are(rules)} covered by "
        f"overlays ({_count(covered, 'violation')}); {_count(left, 'rule')} {_are(left)} not "
        f"covered ({_count(uncovered, 'violation')})."
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _are(number: int) -> str:
    return "is" if number == 1 else "are"


def _text_items(items: Iterable[DriftItem]) -> list[str]:
    lines: list[str] = []
    for item in items:
        lines.append(f"  {item.operation} | {item.where} | {item.pattern} | {item.kind}")
        lines.append(f"      {_times(item)}")
        lines.append(f"      e.g. {item.example}")
        if item.covered:
            credits = [f"{ref.label}: {_short(ref.description)}" for ref in item.covered_by]
            if not credits:
                credits = ["the overlays together: " + ", ".join(item.covered_by_overlays)]
            lines.append(f"      covered by {credits[0]}")
            lines.extend(f"                 {credit}" for credit in credits[1:])
        elif not item.in_published:
            lines.append("      (the published spec accepts this: an overlay made it stricter)")
    return lines


def _times(item: DriftItem) -> str:
    times = "once" if item.count == 1 else f"{item.count} times"
    return f"{times} in {item.interactions} interaction{'s' if item.interactions != 1 else ''}"


def _short(description: str) -> str:
    text = " ".join(description.split())
    match = _FIRST_SENTENCE.match(text)
    text = match.group(1) if match else text
    if len(text) <= MAX_DESCRIPTION:
        return text
    return text[: MAX_DESCRIPTION - 1].rsplit(" ", 1)[0] + " …"


_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem; color: #1d2430; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; } h1 code { font-size: inherit; }
h2 { font-size: 1.1rem; margin-top: 2rem; }
.bar { display: flex; gap: .75rem; align-items: center; margin: 1rem 0 .4rem; flex-wrap: wrap; }
.bar input[type=search] { flex: 1; min-width: 16rem; padding: .35rem .5rem; font: inherit; }
table { border-collapse: collapse; width: 100%; min-width: 76rem; table-layout: fixed; }
th, td { border: 1px solid #cfd6e0; padding: .35rem .5rem; vertical-align: top; text-align: left;
         overflow-wrap: break-word; word-break: normal; hyphens: none; }
th { background: #eef2f7; cursor: pointer; user-select: none; position: sticky; top: 0; }
th[data-dir=asc]::after { content: " \\25B2"; } th[data-dir=desc]::after { content: " \\25BC"; }
code { font: 12.5px ui-monospace, monospace; }
details summary { cursor: pointer; } details[open] .short { display: none; }
.ok { color: #17603a; } .bad { color: #a1261c; } .muted { color: #5d6878; }
tr.uncovered td { background: #fdf0ee; }
"""

# Sorting and filtering, inline: the page must work offline, from a CI artifact.
_SCRIPT = (
    SORTABLE_TABLE_SCRIPT
    + """
(function () {
  const sections = Array.from(document.querySelectorAll('section[data-status]'));
  const search = document.getElementById('filter');
  const which = document.getElementById('which');
  const shown = document.getElementById('shown');
  function apply() {
    const words = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
    let count = 0, total = 0;
    for (const section of sections) {
      const wanted = which.value === 'all' || section.dataset.status === which.value;
      section.hidden = !wanted;
      for (const row of section.querySelectorAll('tbody tr')) {
        const text = row.textContent.toLowerCase();
        const ok = wanted && words.every(w => text.includes(w));
        row.hidden = !ok;
        total++;
        if (ok) count++;
      }
    }
    shown.textContent = count + ' of ' + total + (total === 1 ? ' rule' : ' rules') + ' shown';
  }
  search.addEventListener('input', apply);
  which.addEventListener('change', apply);
  for (const table of document.querySelectorAll('table.drift')) sortable(table);
  apply();
})();
"""
)


def render_html(report: DriftReport) -> str:
    """The report as one page: inline CSS and script (no network), every value escaped.

    "Not covered" comes first: it is what needs work. Both tables sort by a click on a
    column's heading and filter by the words typed; long overlay descriptions open on a click.
    """
    e = escape
    verdict_class = "ok" if not report.uncovered else "bad"
    folder = report.directory or "the cassettes"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Spec drift: {e(folder)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Spec drift: <code>{e(folder)}</code></h1>",
        f'<p class="muted">{e(_counts(report))}.</p>',
        f'<p class="{verdict_class}">{e(_verdict(report))}</p>',
        '<div class="bar"><input id="filter" type="search" '
        'placeholder="Filter: words in any column (e.g. finish_reason stream)">'
        '<select id="which"><option value="all">not covered and covered</option>'
        '<option value="uncovered">not covered only</option>'
        '<option value="covered">covered only</option></select>'
        '<span id="shown" class="muted"></span></div>',
        '<section data-status="uncovered">',
        f"<h2>Not covered ({len(report.uncovered)})</h2>",
        '<p class="muted">Still violations with the overlays applied.</p>',
        _html_table(report.uncovered, covered=False, folder=report.directory),
        "</section>",
        '<section data-status="covered">',
        f"<h2>Covered by the overlays ({len(report.covered)})</h2>",
        '<p class="muted">The published spec rejects these; with the overlays they pass.</p>',
        _html_table(report.covered, covered=True, folder=report.directory),
        "</section>",
    ]
    if report.skipped:
        parts.append(f"<h2>Skipped, not in the specs ({len(report.skipped)})</h2><ul>")
        parts.extend(
            f"<li><code>{e(label)}</code>: {e(reason)}</li>" for label, reason in report.skipped
        )
        parts.append("</ul>")
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"


# (heading, sort as, percent of the page width)
_COLUMNS = (
    ("Operation", "text", 11),
    ("Where", "text", 12),
    ("Pointer", "text", 14),
    ("Kind", "text", 7),
    ("Count", "number", 9),
    ("Example", "text", 21),
)
# The credit column: wide enough for the SDK's longest type names in one piece.
_LAST_WIDTH = 26


def _html_table(items: list[DriftItem], *, covered: bool, folder: str = "") -> str:
    e = escape
    if not items:
        return "<p>None.</p>"
    last = "Covered by" if covered else "Published spec"
    head = [*_COLUMNS, (last, "text", _LAST_WIDTH)]
    rows = [
        '<table class="drift"><colgroup>'
        + "".join(f'<col style="width:{width}%">' for _, _, width in head)
        + "</colgroup><thead><tr>"
        + "".join(f'<th data-type="{kind}">{e(name)}</th>' for name, kind, _ in head)
        + "</tr></thead><tbody>"
    ]
    for item in items:
        if covered:
            credit = "".join(_html_credit(ref) for ref in item.covered_by) or e(
                "the overlays together: " + ", ".join(item.covered_by_overlays)
            )
        else:
            credit = e(
                "also broken" if item.in_published else "accepts it (an overlay is stricter)"
            )
        rows.append(
            f'<tr class="{"covered" if covered else "uncovered"}">'
            f"<td>{_breakable(item.operation)}</td><td>{_breakable(item.where)}</td>"
            f"<td><code>{_breakable(item.pattern)}</code></td><td>{_breakable(item.kind)}</td>"
            f'<td data-sort="{item.count}">{e(_times(item))}</td>'
            f"<td><code>{_breakable(_relative(item.example, folder))}</code></td>"
            f"<td>{credit}</td></tr>"
        )
    rows.append("</tbody></table>")
    return "\n".join(rows)


_JOINERS = re.compile(r"([/._])(?=\w)")


def _relative(example: str, folder: str) -> str:
    """An example's cassette path from the folder the heading names, not repeated whole."""
    prefix = folder.rstrip("/") + "/"
    return example[len(prefix) :] if folder and example.startswith(prefix) else example


def _breakable(text: str) -> str:
    """``text`` escaped, with line-break chances after the ``/``, ``.`` and ``_`` that join
    words: pointers, paths, event types and SDK names then wrap between their parts instead
    of inside a word (a browser breaks only at spaces and hyphens)."""
    return _JOINERS.sub(r"\1<wbr>", escape(text))


def _html_credit(ref: OverlayActionRef) -> str:
    e = escape
    short = _short(ref.description)
    name = (
        f"<strong>{e(ref.drift_id or 'unnamed action')}</strong> "
        f'<span class="muted">({e(ref.overlay)})</span>: '
    )
    full = " ".join(ref.description.split())
    if short == full:
        return f"<div>{name}{_breakable(full)}</div>"
    # The first sentence shows; a click shows the whole description in its place.
    return (
        f'<details><summary>{name}<span class="short">{_breakable(short)}</span></summary>'
        f"{_breakable(full)}</details>"
    )
