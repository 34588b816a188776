"""The pack store: content-addressed, atomic, and never shows a half-written pack."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine_server.errors import InvalidArgument, NotFound
from engine_server.store import PackStore, StagedFile, sha256_file


def _stage(store: PackStore, files: dict[str, bytes]) -> tuple[Path, list[StagedFile]]:
    staging = store.staging_root / "job"
    staging.mkdir()
    staged = []
    for rel, data in files.items():
        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
        (staging / rel).write_bytes(data)
        staged.append(StagedFile("probe", rel, "application/octet-stream", "probe", {}))
    return staging, staged


def test_commit_publishes_manifest_and_files(store_root: Path) -> None:
    store = PackStore(store_root)
    staging, staged = _stage(store, {"a/one.bin": b"one", "b/two.bin": b"two" * 1000})
    manifest = store.commit("ab" * 12, staging, staged, {"schema": "motif.pack/1"})
    assert manifest["pack_id"] == "ab" * 12
    on_disk = json.loads((store_root / "packs" / ("ab" * 12) / "pack.json").read_text())
    assert on_disk == manifest
    for entry in manifest["assets"]:
        path, _ = store.asset_path(manifest["pack_id"], entry["path"])
        assert sha256_file(path) == entry["sha256"]
        assert path.stat().st_size == entry["bytes"]
        # content-addressed: the object is stored under its own digest
        assert (store_root / "objects" / entry["sha256"][:2] / entry["sha256"]).is_file()


def test_identical_content_is_stored_once(store_root: Path) -> None:
    store = PackStore(store_root)
    for pack_id in ("11" * 12, "22" * 12):
        staging, staged = _stage(store, {"x.bin": b"same bytes"})
        store.commit(pack_id, staging, staged, {})
        for p in staging.iterdir():
            p.unlink()
        staging.rmdir()
    objects = [p for p in (store_root / "objects").rglob("*") if p.is_file()]
    assert len(objects) == 1


def test_failed_commit_leaves_no_pack(store_root: Path) -> None:
    store = PackStore(store_root)
    staging, staged = _stage(store, {"ok.bin": b"fine"})
    staged.append(StagedFile("probe", "never-written.bin", "application/octet-stream", "probe", {}))
    with pytest.raises(FileNotFoundError):
        store.commit("cd" * 12, staging, staged, {})
    assert not store.exists("cd" * 12)
    assert os.listdir(store_root / "packs") == []


def test_staging_is_removed_even_on_error(store_root: Path) -> None:
    store = PackStore(store_root)
    with pytest.raises(RuntimeError), store.staging("j1") as staging:
        (staging / "half.glb").write_bytes(b"partial")
        raise RuntimeError("decoder blew up")
    assert list((store_root / "staging").iterdir()) == []


def test_stale_leftovers_are_cleaned(store_root: Path) -> None:
    store = PackStore(store_root)
    (store_root / "staging" / "dead-job").mkdir()
    (store_root / "packs" / ".half.1234").mkdir()
    assert store.clean_stale() == 2
    assert list((store_root / "packs").iterdir()) == []


def test_lookups_fail_with_clear_errors(store_root: Path) -> None:
    store = PackStore(store_root)
    with pytest.raises(NotFound, match="no pack"):
        store.get("ef" * 12)
    with pytest.raises(InvalidArgument, match="not a pack id"):
        store.get("../../etc")
    staging, staged = _stage(store, {"f.bin": b"x"})
    store.commit("12" * 12, staging, staged, {})
    with pytest.raises(NotFound, match="no asset"):
        store.asset_path("12" * 12, "../pack.json/../../x")


def test_export_copies_readable_pack(store_root: Path, tmp_path: Path) -> None:
    store = PackStore(store_root)
    staging, staged = _stage(store, {"music/mix.bin": b"abc"})
    store.commit("34" * 12, staging, staged, {})
    out = store.export("34" * 12, tmp_path / "out")
    assert (out / "music" / "mix.bin").read_bytes() == b"abc"
    assert json.loads((out / "pack.json").read_text())["pack_id"] == "34" * 12
