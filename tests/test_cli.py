"""The `motif` command line as a user types it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REQUIRED = {"palette", "valence", "arousal", "warmth", "brightness", "tempo_bpm", "key", "mode", "time_of_day",
            "weather", "geometry_style", "roughness", "metalness", "instruments", "seed"}


def motif(*args: str, store: Path | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if store is not None:
        env["MOTIF_STORE"] = str(store)
    return subprocess.run([sys.executable, "-m", "engine_server.cli", *args], capture_output=True, text=True,
                          env=env, cwd=cwd or Path(__file__).resolve().parent.parent, timeout=300)


def test_encode_json_prints_every_named_field() -> None:
    r = motif("encode", "rainy neon alley at night", "--seed", "5", "--json")
    assert r.returncode == 0, r.stderr
    latent = json.loads(r.stdout)
    assert set(latent) >= REQUIRED
    assert all(c.startswith("#") and len(c) == 7 for c in (s["color"] for s in latent["palette"]))
    assert 5 <= len(latent["palette"]) <= 7
    assert latent["seed"] == 5 and len(latent["embedding"]) == 384


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["generate", "a forest", "--seed", "abc"], "whole number"),
        (["generate", "a forest", "--seed", "-3"], "between 0 and"),
        (["generate", "   ", "--only", "probe"], "prompt is empty"),
        (["generate", "a forest", "--only", "telepathy"], "Unknown decoder 'telepathy'"),
        (["generate", "a forest", "--only", "probe", "--pin", "tempo_bpm=500"], "tempo_bpm must be between"),
        (["generate", "a forest", "--only", "probe", "--pin", "moood=1"], "unknown latent field"),
        (["encode", "x" * 3000], "the limit is 2,000"),
    ],
)
def test_bad_input_exits_nonzero_with_a_sentence(args: list[str], words: str, tmp_path: Path) -> None:
    r = motif(*args, store=tmp_path / "store")
    assert r.returncode == 2
    assert words in r.stderr


def test_generate_writes_the_pack_and_lists_it(tmp_path: Path) -> None:
    store, out = tmp_path / "store", tmp_path / "out"
    r = motif("generate", "misty pine forest", "--seed", "3", "--only", "probe", "--out", str(out), store=store)
    assert r.returncode == 0, r.stderr
    pack_id = r.stdout.split()[1]
    manifest = json.loads((out / pack_id / "pack.json").read_text())
    for asset in manifest["assets"]:
        assert (out / pack_id / asset["path"]).stat().st_size == asset["bytes"]
        assert str(out / pack_id / asset["path"]) in r.stdout
    assert "motif generate 'misty pine forest' --seed 3 --only probe" in manifest["replay"]["command"]
    listed = motif("packs", store=store)
    assert pack_id in listed.stdout and "misty pine forest" in listed.stdout


def _replay_args(manifest: dict) -> list[str]:
    import shlex

    return shlex.split(manifest["replay"]["command"])[2:]


def test_replay_command_reproduces_the_same_bytes(tmp_path: Path) -> None:
    """On one install: regenerating a pack from its replay command gives byte-identical files."""
    store = tmp_path / "store"
    first = motif("generate", "harbour at dawn", "--seed", "8", "--only", "probe", "--pin", "mode=minor",
                  "--out", str(tmp_path / "a"), store=store)
    assert first.returncode == 0, first.stderr
    pack_id = first.stdout.split()[1]
    manifest = json.loads((tmp_path / "a" / pack_id / "pack.json").read_text())
    import shutil

    shutil.rmtree(store / "packs" / pack_id)  # forget the pack; keep the install
    second = motif("generate", *_replay_args(manifest), "--out", str(tmp_path / "b"), store=store)
    assert second.returncode == 0, second.stderr
    for rel in ["pack.json", *(a["path"] for a in manifest["assets"])]:
        assert (tmp_path / "b" / pack_id / rel).read_bytes() == (tmp_path / "a" / pack_id / rel).read_bytes(), rel


def test_replay_on_another_install_reproduces_the_content(tmp_path: Path) -> None:
    """Another machine signs with its own key, so only the provenance bytes may differ."""
    a = motif("generate", "harbour at dawn", "--seed", "9", "--only", "probe", "--out", str(tmp_path / "a"),
              store=tmp_path / "s1")
    assert a.returncode == 0, a.stderr
    pack_id = a.stdout.split()[1]
    manifest_a = json.loads((tmp_path / "a" / pack_id / "pack.json").read_text())
    b = motif("generate", *_replay_args(manifest_a), "--out", str(tmp_path / "b"), store=tmp_path / "s2")
    assert b.returncode == 0, b.stderr
    manifest_b = json.loads((tmp_path / "b" / pack_id / "pack.json").read_text())
    content = [(x["path"], x.get("meta", {}).get("content_sha256")) for x in manifest_a["assets"]]
    assert content == [(x["path"], x.get("meta", {}).get("content_sha256")) for x in manifest_b["assets"]]
    assert all(sha for _, sha in content if not _.endswith(".c2pa"))
    assert manifest_a["latent"] == manifest_b["latent"] and manifest_a["request"] == manifest_b["request"]


def test_doctor_names_the_placeholder() -> None:
    r = motif("doctor")
    assert "decoder: probe" in r.stdout and "PLACEHOLDER" in r.stdout
    assert r.returncode == 0, r.stdout
