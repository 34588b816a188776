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


def motif(*args: str, store: Path | None = None, cwd: Path | None = None,
          stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if store is not None:
        env["MOTIF_STORE"] = str(store)
    return subprocess.run([sys.executable, "-m", "engine_server.cli", *args], capture_output=True, text=True,
                          env=env, cwd=cwd or Path(__file__).resolve().parent.parent, timeout=300, input=stdin)


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
        (["generate", "", "--only", "probe"], "prompt is empty"),  # not the default prompt
        (["generate", "", "--only", "probe", "--server", "127.0.0.1:1"], "prompt is empty"),
        (["generate", " \t", "--only", "probe", "--server", "127.0.0.1:1"], "prompt is empty"),
        (["generate", "a forest", "--prompt-file", "prompt.txt"], "not both"),
        (["generate", "--prompt-file", "no-such-file.txt"], "Cannot read the prompt file 'no-such-file.txt'"),
        (["encode"], "Give a prompt to encode"),
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


def test_prompt_file_and_standard_input(tmp_path: Path) -> None:
    """Long prompts need not go on the command line (nor show in `ps`)."""
    store, out = tmp_path / "store", tmp_path / "out"
    (tmp_path / "prompt.txt").write_text("misty pine forest at dawn\n")
    r = motif("generate", "--prompt-file", str(tmp_path / "prompt.txt"), "--only", "probe", "--out", str(out),
              store=store)
    assert r.returncode == 0, r.stderr
    manifest = json.loads((out / r.stdout.split()[1] / "pack.json").read_text())
    assert manifest["request"]["prompt"] == "misty pine forest at dawn"
    r = motif("encode", "--prompt-file", "-", "--json", stdin="misty pine forest at dawn")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["palette"] == manifest["latent"]["palette"]
    for text, words in (("x" * 3000, "the limit is 2,000"), ("  \n", "prompt is empty")):
        r = motif("generate", "--prompt-file", "-", "--only", "probe", store=store, stdin=text)
        assert r.returncode == 2 and words in r.stderr


def test_an_error_prints_on_a_line_of_its_own(tmp_path: Path) -> None:
    """The progress bar is running when this error arrives: the sentence must not land inside it."""
    r = motif("generate", "a forest", "--only", "probe", "--pin", "moood=1", store=tmp_path / "store")
    assert r.returncode == 2
    lines = r.stderr.split("\n")
    assert any(line.startswith("motif generate: Cannot pin unknown latent field(s): moood") for line in lines), r.stderr


def test_a_sketch_that_is_not_an_image_is_named_by_its_file(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("a harbour, boats on the left, low hills behind")
    r = motif("generate", "a harbour", "--only", "image", "--sketch", str(notes), store=tmp_path / "store")
    assert r.returncode == 2
    assert f"The sketch '{notes}' could not be read as a PNG or JPEG image" in r.stderr
    assert "object at 0x" not in r.stderr
