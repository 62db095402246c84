"""harness.atomic.replace_file: the file is the old one or the new one, never half of one."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from harness import atomic
from harness.atomic import FILE_MODE, replace_file


@pytest.mark.parametrize("durable", [True, False])
def test_replaces_the_whole_file_with_an_ordinary_mode(tmp_path: Path, durable: bool) -> None:
    path = tmp_path / "cache.json"
    path.write_text("old old old old")
    replace_file(path, "néw", durable=durable)
    assert path.read_bytes() == "néw".encode()
    assert stat.S_IMODE(path.stat().st_mode) == FILE_MODE
    assert [p.name for p in tmp_path.iterdir()] == ["cache.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cassette.yaml"
    path.write_text("old")
    seen: list[str] = []

    def failing_replace(source: str, target: Path) -> None:
        seen.append(Path(source).name)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", failing_replace)
    with pytest.raises(OSError):
        replace_file(path, b"new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["cassette.yaml"]
    # The temporary file was hidden beside its target, so folder scans skip it.
    assert seen[0].startswith(".cassette.yaml.") and seen[0].endswith(".tmp")


def test_the_spec_cache_and_cassettes_go_through_it() -> None:
    import harness.cassettes.cassette as cassette
    import harness.cassettes.drift as drift
    import harness.spec.loader as loader

    for module in (cassette, drift, loader):
        assert module.replace_file is replace_file
        assert "os.replace" not in Path(module.__file__ or "").read_text()
