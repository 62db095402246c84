"""A drift report as text (for the terminal) and as a self-contained HTML page."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from harness.cassettes.drift import DriftItem, DriftReport, OverlayActionRef

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
    return (
        f"Spec drift{where}: {report.cassettes} cassettes, {report.interactions} interactions, "
        f"{report.checked} checked against the published spec and the spec with overlays."
    )


def _verdict(report: DriftReport) -> str:
    covered = sum(item.count for item in report.covered)
    uncovered = sum(item.count for item in report.uncovered)
    return (
        f"{len(report.covered)} published-spec rules broken by the wire are covered by overlays "
        f"({covered} violations); {len(report.uncovered)} rules are not covered "
        f"({uncovered} violations)."
    )


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
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th, td { border: 1px solid #cfd6e0; padding: .35rem .5rem; vertical-align: top; text-align: left;
         overflow-wrap: anywhere; }
th { background: #eef2f7; }
code { font: 12.5px ui-monospace, monospace; }
.ok { color: #17603a; } .bad { color: #a1261c; } .muted { color: #5d6878; }
tr.uncovered td { background: #fdf0ee; }
"""


def render_html(report: DriftReport) -> str:
    """The report as one HTML page: inline CSS, no scripts, every value escaped."""
    e = _escape
    verdict_class = "ok" if not report.uncovered else "bad"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Spec drift{e(' in ' + report.directory) if report.directory else ''}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{e(_headline(report))}</h1>",
        f'<p class="{verdict_class}">{e(_verdict(report))}</p>',
        "<h2>Covered by the overlays</h2>",
        '<p class="muted">The published spec rejects these; with the overlays they pass.</p>',
        _html_table(report.covered, covered=True),
        "<h2>Not covered</h2>",
        '<p class="muted">Still violations with the overlays applied.</p>',
        _html_table(report.uncovered, covered=False),
    ]
    if report.skipped:
        parts.append(f"<h2>Skipped, not in the specs ({len(report.skipped)})</h2><ul>")
        parts.extend(
            f"<li><code>{e(label)}</code>: {e(reason)}</li>" for label, reason in report.skipped
        )
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_table(items: list[DriftItem], *, covered: bool) -> str:
    e = _escape
    if not items:
        return "<p>None.</p>"
    last = "Covered by" if covered else "Published spec"
    rows = [
        "<table><colgroup>"
        + "".join(f'<col style="width:{width}%">' for width in _COLUMN_WIDTHS)
        + "</colgroup><thead><tr><th>Operation</th><th>Where</th><th>Pointer</th><th>Kind</th>"
        f"<th>Count</th><th>Example</th><th>{last}</th></tr></thead><tbody>"
    ]
    for item in items:
        if covered:
            credit = "<br>".join(_html_credit(ref) for ref in item.covered_by) or e(
                "the overlays together: " + ", ".join(item.covered_by_overlays)
            )
        else:
            credit = e(
                "also broken" if item.in_published else "accepts it (an overlay is stricter)"
            )
        rows.append(
            f'<tr class="{"covered" if covered else "uncovered"}">'
            f"<td>{e(item.operation)}</td><td>{e(item.where)}</td>"
            f"<td><code>{e(item.pattern)}</code></td><td>{e(item.kind)}</td>"
            f"<td>{e(_times(item))}</td><td><code>{e(item.example)}</code></td>"
            f"<td>{credit}</td></tr>"
        )
    rows.append("</tbody></table>")
    return "\n".join(rows)


# Operation, where, pointer, kind, count, example, credit (percent of the page width).
_COLUMN_WIDTHS = (13, 10, 15, 7, 8, 25, 22)


def _html_credit(ref: OverlayActionRef) -> str:
    e = _escape
    return (
        f"<strong>{e(ref.drift_id or 'unnamed action')}</strong> "
        f'<span class="muted">({e(ref.overlay)})</span>: {e(_short(ref.description))}'
    )


def _escape(text: str) -> str:
    return html.escape(text, quote=True)
