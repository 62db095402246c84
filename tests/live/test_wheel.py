"""The specs ship inside the wheel: `harness serve` works from any directory without a checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests

from tests.fixtures.servers import start_server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project built as a wheel and unpacked into its own folder (dependencies not copied)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
    )
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1
    target = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheels[0]) as archive:
        names = archive.namelist()
        assert "harness/specs/upstream/gpt-4.json" in names
        assert "harness/specs/upstream/gpt-4-RESPONSES.json" in names
        assert any(name.startswith("harness/specs/overlays/") for name in names)
        assert "harness/py.typed" in names and "mockserver/py.typed" in names
        for name in ("index.html", "app.js", "app.css"):  # the dashboard's page
            assert f"mockserver/dashboard/static/{name}" in names
        archive.extractall(target)
    return target


def test_serve_from_an_installed_wheel_in_another_directory(
    installed_wheel: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # The wheel's folder comes first on the path, so neither the checkout nor an editable
    # install can supply the packages or the specs.
    env = {**os.environ, "PYTHONPATH": str(installed_wheel), "HARNESS_CACHE_DIR": str(tmp_path)}
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import harness, harness.spec as s;"
            "print(harness.__file__); print(s.default_specs_dir())",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    module_file, specs_dir = probe.stdout.split()
    assert Path(module_file).is_relative_to(installed_wheel)
    assert Path(specs_dir) == installed_wheel / "harness" / "specs"

    server = start_server([], log_dir=tmp_path, cwd=elsewhere, env=env)
    try:
        response = requests.post(
            f"{server.base_url}/chat/completions",
            json={"model": "gpt-4", "messages": [{"role": "user", "content": "Hello"}]},
            headers={"Authorization": "Bearer any"},
            timeout=10,
        )
        assert response.status_code == 200
        assert response.json()["model"] == "gpt-4-0613"
        for path in ("/_mock/", "/_mock/ui/app.js", "/_mock/ui/app.css"):
            assert requests.get(f"{server.url}{path}", timeout=10).status_code == 200, path
    finally:
        assert server.stop() == 0
