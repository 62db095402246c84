"""What the cassettes' HTML reports (drift, compare) share: a sortable table, and escaping.

Each report is one page with its CSS and script inline, so it opens from a file with no
network; the script here is put before each page's own.
"""

from __future__ import annotations

import html

# sortable(table): a click on a column's heading sorts the rows by it, again to reverse;
# a cell's data-sort holds the value to sort by when its text is not it, and a heading's
# data-type="number" sorts numerically.
SORTABLE_TABLE_SCRIPT = """
function sortable(table) {
  table.tHead.addEventListener('click', function (event) {
    const th = event.target.closest('th');
    if (!th) return;
    const column = th.cellIndex;
    const dir = th.dataset.dir === 'asc' ? 'desc' : 'asc';
    for (const other of table.tHead.rows[0].cells) delete other.dataset.dir;
    th.dataset.dir = dir;
    const numeric = th.dataset.type === 'number';
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    rows.sort(function (a, b) {
      const x = a.cells[column].dataset.sort || a.cells[column].textContent;
      const y = b.cells[column].dataset.sort || b.cells[column].textContent;
      const order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
      return dir === 'asc' ? order : -order;
    });
    for (const row of rows) body.appendChild(row);
  });
}
"""


def escape(text: str) -> str:
    """``text`` safe in an HTML page, in an element or a quoted attribute."""
    return html.escape(text, quote=True)
