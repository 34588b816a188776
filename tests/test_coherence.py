"""The Motif Coherence Index (engine_server/coherence.py, docs/COHERENCE.md).

Unit checks of its parts on hand-made analyses, then the swap test on real packs: for 6 varied prompts
made through the engine's pipeline, each matched pack must score higher than the same pack with one
modality swapped in from another prompt's pack in at least 95 % of swaps; and `motif coherence` prints
the score with its breakdown.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine_server import coherence


def _palette(hexes: list[str], shares: list[float] | None = None) -> list[dict[str, Any]]:
    import colour

    shares = shares or [1.0 / len(hexes)] * len(hexes)
    out = []
    for h, s in zip(hexes, shares, strict=True):
        rgb = np.array([int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)])
        out.append({"hex": h, "share": s, "lab": colour.XYZ_to_Lab(colour.sRGB_to_XYZ(rgb)).tolist()})
    return out


WARM = ["#8a3b12", "#d9822b", "#f2c14e", "#3b2a20", "#f7e3c1"]
COOL = ["#0b1f3a", "#1f5f8b", "#7fb7d9", "#20313b", "#d4e6f1"]


def test_palette_distance_is_zero_for_the_same_colours_in_any_order() -> None:
    a = _palette(WARM)
    b = _palette(list(reversed(WARM)))
    assert coherence.palette_distance(a, b) == pytest.approx(0.0, abs=1e-9)
    far = coherence.palette_distance(a, _palette(COOL))
    assert far > 15.0
    assert coherence.palette_agreement(0.0) == 1.0
    assert coherence.palette_agreement(coherence.PALETTE_HALF_DE) == pytest.approx(0.5)
    # a palette with fewer colours is matched one-to-one against the closest of the other's
    assert coherence.palette_distance(_palette(WARM[:3]), a) == pytest.approx(0.0, abs=1e-9)


def test_percentile_on_calibration_quantiles() -> None:
    q = (0.0, 0.0, 0.0, 1.0, 2.0)
    assert coherence.percentile(-1.0, q) == 0.0
    assert coherence.percentile(5.0, q) == 1.0
    assert coherence.percentile(0.0, q) == pytest.approx(0.25)  # ties take the middle of their run
    assert coherence.percentile(1.5, q) == pytest.approx(0.875)
    for name, table in coherence.SCALES.items():
        assert list(table) == sorted(table), name
        assert len(table) == 11, name


def _fingerprint(seed: int) -> list[list[float]]:
    return np.round(np.random.default_rng(seed).gamma(0.5, 2.0, size=(32, 120)), 1).tolist()


def _pack(level: str, palette: list[str], seed: int) -> dict[str, Any]:
    """A hand-made pack analysis in which every modality tells the same story: every cue sits at the
    10th ("lo") or 90th ("hi") percentile of its calibration scale, reversed cues at the other end."""

    def cue(name: str, reverse: bool = False) -> float:
        q = coherence.SCALES[name]
        return q[9] if (level == "hi") != reverse else q[1]

    def tone(m: str) -> dict[str, float]:
        return {k: cue(f"{m}.{k}") for k in ("brightness", "warmth", "contrast", "saturation", "straight_edges")}

    music_fp = _fingerprint(seed)
    return {
        "image": {"palette": _palette(palette), **tone("image")},
        "clip": {"palette": _palette(palette), **tone("clip"), "motion_energy": cue("clip.motion_energy"),
                 "camera_energy": cue("clip.camera_energy"), "frame_change": cue("clip.frame_change"),
                 "soundtrack": music_fp},
        "kit": {"palette": _palette(palette), "metalness": cue("kit.metalness"),
                "emissive_share": cue("kit.emissive_share"), "straightness": cue("kit.straightness"),
                "roughness": cue("kit.roughness", reverse=True)},
        "music": {"tempo_bpm": cue("music.tempo_bpm"), "mode_score": cue("music.mode_score"),
                  "note_density": cue("music.note_density"), "midi": {"mean_velocity": cue("music.velocity")},
                  "synth_share": cue("music.synth_share"),
                  "spectral_centroid_hz": cue("music.spectral_centroid_hz"), "fingerprint": music_fp},
        "missing": [],
    }


def _extremes() -> tuple[dict[str, Any], dict[str, Any]]:
    """A pack whose every cue is high and one whose every cue is low, with unrelated palettes and music."""
    return _pack("hi", WARM, 1), _pack("lo", COOL, 2)


def test_consistent_packs_score_high_and_every_swap_lowers_the_score() -> None:
    calm, wild = _extremes()
    for pack, other in ((calm, wild), (wild, calm)):
        score, breakdown = coherence.mci(pack)
        assert 0.85 <= score <= 1.0
        assert set(breakdown["groups"]) == set(coherence.WEIGHTS)
        assert breakdown["missing"] == []
        assert sum(breakdown["weights"].values()) == pytest.approx(1.0)
        for m in coherence.MODALITIES:
            swapped, _ = coherence.mci(coherence.swap(pack, other, m))
            assert swapped < score - 0.05, m


def test_missing_modalities_are_named_and_not_scored() -> None:
    calm, _ = _extremes()
    part = {k: v for k, v in calm.items() if k in ("kit", "music")}
    score, breakdown = coherence.mci(part)
    assert breakdown["missing"] == ["image", "clip"]
    assert set(breakdown["groups"]) == {"material"}  # the only term between a kit and music
    assert 0.0 <= score <= 1.0
    lone, lone_breakdown = coherence.mci({"image": calm["image"]})
    assert math.isnan(lone) and lone_breakdown["score"] is None
    no_music = coherence.swap(calm, {}, "music")
    assert "music" in no_music["missing"] and "music" not in no_music


def test_score_is_bounded() -> None:
    calm, wild = _extremes()
    mixed = copy.deepcopy(calm)
    for m in ("clip", "kit"):
        mixed = coherence.swap(mixed, wild, m)
    score, breakdown = coherence.mci(mixed)
    assert 0.0 <= score <= 1.0
    assert all(0.0 <= t["score"] <= 1.0 for t in breakdown["terms"])


# ------------------------------------------------------------------------------------------------
# Real packs

PROMPTS = (
    "sunny seaside fishing village at noon",
    "dark cyberpunk alley at night in heavy rain",
    "foggy medieval graveyard at dawn",
    "frantic neon sci-fi reactor room with alarms",
    "warm autumn forest cabin at sunset",
    "snowy mountain outpost in a blizzard",
)
SEED = 11


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, dict[str, Any]]]:
    from engine_server.encoder import get_encoder
    from engine_server.store import PackStore

    decoders = ["mesh", "music", "image", "video"]
    store = PackStore(tmp_path_factory.mktemp("coherence-store"))
    enc = get_encoder()
    out = []
    for prompt in PROMPTS:
        folder = coherence.make_pack(store, enc, prompt, SEED, decoders)
        out.append((folder, coherence.analyse_pack(folder)))
    return out


@pytest.mark.slow
def test_swap_test_matched_packs_beat_swapped_ones(packs: list[tuple[Path, dict[str, Any]]]) -> None:
    analyses = [a for _, a in packs]
    present = [m for m in coherence.MODALITIES if all(m in a for a in analyses)]
    assert present == list(coherence.MODALITIES)
    matched = [coherence.mci(a)[0] for a in analyses]
    wins, lines = [], []
    for i, a in enumerate(analyses):
        for m in present:
            for j, b in enumerate(analyses):
                if i != j:
                    s = coherence.mci(coherence.swap(a, b, m))[0]
                    wins.append(matched[i] > s)
                    if not wins[-1]:
                        lines.append(f"{PROMPTS[i]!r} with {m} of {PROMPTS[j]!r}: {s:.3f} >= {matched[i]:.3f}")
    rate = float(np.mean(wins))
    assert rate >= 0.95, f"matched beat swapped in {rate:.1%} of {len(wins)} swaps:\n" + "\n".join(lines)
    assert all(0.0 <= s <= 1.0 for s in matched)


@pytest.mark.slow
def test_clip_soundtrack_is_recognised_as_its_own_packs_music(packs: list[tuple[Path, dict[str, Any]]]) -> None:
    """The fingerprint survives AAC in the MP4: a clip's audio matches its pack's WAV and no other pack's."""
    from engine_server.analysis.music import fingerprint_similarity

    analyses = [a for _, a in packs]
    for i, a in enumerate(analyses):
        for j, b in enumerate(analyses):
            r = fingerprint_similarity(a["clip"]["soundtrack"], b["music"]["fingerprint"])
            assert r is not None
            assert (r > 0.9) if i == j else (r < 0.5), (PROMPTS[i], PROMPTS[j], r)


@pytest.mark.slow
def test_coherence_command_prints_score_and_breakdown(packs: list[tuple[Path, dict[str, Any]]],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from engine_server import cli

    folder, analysis = packs[0]
    score, breakdown = coherence.mci(analysis)
    assert cli.main(["coherence", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"MCI {score:.3f}" in out
    for group, value in breakdown["groups"].items():
        assert f"{group:<10} {value:.3f}" in out
    assert "palette" in out and "delta_e00=" in out  # evidence, not just numbers
    assert "analysis took" in out
    assert cli.main(["coherence", str(folder), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mci"]["score"] == pytest.approx(score, abs=1e-4)
    assert data["analysis"]["music"]["fingerprint"] == "(fingerprint)"


@pytest.mark.slow
def test_loose_files_without_pack_json_are_found_and_scored_alike(packs: list[tuple[Path, dict[str, Any]]],
                                                                  tmp_path: Path) -> None:
    """Files from elsewhere (no pack.json) are found by folder and suffix and give the same analysis."""
    import shutil

    folder, analysis = packs[1]
    loose = tmp_path / "loose"
    shutil.copytree(folder, loose, ignore=shutil.ignore_patterns("pack.json"))
    again = coherence.analyse_pack(loose)
    assert "pack_id" not in again and again["missing"] == []
    assert coherence.cues(again) == coherence.cues(analysis)
    for m in ("image", "clip", "kit"):
        assert again[m]["palette"] == analysis[m]["palette"], m
    assert coherence.mci(again)[0] == pytest.approx(coherence.mci(analysis)[0], abs=1e-9)


def test_coherence_command_on_a_folder_without_assets_says_so(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from engine_server import cli

    (tmp_path / "notes.txt").write_text("nothing to score")
    assert cli.main(["coherence", str(tmp_path)]) == 2
    assert "holds no image, clip, kit or music" in capsys.readouterr().err
