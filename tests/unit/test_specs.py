"""The published specs are pinned, indexed by path/method/model, and loaded with a cache."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.errors import SpecLoadError
from harness.spec import load_specs
from harness.spec import loader as spec_loader

SPECS = Path(__file__).resolve().parents[2] / "specs"
UPSTREAM = SPECS / "upstream"
# Pinned here as well as in SHA256SUMS: changing a published document needs both edits.
PINNED = {
    "gpt-4.json": "5db1103c17dca09ddce8bf51277f5a8d325874ba82b2ef1cb4d3b93b198e3fe2",
    "gpt-4-RESPONSES.json": "ce7183bc07226258c95960a6ed47a2cd325874c4c953ae00bcfc1aaacbfe786e",
}
CHAT_PATHS = ("/v1/chat/completions", "/chat/completions")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(cache))
    return cache


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- pinning


@pytest.mark.parametrize("name", sorted(PINNED))
def test_published_document_is_pinned(name: str) -> None:
    assert _sha256(UPSTREAM / name) == PINNED[name]


def test_sha256sums_matches_the_documents() -> None:
    sums = {}
    for line in (UPSTREAM / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.lstrip("*")] = digest
    assert sums == PINNED
    assert sorted(path.name for path in UPSTREAM.glob("*.json")) == sorted(PINNED)
    for name, digest in sums.items():
        assert _sha256(UPSTREAM / name) == digest, name


# --------------------------------------------------------------------------- the index


@pytest.mark.parametrize("overlays", [True, False], ids=["effective", "published"])
def test_index_finds_the_operations(overlays: bool) -> None:
    specs = load_specs(SPECS, overlays=overlays)
    found = {
        path: specs.find(path, "post", model="gpt-4") for path in (*CHAT_PATHS, "/v1/responses")
    }
    assert {path: op.operation_id for path, op in found.items() if op} == {
        "/v1/chat/completions": "_v1_chat_completions",
        "/chat/completions": "_chat_completions",
        "/v1/responses": "_v1_responses",
    }
    assert {path: op.document for path, op in found.items() if op} == {
        "/v1/chat/completions": "gpt-4",
        "/chat/completions": "gpt-4",
        "/v1/responses": "gpt-4-RESPONSES",
    }
    assert specs.find("/v1/chat/completions", "POST", "gpt-4") is found["/v1/chat/completions"]
    assert specs.find("/v1/chat/completions", "post") is found["/v1/chat/completions"]
    assert specs.models == ["gpt-4"]
    assert specs.paths == sorted([*CHAT_PATHS, "/v1/responses"])


def test_index_misses() -> None:
    specs = load_specs(SPECS, overlays=False)
    assert specs.find("/v1/chat/completions", "post", model="gpt-5") is None
    assert specs.find("/v1/responses", "post", model="gpt-5") is None
    assert specs.find("/v1/chat/completions", "get", model="gpt-4") is None
    assert specs.find("/v1/embeddings", "post") is None
    assert specs.models_for("/v1/embeddings") == []


def _chat_folder(root: Path, *, with_overlays: bool = False) -> Path:
    (root / "upstream").mkdir(parents=True)
    shutil.copyfile(UPSTREAM / "gpt-4.json", root / "upstream" / "gpt-4.json")
    if with_overlays:
        (root / "overlays").mkdir()
        for name in (
            "10-structure.yaml",
            "20-errors.yaml",
            "30-chat-wire.yaml",
            "90-nullable-enum.yaml",
        ):
            shutil.copyfile(SPECS / "overlays" / name, root / "overlays" / name)
    return root


def test_second_model_document_serves_the_same_paths(tmp_path: Path) -> None:
    folder = _chat_folder(tmp_path / "specs")
    document: dict[str, Any] = json.loads((UPSTREAM / "gpt-4.json").read_text(encoding="utf-8"))
    for path in CHAT_PATHS:
        schema = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        schema["schema"]["properties"]["model"]["enum"] = ["my-model"]
    (folder / "upstream" / "other.json").write_text(json.dumps(document), encoding="utf-8")

    specs = load_specs(folder)
    for path in CHAT_PATHS:
        assert specs.models_for(path) == ["gpt-4", "my-model"]
        mine = specs.find(path, "post", model="my-model")
        theirs = specs.find(path, "post", model="gpt-4")
        assert mine is not None and theirs is not None
        assert (mine.document, theirs.document) == ("other", "gpt-4")
        assert (
            mine.request_validator.violations(
                {"model": "my-model", "messages": [{"role": "user", "content": "Hi"}]}
            )
            == []
        )
    assert specs.models == ["gpt-4", "my-model"]
    assert specs.models_for("/v1/responses") == []


# --------------------------------------------------------------------------- the cache


def test_second_load_reads_the_cache(
    tmp_path: Path, _private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _chat_folder(tmp_path / "specs", with_overlays=True)
    first = load_specs(folder)
    cached = sorted(_private_cache.glob("effective-*.json"))
    assert len(cached) == 1
    assert json.loads(cached[0].read_bytes()) == first.documents[0].effective
    assert not list(_private_cache.glob("*.tmp")), "no temporary file is left behind"

    def must_not_apply(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the overlays were applied again instead of read from the cache")

    monkeypatch.setattr(spec_loader, "apply_overlay", must_not_apply)
    second = load_specs(folder)
    assert second.documents[0].effective == first.documents[0].effective
    assert second.documents[0].effective is not first.documents[0].effective


def test_cache_key_follows_the_overlays(tmp_path: Path, _private_cache: Path) -> None:
    folder = _chat_folder(tmp_path / "specs", with_overlays=True)
    load_specs(folder)
    overlay = folder / "overlays" / "10-structure.yaml"
    overlay.write_text(
        overlay.read_text(encoding="utf-8").replace("Successful response", "OK"),
        encoding="utf-8",
    )
    specs = load_specs(folder)
    assert len(list(_private_cache.glob("effective-*.json"))) == 2
    operation = specs.find("/v1/chat/completions", "post", "gpt-4")
    assert operation is not None
    assert operation.raw["responses"]["200"]["description"] == "OK"


@pytest.mark.parametrize(
    "garbage", [b"", b"{not json", b"\xff\xfe\x00"], ids=["empty", "truncated", "binary"]
)
def test_corrupt_cache_file_is_ignored(
    tmp_path: Path, _private_cache: Path, garbage: bytes
) -> None:
    folder = _chat_folder(tmp_path / "specs", with_overlays=True)
    expected = load_specs(folder).documents[0].effective
    (cache_file,) = _private_cache.glob("effective-*.json")
    cache_file.write_bytes(garbage)

    specs = load_specs(folder)
    assert specs.documents[0].effective == expected
    assert json.loads(cache_file.read_bytes()) == expected, "the cache file is rewritten"


def test_unwritable_cache_only_costs_speed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(blocker / "cache"))
    folder = _chat_folder(tmp_path / "specs", with_overlays=True)
    specs = load_specs(folder)
    assert specs.find("/v1/chat/completions", "post", "gpt-4") is not None


def test_published_load_writes_no_cache(_private_cache: Path) -> None:
    specs = load_specs(SPECS, overlays=False)
    assert all(document.effective is document.upstream for document in specs.documents)
    assert not _private_cache.exists() or not list(_private_cache.iterdir())


# --------------------------------------------------------------------------- load errors


def test_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(SpecLoadError) as raised:
        load_specs(missing)
    assert str(missing) in str(raised.value)


def test_folder_without_json(tmp_path: Path) -> None:
    (tmp_path / "upstream").mkdir()
    (tmp_path / "upstream" / "README.txt").write_text("nothing here", encoding="utf-8")
    with pytest.raises(SpecLoadError) as raised:
        load_specs(tmp_path)
    assert str(tmp_path / "upstream") in str(raised.value)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b'{"openapi": ', "not valid JSON"),
        (b"[1, 2]", "not an OpenAPI document"),
        (b'{"openapi": "3.0.0"}', "no `paths`"),
    ],
    ids=["truncated", "array", "no-paths"],
)
def test_non_json_document(tmp_path: Path, content: bytes, fragment: str) -> None:
    (tmp_path / "upstream").mkdir()
    bad = tmp_path / "upstream" / "broken.json"
    bad.write_bytes(content)
    with pytest.raises(SpecLoadError) as raised:
        load_specs(tmp_path, overlays=False)
    assert str(bad) in str(raised.value)
    assert fragment in str(raised.value)


def test_overlay_extending_a_missing_document(tmp_path: Path) -> None:
    folder = _chat_folder(tmp_path / "specs")
    (folder / "overlays").mkdir()
    overlay = folder / "overlays" / "30-other.yaml"
    overlay.write_text(
        "overlay: 1.0.0\n"
        "info: {title: for a document that is not there, version: '1'}\n"
        "extends: ../upstream/gpt-5.json\n"
        "actions:\n"
        "  - target: $.info\n"
        "    update: {x-note: never applied}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecLoadError) as raised:
        load_specs(folder)
    assert str(overlay) in str(raised.value)
    assert "gpt-5.json" in str(raised.value)
    # Without overlays the folder loads.
    assert load_specs(folder, overlays=False).find("/v1/chat/completions", "post", "gpt-4")


def test_overlay_whose_target_vanished_fails_the_load(tmp_path: Path) -> None:
    folder = _chat_folder(tmp_path / "specs")
    (folder / "overlays").mkdir()
    (folder / "overlays" / "50-stale.yaml").write_text(
        "overlay: 1.0.0\n"
        "info: {title: stale, version: '1'}\n"
        "actions:\n"
        "  - target: \"$.paths['/v1/completions']\"\n"
        "    remove: true\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecLoadError) as raised:
        load_specs(folder)
    assert "50-stale.yaml: actions[0]" in str(raised.value)


def test_a_relative_folder_loads_as_the_same_folder_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `harness serve --specs specs` failed: the overlays' `extends` were resolved to absolute
    # paths and looked up among the folder's documents listed relative.
    shutil.copytree(SPECS, tmp_path / "copy", ignore=shutil.ignore_patterns("README.md"))
    monkeypatch.chdir(tmp_path)
    relative = load_specs(Path("copy"))
    absolute = load_specs(tmp_path / "copy")
    assert relative.operation_names() == absolute.operation_names()
    assert len(relative.operations) == len(absolute.operations) > 0
