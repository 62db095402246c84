"""The Node side of the client matrix: the pinned packages of node/ and one case run.

node/package.json pins each package exactly and node/package-lock.json locks the tree; the
project is installed with `npm ci` when a pinned package is missing from node/node_modules or
is there at another version. Where `node` or `npm` is not installed the tests skip, saying so.
A case is one `node SCRIPT ARGS...` that prints its observations as one JSON object.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.clients.conftest import OFFLINE_ENV
from tests.fixtures.servers import RunningServer

NODE_PROJECT = Path(__file__).parent / "node"
CASE_TIMEOUT_S = 60
INSTALL_TIMEOUT_S = 300


def stale_packages(project: Path) -> list[str]:
    """The pinned packages not installed at their pinned version, as `name@pin` (none: ready)."""
    pins: dict[str, str] = json.loads((project / "package.json").read_text())["dependencies"]
    stale = []
    for name, pin in pins.items():
        installed = project / "node_modules" / name / "package.json"
        version = json.loads(installed.read_text()).get("version") if installed.is_file() else None
        if version != pin:
            stale.append(f"{name}@{pin}")
    return stale


def install_node_project(project: Path = NODE_PROJECT) -> Path:
    """Skip without Node.js and npm; `npm ci` unless every pin is installed at its version."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(name for name, path in (("node", node), ("npm", npm)) if not path)
        pytest.skip(f"the Node client matrix needs Node.js 20+ with npm; {missing} not on PATH")
    if stale_packages(project):
        # npm must reach its registry: drop the proxy guard the matrix sets for the clients.
        env = {k: v for k, v in os.environ.items() if k.upper() not in OFFLINE_ENV}
        install = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
        )
        assert install.returncode == 0, f"npm ci failed:\n{install.stdout}\n{install.stderr}"
        assert not stale_packages(project), f"after npm ci: {stale_packages(project)}"
    return project


def run_node_case(project: Path, mock: RunningServer, *args: str) -> dict[str, Any]:
    """Run `node ARGS...` in ``project`` against ``mock``; its JSON observations."""
    done = subprocess.run(
        ["node", *args],
        cwd=project,
        env={**os.environ, "OPENAI_BASE_URL": mock.base_url},
        capture_output=True,
        text=True,
        timeout=CASE_TIMEOUT_S,
    )
    assert done.returncode == 0, f"node {' '.join(args)} failed:\n{done.stderr}"
    observed: dict[str, Any] = json.loads(done.stdout)
    return observed
