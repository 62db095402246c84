"""`harness serve` as a user runs it: prints its URL, honours its options, stops on Ctrl-C."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from harness.spec import default_specs_dir
from tests.fixtures.servers import start_server

HELLO = [{"role": "user", "content": "Hello"}]


def test_prints_base_url_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    server = start_server(["--workers", "1"], log_dir=tmp_path)
    assert f"{server.base_url}" in server.log()
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=15) == 0
    assert "Traceback" not in server.log()


def test_specs_folder_with_another_model(tmp_path: Path) -> None:
    """A second document in a --specs folder makes the same routes serve its model too."""
    folder = tmp_path / "specs"
    shutil.copytree(default_specs_dir(), folder)
    document = json.loads((folder / "upstream" / "gpt-4.json").read_text())
    schema = document["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    schema["properties"]["model"]["enum"] = ["my-model"]
    document["paths"].pop("/chat/completions")
    (folder / "upstream" / "my-model.json").write_text(json.dumps(document))
    server = start_server(["--specs", str(folder), "--workers", "1"], log_dir=tmp_path)
    try:
        headers = {"Authorization": "Bearer k"}
        for model in ["gpt-4", "my-model"]:
            response = requests.post(
                f"{server.base_url}/chat/completions",
                json={"model": model, "messages": HELLO},
                headers=headers,
                timeout=10,
            )
            assert response.status_code == 200, response.text
        listed = requests.get(f"{server.base_url}/models", headers=headers, timeout=10).json()
        assert {entry["id"] for entry in listed["data"]} == {"gpt-4", "my-model"}
    finally:
        server.stop()


def test_bad_specs_folder_is_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "harness", "serve", "--specs", str(empty)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "no *.json spec documents" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_host_name_is_served_at_its_address(tmp_path: Path) -> None:
    """granian takes only numeric addresses: `--host localhost` must still serve."""
    first = socket.getaddrinfo("localhost", None, type=socket.SOCK_STREAM)[0][4][0]
    if first != "127.0.0.1":
        pytest.skip(f"localhost resolves to {first} first here; start_server checks 127.0.0.1")
    server = start_server(["--host", "localhost", "--workers", "1"], log_dir=tmp_path)
    try:
        assert "http://localhost:" in server.log()
        assert "Traceback" not in server.log()
    finally:
        server.stop()
