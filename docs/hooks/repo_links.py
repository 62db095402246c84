"""MkDocs hook: links from a page to repository files outside docs/ (``../specs/README.md``).

Such links are right on GitHub, where the pages are read in the repository too, but the site
does not hold those files, and ``mkdocs build --strict`` refuses them. This hook checks that
the file exists (a broken one is still an error) and turns the link into a link to the file
in the repository browser when ``repo_url`` is set, else into its plain text.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s#]+)(?P<anchor>#[^)\s]*)?\)")
log = logging.getLogger("mkdocs.hooks.repo_links")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    docs = Path(config["docs_dir"]).resolve()
    repo = docs.parent
    page_dir = (docs / page.file.src_uri).parent

    def rewrite(match: re.Match[str]) -> str:
        target = match.group("target")
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
            return match.group(0)
        resolved = (page_dir / target).resolve()
        if resolved.is_relative_to(docs) or not resolved.is_relative_to(repo):
            return match.group(0)  # a page of the site (mkdocs checks it) or not ours
        if not resolved.exists():
            log.warning("%s links to %s, which is not in the repository", page.file.src_uri, target)
            return match.group(0)
        repo_url = config.get("repo_url")
        if not repo_url:
            return match.group("text")
        path = resolved.relative_to(repo).as_posix()
        anchor = match.group("anchor") or ""
        return f"[{match.group('text')}]({repo_url.rstrip('/')}/blob/main/{path}{anchor})"

    return LINK.sub(rewrite, markdown)
