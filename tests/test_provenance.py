"""Provenance on real packs: C2PA read back by c2pa-python's own Reader, tampering caught by verify."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import c2pa
import pytest

from engine_server.decoders import registry
from engine_server.provenance.verify import verify_pack

ALGORITHMIC = "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"
EMBEDDED = {"image/png", "audio/wav", "video/mp4"}
# Small but real outputs, so the whole pack is made in seconds.
CHEAP_OPTIONS: dict[str, dict[str, Any]] = {
    "music": {"bars": 4},
}


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("prov")
    decoders = ",".join(registry.DEFAULT_DECODERS)
    options = {k: v for k, v in CHEAP_OPTIONS.items() if k in registry.DEFAULT_DECODERS}
    r = subprocess.run(
        [sys.executable, "-m", "engine_server.cli", "generate", "foggy harbour at dawn", "--seed", "4",
         "--only", decoders, "--options", json.dumps(options), "--out", str(tmp / "out")],
        capture_output=True, text=True, env={**__import__("os").environ, "MOTIF_STORE": str(tmp / "store")},
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    folder = next((tmp / "out").iterdir())
    return folder, json.loads((folder / "pack.json").read_text())


def _reader(folder: Path, asset: dict[str, Any]) -> Any:
    data = (folder / asset["path"]).read_bytes()
    if asset["media_type"] in EMBEDDED:
        return c2pa.Reader(asset["media_type"], io.BytesIO(data))
    sidecar = (folder / asset["meta"]["sidecar"]).read_bytes()
    return c2pa.Reader("application/octet-stream", io.BytesIO(data), manifest_data=sidecar)


def test_every_asset_carries_a_c2pa_manifest_the_sdk_reads(pack: tuple[Path, dict[str, Any]]) -> None:
    folder, manifest = pack
    content = [a for a in manifest["assets"] if a["role"] != "provenance"]
    assert content
    for asset in content:
        report = json.loads(_reader(folder, asset).json())
        active = report["manifests"][report["active_manifest"]]
        actions = next(a for a in active["assertions"] if a["label"].startswith("c2pa.actions"))["data"]["actions"]
        created = next(a for a in actions if a["action"] == "c2pa.created")
        assert created["digitalSourceType"] == ALGORITHMIC, asset["path"]
        recipe = next(a for a in active["assertions"] if a["label"] == "org.motif.recipe")["data"]
        assert recipe["pack_id"] == manifest["pack_id"] and recipe["seed"] == 4
        assert recipe["latent"]["tempo_bpm"] == manifest["latent"]["tempo_bpm"]
        assert active["claim_generator_info"][0]["name"] == "Motif"
        expected = "c2pa-embedded" if asset["media_type"] in EMBEDDED else "c2pa-sidecar"
        assert asset["meta"]["provenance"] == expected


def test_untouched_pack_verifies(pack: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = pack
    findings = verify_pack(folder)
    assert findings and all(f.ok for f in findings), [f for f in findings if not f.ok]


def _kinds(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One asset per file kind (by extension)."""
    out: dict[str, dict[str, Any]] = {}
    for a in manifest["assets"]:
        if a["role"] != "provenance":
            out.setdefault(Path(a["path"]).suffix, a)
    return out


def test_one_flipped_byte_in_each_kind_is_caught(pack: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    folder, manifest = pack
    kinds = _kinds(manifest)
    assert {".glb", ".wav", ".mid", ".png", ".mp4"} <= set(kinds)
    for suffix, asset in kinds.items():
        copy = tmp_path / suffix.strip(".")
        shutil.copytree(folder, copy)
        target = copy / asset["path"]
        target.chmod(0o644)
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x01
        target.write_bytes(bytes(data))
        bad = [f for f in verify_pack(copy) if not f.ok]
        assert any(f.path == asset["path"] and "edited" in f.message for f in bad), (suffix, bad)
        assert any(f.path == asset["path"] and "C2PA check failed" in f.message for f in bad), (suffix, bad)


def test_truncation_missing_and_extra_files_are_named(pack: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    folder, manifest = pack
    copy = tmp_path / "cut"
    shutil.copytree(folder, copy)
    wav = next(a for a in manifest["assets"] if a["path"].endswith(".wav"))
    glb = next(a for a in manifest["assets"] if a["path"].endswith(".glb"))
    (copy / wav["path"]).chmod(0o644)
    (copy / wav["path"]).write_bytes((copy / wav["path"]).read_bytes()[:1000])
    (copy / glb["path"]).unlink()
    (copy / "notes.txt").write_text("added later")
    messages: dict[str, str] = {}
    for f in verify_pack(copy):
        if not f.ok:
            messages[f.path] = messages.get(f.path, "") + f.message + "; "
    assert "was truncated: 1,000 bytes" in messages[wav["path"]]
    assert messages[glb["path"]] == "is missing; "
    assert "not listed in pack.json" in messages["notes.txt"]


def test_a_file_resigned_with_another_key_is_reported(pack: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    from engine_server.provenance import keys
    from engine_server.provenance.label import Recipe, label_files
    from engine_server.store import PackStore, StagedFile

    folder, manifest = pack
    wav = next(a for a in manifest["assets"] if a["path"].endswith(".wav"))
    other = keys.SigningIdentity.load(keys.create(tmp_path / "intruder-keys"))
    store = PackStore(tmp_path / "store")
    staging = tmp_path / "staging"
    (staging / Path(wav["path"]).parent).mkdir(parents=True)
    shutil.copyfile(folder / wav["path"], staging / wav["path"])
    recipe = Recipe(manifest["pack_id"], manifest["seed"], manifest["latent"], manifest["models"])
    label_files(store, staging, [StagedFile("music", wav["path"], "audio/wav", "music", {})], recipe, other)
    copy = tmp_path / "resigned"
    shutil.copytree(folder, copy)
    (copy / wav["path"]).chmod(0o644)
    shutil.copyfile(staging / wav["path"], copy / wav["path"])
    messages = " ".join(f.message for f in verify_pack(copy) if not f.ok and f.path == wav["path"])
    assert "signed by a key other than this install's Motif key" in messages


def test_replay_reports_byte_equality_per_asset(pack: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    folder, manifest = pack
    r = subprocess.run([sys.executable, "-m", "engine_server.cli", "replay", str(folder), "--store",
                        str(tmp_path / "store")], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    content = [a["path"] for a in manifest["assets"] if a["role"] != "provenance"]
    for path in content:
        assert f"[same] {path}" in r.stdout
    assert f"{len(content)}/{len(content)} identical" in r.stdout


def test_glb_states_its_source_type_in_its_own_metadata(pack: tuple[Path, dict[str, Any]]) -> None:
    import pygltflib

    folder, manifest = pack
    glbs = [a for a in manifest["assets"] if a["path"].endswith(".glb")]
    assert glbs
    for asset in glbs:
        gltf = pygltflib.GLTF2().load(str(folder / asset["path"]))
        assert "KHR_xmp_json_ld" in gltf.extensionsUsed
        packet = gltf.extensions["KHR_xmp_json_ld"]["packets"][gltf.asset.extensions["KHR_xmp_json_ld"]["packet"]]
        assert packet["Iptc4xmpExt:DigitalSourceType"] == ALGORITHMIC
        assert packet["motif:seed"] == manifest["seed"]
