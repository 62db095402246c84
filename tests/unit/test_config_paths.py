"""MockConfig reads paths given as text as paths, as the docs write them."""

from __future__ import annotations

from pathlib import Path

from mockserver import MockConfig, create_app


def test_paths_given_as_text_are_read_as_paths(tmp_path: Path) -> None:
    # MockConfig(stubs_file="stubs.yaml") crashed the app's build with
    # AttributeError: 'str' object has no attribute 'read_text'.
    stubs = tmp_path / "stubs.yaml"
    stubs.write_text("- match: {last_user_message: ping}\n  reply: {text: pong}\n")
    config = MockConfig(stubs_file=str(stubs), state_path=str(tmp_path / "s.sqlite3"))  # type: ignore[arg-type]
    assert config.stubs_file == stubs and isinstance(config.state_path, Path)
    client = create_app(config).test_client()
    answer = client.post(
        "/v1/chat/completions",
        json={"model": "gpt-4", "messages": [{"role": "user", "content": "ping"}]},
        headers={"Authorization": "Bearer k"},
    )
    assert answer.get_json()["choices"][0]["message"]["content"] == "pong"
