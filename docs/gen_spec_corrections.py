"""Build the spec-corrections reference from specs/overlays/*.yaml (run by mkdocs-gen-files).

One page per overlay file, each action with its target, its change and its evidence payload,
plus an index. Generated at every build, so the pages cannot drift from the overlays.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mkdocs_gen_files
import yaml

SPECS = Path(__file__).resolve().parent.parent / "specs"
OUT = Path("reference/spec-corrections")
INDEX_INTRO = """# Spec corrections

`specs/upstream/` holds the published OpenAPI documents byte for byte (a test pins their
sha256). Where they disagree with the real wire, `specs/overlays/*.yaml` correct them as
OpenAPI Overlay 1.0 documents, each action with a description and an evidence payload in
`specs/evidence/` that the published spec rejects and the corrected one accepts. An action
that matches nothing is an error: it means the published spec changed. The mock validates
requests against the corrected spec; `harness serve --specs DIR` serves another folder of
documents and overlays (a second model's document makes the same routes serve that model).
`specs/README.md` in the repository gives the reason for each correction and the wire the
code relies on.

These pages are generated from the overlay files at every build.
"""


def overlay_files() -> list[Path]:
    return sorted((SPECS / "overlays").glob("*.yaml"))


def action_change(action: dict[str, Any]) -> str:
    if action.get("remove"):
        return "removes the node"
    update = yaml.safe_dump(action.get("update"), default_flow_style=True, sort_keys=False)
    return f"updates it with `{update.strip()}`"


def evidence_block(action: dict[str, Any]) -> list[str]:
    name = action.get("x-evidence")
    if not name:
        return [
            "No evidence payload: a structural fix, shown by the published document itself.",
            "",
        ]
    payload = json.loads((SPECS / name).read_text(encoding="utf-8"))
    text = json.dumps(payload, indent=2, ensure_ascii=False)
    return [
        f'??? note "Evidence: `specs/{name}`"',
        "",
        "    The published spec rejects this payload; the corrected spec accepts it.",
        "",
        "    ```json",
        *(f"    {line}" for line in text.splitlines()),
        "    ```",
        "",
    ]


def overlay_page(path: Path, document: dict[str, Any]) -> str:
    extends = document.get("extends")
    applies = f"`{Path(extends).name}`" if extends else "every document in the folder"
    lines = [
        f"# {path.stem}: {document['info']['title']}",
        "",
        f"`specs/overlays/{path.name}` (OpenAPI Overlay {document['overlay']}) applies to "
        f"{applies}. Actions, in the order they are applied:",
        "",
    ]
    for action in document.get("actions", []):
        lines += [
            f"## {action.get('x-drift-id', 'action')}",
            "",
            " ".join(str(action.get("description", "")).split()),
            "",
            f"Target `{action['target']}`; {action_change(action)}.",
            "",
            *evidence_block(action),
        ]
    return "\n".join(lines)


def index_page(documents: list[tuple[Path, dict[str, Any]]]) -> str:
    lines = [
        INDEX_INTRO,
        "| overlay | what it corrects | actions | ids |",
        "|---|---|---|---|",
    ]
    for path, document in documents:
        actions = document.get("actions", [])
        ids = ", ".join(dict.fromkeys(str(a.get("x-drift-id", "")) for a in actions))
        title = document["info"]["title"]
        lines.append(f"| [{path.name}]({path.stem}.md) | {title} | {len(actions)} | {ids} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    documents = [
        (path, yaml.safe_load(path.read_text(encoding="utf-8"))) for path in overlay_files()
    ]
    for path, document in documents:
        with mkdocs_gen_files.open(OUT / f"{path.stem}.md", "w") as page:
            page.write(overlay_page(path, document))
    with mkdocs_gen_files.open(OUT / "index.md", "w") as page:
        page.write(index_page(documents))


main()
