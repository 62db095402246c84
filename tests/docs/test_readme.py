"""The README is the front door: small, with the exact set-up commands, linking into the site."""

from __future__ import annotations

import re

from tests.docs.snippets import REPO

README = REPO / "README.md"
MAX_BYTES = 8 * 1024
# .ci/run runs the second one verbatim; the first is what a newcomer pastes.
SET_UP_COMMANDS = (
    "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/harness serve",
    "python3 -m venv .venv && .venv/bin/pip install tox && .venv/bin/tox",
)
LINK = re.compile(r"\]\(([^)\s]+)\)")
# A paragraph this long found word for word in both places is a duplicated section.
DUPLICATE_MIN_CHARS = 100


def test_the_readme_is_under_8_kb() -> None:
    assert len(README.read_bytes()) < MAX_BYTES


def test_the_readme_has_the_set_up_commands_verbatim() -> None:
    text = README.read_text(encoding="utf-8")
    for command in SET_UP_COMMANDS:
        assert f"```bash\n{command}\n```" in text, command
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert SET_UP_COMMANDS[1] in ci


def test_every_relative_link_of_the_readme_resolves() -> None:
    targets = [
        link
        for link in LINK.findall(README.read_text(encoding="utf-8"))
        if not re.match(r"[a-z]+:", link)
    ]
    assert any(link.startswith("docs/") for link in targets)
    for link in targets:
        path = link.split("#", 1)[0]
        assert (REPO / path).exists(), f"README links to {link}, which does not exist"


def _paragraphs(text: str) -> set[str]:
    blocks = (" ".join(block.split()) for block in re.split(r"\n\s*\n", text))
    return {block for block in blocks if len(block) >= DUPLICATE_MIN_CHARS}


def test_no_paragraph_is_both_in_the_readme_and_in_the_site() -> None:
    readme = _paragraphs(README.read_text(encoding="utf-8"))
    for page in sorted((REPO / "docs").rglob("*.md")):
        shared = readme & _paragraphs(page.read_text(encoding="utf-8"))
        assert not shared, f"{page.relative_to(REPO)} repeats the README: {sorted(shared)[0]}"
