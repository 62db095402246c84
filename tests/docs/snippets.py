"""The code blocks of docs/**/*.md and README.md, as the snippet runner sees them.

A fenced block in Python (`python`), shell (`bash`, `sh`, `shell`) or a shell session
(`console`, commands after `$ `) is a snippet, and every snippet runs. An HTML comment right
before the fence changes how:

- ``<!-- snippet: skip reason=WHY -->``: not run (Python is still compiled); the reason is
  required and shows in the test's id list.
- ``<!-- snippet: server -->``: a shell command that starts a server: run until it answers,
  then stopped.
- ``<!-- snippet: pytest -->``: a test file, run by pytest with the harness plugin.
- ``<!-- snippet: file name=conftest.py -->``: a file the next ``pytest`` snippet of the page
  runs beside it.
- ``<!-- snippet: slow -->``: also marked ``slow``.
- ``key=test-key`` (with any of the above): run against a mock started with
  ``--api-key test-key`` instead of one that takes any key.

Other languages (JSON, YAML, text) are data, not run. Hand-written rather than pytest-examples:
that runs Python only, with its own output-comment syntax, and has no notion of a live server,
shell sessions or files that belong together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt

REPO = Path(__file__).resolve().parents[2]
PYTHON = frozenset({"python", "py"})
SHELL = frozenset({"bash", "sh", "shell"})
CONSOLE = frozenset({"console"})
KINDS = frozenset({"skip", "server", "pytest", "file", "slow"})
MARKER = re.compile(r"^\s*<!--\s*snippet:\s*(?P<body>.*?)\s*-->\s*$", re.DOTALL)


class MarkerError(ValueError):
    """A snippet marker the runner cannot read."""


@dataclass(frozen=True)
class Snippet:
    path: Path  # relative to the repository
    line: int  # 1-based line of the opening fence
    language: str  # "python", "shell" or "console"
    code: str
    kinds: frozenset[str] = frozenset()
    options: dict[str, str] = field(default_factory=dict)
    files: tuple[Snippet, ...] = ()  # for a pytest snippet: the file snippets before it

    @property
    def id(self) -> str:
        return f"{self.path.as_posix()}:{self.line}"


def documentation_files() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def parse_marker(comment: str) -> tuple[frozenset[str], dict[str, str]]:
    """``skip reason=no key here`` -> ({"skip"}, {"reason": "no key here"})."""
    match = MARKER.match(comment)
    if match is None:
        return frozenset(), {}
    body = match.group("body")
    kinds: set[str] = set()
    options: dict[str, str] = {}
    reason_at = body.find("reason=")
    if reason_at >= 0:  # the reason is free text: it runs to the end of the comment
        options["reason"] = body[reason_at + len("reason=") :].strip()
        body = body[:reason_at]
    for word in body.split():
        key, equals, value = word.partition("=")
        if equals:
            options[key] = value
        elif word in KINDS:
            kinds.add(word)
        else:
            raise MarkerError(f"unknown snippet marker {word!r} (known: {sorted(KINDS)})")
    if "skip" in kinds and not options.get("reason"):
        raise MarkerError("a skipped snippet says why: <!-- snippet: skip reason=... -->")
    if "file" in kinds and not options.get("name"):
        raise MarkerError("a file snippet needs name=FILENAME")
    return frozenset(kinds), options


def language_of(info: str) -> str | None:
    word = info.split()[0].lower() if info.split() else ""
    if word in PYTHON:
        return "python"
    if word in SHELL:
        return "shell"
    if word in CONSOLE:
        return "console"
    return None


def snippets_in(path: Path) -> list[Snippet]:
    tokens = MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))
    found: list[Snippet] = []
    pending_files: list[Snippet] = []
    previous = None
    for token in tokens:
        if token.type == "fence" and token.map is not None:
            language = language_of(token.info)
            comment = (
                previous.content if previous is not None and previous.type == "html_block" else ""
            )
            if language is not None:
                kinds, options = parse_marker(comment)
                snippet = Snippet(
                    path.relative_to(REPO) if path.is_relative_to(REPO) else path,
                    token.map[0] + 1,
                    language,
                    token.content,
                    kinds,
                    options,
                )
                if "file" in kinds:
                    pending_files.append(snippet)
                elif "pytest" in kinds:
                    snippet = Snippet(**{**snippet.__dict__, "files": tuple(pending_files)})
                    pending_files = []
                found.append(snippet)
        previous = token
    return found


def all_snippets() -> list[Snippet]:
    return [snippet for path in documentation_files() for snippet in snippets_in(path)]
