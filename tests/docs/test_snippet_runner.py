"""The snippet runner itself: markers, collection, and that a failing snippet fails its test."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.docs import test_snippets as runner
from tests.docs.snippets import MarkerError, parse_marker, snippets_in

PAGE = """# A page

<!-- snippet: skip reason=needs the real API, and a key -->
```python
print("not run")
```

```json
{"data": "not a snippet"}
```

<!-- snippet: file name=conftest.py -->
```python
import pytest
```

<!-- snippet: pytest key=test-key -->
```python
def test_it(): pass
```

- in a list:

  ```console
  $ echo hi
  hi
  ```
"""


def test_markers_are_read() -> None:
    assert parse_marker("<!-- snippet: skip reason=needs a key=value, really -->") == (
        frozenset({"skip"}),
        {"reason": "needs a key=value, really"},
    )
    assert parse_marker("<!-- snippet: slow key=test-key -->") == (
        frozenset({"slow"}),
        {"key": "test-key"},
    )
    assert parse_marker("<!-- a comment of another kind -->") == (frozenset(), {})


@pytest.mark.parametrize(
    "comment",
    [
        "<!-- snippet: skip -->",
        "<!-- snippet: skp reason=typo -->",
        "<!-- snippet: file -->",
    ],
)
def test_a_marker_the_runner_cannot_read_is_an_error(comment: str) -> None:
    with pytest.raises(MarkerError):
        parse_marker(comment)


def test_a_page_is_collected_with_its_markers(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(PAGE)
    found = snippets_in(page)
    assert [(s.language, sorted(s.kinds)) for s in found] == [
        ("python", ["skip"]),
        ("python", ["file"]),
        ("python", ["pytest"]),
        ("console", []),
    ]
    assert found[0].options["reason"] == "needs the real API, and a key"
    assert found[2].files == (found[1],)
    assert found[2].options == {"key": "test-key"}
    assert found[3].line == 24


def test_console_output_with_an_ellipsis_matches_anything_there() -> None:
    steps = runner._console_steps("$ harness validate x\nx: /a: 1 is bad\n...\n$ true\n")
    assert steps == [("harness validate x", ["x: /a: 1 is bad", "..."]), ("true", [])]
    pattern = runner._expected_line("Compared … of … interactions with http://127.0.0.1:…")
    assert pattern.fullmatch("Compared 36 of 36 interactions with http://127.0.0.1:41527")
    assert not pattern.fullmatch("Compared 36 of 36 interactions with http://example.com")


def _fake_server() -> Any:
    return SimpleNamespace(url="http://127.0.0.1:9")


def test_a_failing_shell_snippet_fails(tmp_path: Path) -> None:
    snippet = snippets_in(_page(tmp_path, "```bash\ntrue\nfalse\ntrue\n```\n"))[0]
    with pytest.raises(AssertionError, match="exit 1"):
        runner._run_shell_snippet(snippet, _fake_server(), tmp_path, tmp_path)


def test_console_output_that_differs_fails(tmp_path: Path) -> None:
    snippet = snippets_in(_page(tmp_path, "```console\n$ echo hello\ngoodbye\n```\n"))[0]
    with pytest.raises(AssertionError, match="no output line matches 'goodbye'"):
        runner._run_console_snippet(snippet, _fake_server(), tmp_path, tmp_path)


def test_a_server_snippet_that_never_answers_fails(tmp_path: Path) -> None:
    snippet = snippets_in(_page(tmp_path, "```bash\nexit 4\n```\n"))[0]
    with pytest.raises(AssertionError, match="exited 4"):
        runner._run_server_snippet(snippet, tmp_path, tmp_path)


def _page(tmp_path: Path, body: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(body)
    return page
