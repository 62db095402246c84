"""The ``harness cassettes compare`` report: text, a self-contained HTML page, JUnit XML."""

from __future__ import annotations

from xml.etree import ElementTree

from harness.cassettes.compare import CompareReport, Finding, InteractionResult
from harness.cassettes.html_page import SORTABLE_TABLE_SCRIPT, escape

# How many interactions a text line names before it says "and N more".
_EXAMPLES = 3


def render_text(report: CompareReport) -> str:
    lines = [_headline(report), ""]
    if report.errors:
        lines.append(f"Not compared ({len(report.errors)}):")
        lines.extend(f"  {result.label}: {result.error}" for result in report.errors)
        lines.append("")
    if report.new:
        lines.append(f"New differences ({len(report.new)}):")
        for finding in report.new:
            lines.extend(_text_finding(finding))
        lines.append("")
    if report.accepted:
        # One line each: the reasons are in the baseline file, under the entry named.
        lines.append(f"Accepted by the baseline ({len(report.accepted)}):")
        lines.extend(_text_accepted(finding) for finding in report.accepted)
        lines.append("")
    if report.stale:
        lines.append(f"Stale baseline entries, matching nothing ({len(report.stale)}):")
        lines.extend(f"  entry {entry.line}: {entry.describe()}" for entry in report.stale)
        lines.append("")
    lines.append(_verdict(report))
    return "\n".join(lines) + "\n"


def _headline(report: CompareReport) -> str:
    where = f" in {report.directory}" if report.directory else ""
    compared = len(report.results) - len(report.errors)
    return (
        f"Compared {compared} of {len(report.results)} recorded interactions{where} "
        f"with {report.target}"
    )


def _verdict(report: CompareReport) -> str:
    differing = sum(1 for result in report.results if result.new)
    if report.clean:
        accepted = len(report.accepted)
        tail = f" ({accepted} accepted by the baseline)" if accepted else ""
        return f"OK: the target answers with the recorded structure{tail}."
    parts = []
    if report.new:
        parts.append(f"{len(report.new)} new differences in {differing} interactions")
    if report.errors:
        parts.append(f"{len(report.errors)} interactions not compared")
    return "FAILED: " + ", ".join(parts) + "."


def _text_finding(finding: Finding) -> list[str]:
    found = finding.difference
    count = len(finding.interactions)
    shown = ", ".join(finding.interactions[:_EXAMPLES])
    more = f" and {count - _EXAMPLES} more" if count > _EXAMPLES else ""
    lines = [
        f"  {finding.operation}  {found.location}  [{found.aspect}]",
        f"      recorded: {found.recorded}",
        f"      target:   {found.target}",
        f"      in {count} interaction{'s' if count != 1 else ''}: {shown}{more}",
    ]
    if found.detail:
        lines.append(f"      target said: {found.detail}")
    return lines


def _text_accepted(finding: Finding) -> str:
    found = finding.difference
    entry = finding.accepted_by
    count = len(finding.interactions)
    return (
        f"  {finding.operation}  {found.location}  [{found.aspect}] "
        f"{found.recorded} -> {found.target}  ({count}x, entry {entry.line if entry else '?'})"
    )


# --- JUnit ---------------------------------------------------------------------------------


def render_junit(report: CompareReport) -> str:
    """One test case per interaction; a new difference (or no answer) fails it."""
    failures = sum(1 for result in report.results if result.new and result.error is None)
    suite = ElementTree.Element(
        "testsuite",
        name="harness cassettes compare",
        tests=str(len(report.results)),
        failures=str(failures),
        errors=str(len(report.errors)),
        skipped="0",
    )
    for result in report.results:
        case = ElementTree.SubElement(
            suite, "testcase", classname=result.operation, name=result.label
        )
        if result.error is not None:
            error = ElementTree.SubElement(case, "error", message=result.error)
            error.text = result.error
        elif result.new:
            failure = ElementTree.SubElement(
                case, "failure", message=f"{len(result.new)} differences from the recording"
            )
            failure.text = "\n".join(
                f"{d.location} [{d.aspect}]: recorded {d.recorded}; target {d.target}"
                for d in result.new
            )
        accepted = [
            f"accepted: {d.location} [{d.aspect}]: {entry.reason}"
            for d, entry in result.accepted.items()
        ]
        if accepted:
            ElementTree.SubElement(case, "system-out").text = "\n".join(accepted)
    testsuites = ElementTree.Element("testsuites")
    testsuites.append(suite)
    ElementTree.indent(testsuites)
    body = ElementTree.tostring(testsuites, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"


# --- HTML ----------------------------------------------------------------------------------

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem; color: #1d2330; }
h1 { font-size: 1.35rem; margin: 0 0 .3rem; } .muted { color: #5d6878; }
.ok { color: #17603a; font-weight: 600; } .bad { color: #a1261c; font-weight: 600; }
.bar { display: flex; gap: .75rem; align-items: center; margin: 1rem 0 .6rem; flex-wrap: wrap; }
.bar input[type=search] { flex: 1; min-width: 16rem; padding: .35rem .5rem; font: inherit; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th, td { border: 1px solid #d5dae3; padding: .3rem .45rem; text-align: left;
  vertical-align: top; overflow-wrap: anywhere; }
th { background: #eef1f6; cursor: pointer; user-select: none; position: sticky; top: 0; }
th[data-dir=asc]::after { content: " \\25B2"; } th[data-dir=desc]::after { content: " \\25BC"; }
tr.new td { background: #fdf0ee; } tr.accepted td { background: #f3f8f3; }
td.side { font-family: ui-monospace, monospace; font-size: 12.5px; }
td.rec { border-left: 3px solid #6b7fa6; } td.tgt { border-left: 3px solid #c07a2c; }
details summary { cursor: pointer; } code { font-size: 12.5px; }
.tag { display: inline-block; padding: 0 .35rem; border-radius: 3px; font-size: 12px; }
.tag.new { background: #a1261c; color: #fff; } .tag.accepted { background: #17603a; color: #fff; }
"""

# Sorting and filtering, inline: the page must work offline, from a CI artifact.
_SCRIPT = (
    SORTABLE_TABLE_SCRIPT
    + """
(function () {
  const table = document.getElementById('findings');
  if (!table) return;
  const body = table.tBodies[0];
  const search = document.getElementById('filter');
  const status = document.getElementById('status');
  const shown = document.getElementById('shown');
  function apply() {
    const words = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
    let count = 0;
    for (const row of body.rows) {
      const text = row.textContent.toLowerCase();
      const ok = words.every(w => text.includes(w)) &&
        (status.value === 'all' || row.dataset.status === status.value);
      row.hidden = !ok;
      if (ok) count++;
    }
    shown.textContent = count + ' of ' + body.rows.length + ' shown';
  }
  search.addEventListener('input', apply);
  status.addEventListener('change', apply);
  sortable(table);
  apply();
})();
"""
)


def render_html(report: CompareReport) -> str:
    """The report as one page: inline CSS and script, no network, every value escaped."""
    e = escape
    verdict_class = "ok" if report.clean else "bad"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(_headline(report))}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{e(_headline(report))}</h1>",
        f'<p class="{verdict_class}">{e(_verdict(report))}</p>',
        '<p class="muted">Compared by structure: keys at every JSON pointer (<code>[]</code> '
        "for array items), null versus absent, JSON types, enum-like values, id prefixes and "
        "lengths, the order of stream event kinds (runs of one kind collapsed), the headers "
        "clients read. Text, token counts, ids and timestamps are never a difference.</p>",
    ]
    if report.errors:
        parts.append(f"<h2>Not compared ({len(report.errors)})</h2><ul>")
        parts.extend(
            f"<li><code>{e(r.label)}</code>: {e(r.error or '')}</li>" for r in report.errors
        )
        parts.append("</ul>")
    parts.append(_html_findings(report))
    if report.stale:
        parts.append(f"<h2>Stale baseline entries ({len(report.stale)})</h2><ul>")
        parts.extend(
            f"<li>entry {entry.line}: <code>{e(entry.describe())}</code> ({e(entry.reason)})</li>"
            for entry in report.stale
        )
        parts.append("</ul>")
    parts.append(_html_interactions(report.results))
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"


def _html_findings(report: CompareReport) -> str:
    e = escape
    if not report.findings:
        return "<h2>Differences</h2><p>None.</p>"
    head = [
        ("Status", "text", 8),
        ("Operation", "text", 13),
        ("Pointer or event", "text", 22),
        ("Aspect", "text", 8),
        ("Recorded", "text", 14),
        ("Target", "text", 14),
        ("Count", "number", 6),
        ("Where / why", "text", 15),
    ]
    rows = [
        f"<h2>Differences ({len(report.new)} new, {len(report.accepted)} accepted)</h2>",
        '<div class="bar"><input id="filter" type="search" '
        'placeholder="Filter: words in any column (e.g. obfuscation responses)">'
        '<select id="status"><option value="all">new and accepted</option>'
        '<option value="new">new only</option><option value="accepted">accepted only</option>'
        '</select><span id="shown" class="muted"></span></div>',
        '<table id="findings"><colgroup>'
        + "".join(f'<col style="width:{width}%">' for _, _, width in head)
        + "</colgroup><thead><tr>"
        + "".join(f'<th data-type="{kind}">{e(name)}</th>' for name, kind, _ in head)
        + "</tr></thead><tbody>",
    ]
    for finding in report.findings:
        found = finding.difference
        status = "new" if finding.is_new else "accepted"
        labels = "<br>".join(f"<code>{e(label)}</code>" for label in finding.interactions)
        why = (
            f"<br><em>accepted:</em> {e(finding.accepted_by.reason)}"
            if finding.accepted_by is not None
            else ""
        )
        said = f"<br><em>target said:</em> {e(found.detail)}" if found.detail else ""
        rows.append(
            f'<tr class="{status}" data-status="{status}">'
            f'<td><span class="tag {status}">{status}</span></td>'
            f"<td>{e(finding.operation)}</td><td><code>{e(found.location)}</code></td>"
            f"<td>{e(found.aspect)}</td>"
            f'<td class="side rec">{e(found.recorded)}</td>'
            f'<td class="side tgt">{e(found.target)}</td>'
            f'<td data-sort="{len(finding.interactions)}">{len(finding.interactions)}</td>'
            f"<td><details><summary>{len(finding.interactions)} listed</summary>{labels}"
            f"</details>{why}{said}</td></tr>"
        )
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _html_interactions(results: tuple[InteractionResult, ...]) -> str:
    e = escape
    rows = [
        f"<h2>Interactions ({len(results)})</h2>",
        "<table><thead><tr><th>Interaction</th><th>Operation</th><th>Source</th>"
        "<th>Result</th></tr></thead><tbody>",
    ]
    for result in results:
        if result.error is not None:
            verdict = f'<span class="bad">not compared: {e(result.error)}</span>'
        elif result.new:
            verdict = f'<span class="bad">{len(result.new)} new differences</span>'
        elif result.accepted:
            verdict = f'<span class="ok">same structure ({len(result.accepted)} accepted)</span>'
        else:
            verdict = '<span class="ok">same structure</span>'
        rows.append(
            f"<tr><td><code>{e(result.label)}</code></td><td>{e(result.operation)}</td>"
            f"<td>{e(result.source)}</td><td>{verdict}</td></tr>"
        )
    rows.append("</tbody></table>")
    return "\n".join(rows)
