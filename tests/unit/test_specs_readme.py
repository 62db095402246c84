"""specs/README.md stays true: every correction in the overlays is in its table, and no more."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

SPECS = Path(__file__).resolve().parents[2] / "specs"


def test_every_drift_id_of_the_overlays_is_documented_and_no_other() -> None:
    in_overlays = set()
    for overlay in SPECS.glob("overlays/*.yaml"):
        for action in yaml.safe_load(overlay.read_text())["actions"]:
            in_overlays.add(action["x-drift-id"])
    readme = (SPECS / "README.md").read_text()
    documented = set(re.findall(r"^\| ([SCR]\d+) \|", readme, flags=re.MULTILINE))
    assert documented == in_overlays
