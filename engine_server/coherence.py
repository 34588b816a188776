"""The Motif Coherence Index (MCI): how well the files of one pack agree with each other.

`analyse_pack` reads the pack's files alone (never its latent) through the analysers in
`engine_server.analysis` and recovers latent-like fields per modality; `mci` scores the agreement of
those fields ACROSS modalities: palettes of image, clip and kit; the grade of image and clip; the
mood of the music against the pictures (valence) and against the clip's camera motion (energy); the
music's instrumentation against the kit's materials. The definition, scales and weights are in
docs/COHERENCE.md; the swap test that validates the index is in bench/coherence.py and
tests/test_coherence.py.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

MODALITIES = ("image", "clip", "kit", "music")
VERSION = "mci-1"
# Cheap but representative decoder settings for the swap test (CI) and bench/coherence.py.
CHEAP_OPTIONS: dict[str, dict[str, Any]] = {
    "mesh": {"texture_size": 512, "assets": 5},
    "music": {"bars": 4},
    "image": {"width": 320, "height": 180},
    "video": {"width": 320, "height": 180, "duration_s": 4.0},
}

# ------------------------------------------------------------------------------------------------
# Reading a pack


def read_manifest(folder: Path | str) -> dict[str, Any] | None:
    """The folder's pack.json, or None for a folder of loose files."""
    path = Path(folder) / "pack.json"
    return dict(json.loads(path.read_text())) if path.is_file() else None


def pack_files(folder: Path | str, manifest: Mapping[str, Any] | None) -> dict[str, list[Path]]:
    """The files each analyser reads: from pack.json's roles when there is one, else by folder and suffix."""
    root = Path(folder)
    found: dict[str, list[Path]] = {"image": [], "video": [], "mesh": [], "music": [], "midi": []}
    if manifest is not None:
        for a in manifest.get("assets", []):
            role, path = a.get("role"), root / a.get("path", "")
            if role in found and path.is_file():
                found[role].append(path)
    else:
        found["image"] = sorted(p for p in root.rglob("*.png") if "mesh" not in p.parts)
        found["video"] = sorted(root.rglob("*.mp4"))
        found["mesh"] = sorted(root.rglob("*.glb"))
        found["music"] = sorted(p for p in root.rglob("*.wav") if "stems" not in p.parts)
        found["midi"] = sorted(root.rglob("*.mid"))
    return found


def analyse_pack(folder: Path | str) -> dict[str, Any]:
    """Recovered fields per modality of the pack in `folder` (a store pack folder or an exported copy).

    Keys: one per present modality ("image", "clip", "kit", "music"), "missing" (absent modalities),
    "seconds" (analysis time per modality and in total), "pack" (the folder) and "pack_id" if known.
    """
    from engine_server.analysis.image import analyse_image
    from engine_server.analysis.kit import analyse_kit
    from engine_server.analysis.music import analyse_music
    from engine_server.analysis.video import analyse_video

    root = Path(folder)
    manifest = read_manifest(root)
    files = pack_files(root, manifest)
    out: dict[str, Any] = {"pack": str(root)}
    if manifest is not None:
        out["pack_id"] = manifest.get("pack_id")
    seconds: dict[str, float] = {}
    jobs: dict[str, Callable[[], dict[str, Any]]] = {}
    if files["image"]:
        jobs["image"] = lambda: analyse_image(files["image"][0])
    if files["video"]:
        jobs["clip"] = lambda: analyse_video(files["video"][0])
    if files["mesh"]:
        jobs["kit"] = lambda: analyse_kit(files["mesh"])
    if files["music"] or files["midi"]:
        jobs["music"] = lambda: analyse_music(files["music"][0] if files["music"] else None,
                                              files["midi"][0] if files["midi"] else None)
    start = time.perf_counter()
    for name, job in jobs.items():
        t0 = time.perf_counter()
        out[name] = job()
        seconds[name] = round(time.perf_counter() - t0, 3)
    seconds["total"] = round(time.perf_counter() - start, 3)
    out["missing"] = [m for m in MODALITIES if m not in out]
    out["seconds"] = seconds
    return out


def swap(analysis: Mapping[str, Any], other: Mapping[str, Any], modality: str) -> dict[str, Any]:
    """`analysis` with one modality's recovered fields taken from `other` (the swap test's control)."""
    out = dict(analysis)
    if modality in other:
        out[modality] = other[modality]
    else:
        out.pop(modality, None)
    out["missing"] = [m for m in MODALITIES if m not in out]
    return out


def make_pack(store: Any, encoder: Any, prompt: str, seed: int, decoders: Sequence[str],
              options: Mapping[str, Mapping[str, Any]] = CHEAP_OPTIONS, quality: str = "draft") -> Path:
    """Generate (or reuse) one pack through the engine's own pipeline; returns its folder in `store`.

    `options` may name decoders the job does not run; only those it runs are used."""
    from engine_server import pipeline

    spec = pipeline.JobSpec(prompt=prompt, seed=seed, decoders=tuple(decoders), quality=quality,
                            options={k: dict(v) for k, v in options.items() if k in decoders})
    job = pipeline.prepare(spec, encoder)
    pipeline.make_in_process(store, job)
    return Path(store.pack_dir(job.pack_id))


# ------------------------------------------------------------------------------------------------
# Palette agreement


def palette_distance(a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]]) -> float:
    """Hungarian-matched mean CIEDE2000 between two recovered palettes.

    Each colour of the smaller palette is paired with a distinct colour of the other so that the sum of
    share-weighted distances is least (scipy's linear_sum_assignment); the result is the mean ΔE00 of the
    pairs weighted by the pair's mean share. 0 = same colours; ~2 just noticeable; unrelated palettes 20-40.
    """
    from scipy.optimize import linear_sum_assignment

    from engine_server.analysis.image import delta_e00

    lab_a = np.array([p["lab"] for p in a], dtype=np.float64)
    lab_b = np.array([p["lab"] for p in b], dtype=np.float64)
    wa = np.array([p["share"] for p in a], dtype=np.float64)
    wb = np.array([p["share"] for p in b], dtype=np.float64)
    de = delta_e00(lab_a[:, None, :], lab_b[None, :, :])
    pair_w = (wa[:, None] + wb[None, :]) / 2
    rows, cols = linear_sum_assignment(de * pair_w)
    w = pair_w[rows, cols]
    return float((de[rows, cols] * w).sum() / w.sum())


# ------------------------------------------------------------------------------------------------
# Common scales: each cue becomes its percentile among calibration packs (CMT's quantile matching)

# "modality.cue" -> the cue's 0, 10, ..., 100 % quantiles over the 60 calibration packs of
# bench/coherence_prompts.py CALIBRATION (seed 7, decoders mesh,music,image,video, CHEAP_OPTIONS), printed by
# `python bench/coherence.py --calibrate --decoders mesh,music,image,video`; see docs/COHERENCE.md.
# Re-run it when a decoder's look changes.
SCALES: dict[str, tuple[float, ...]] = {
    "clip.brightness": (0.2817, 0.46412, 0.47878, 0.52589, 0.56464, 0.57805, 0.60534, 0.62654, 0.63508, 0.64277,
                        0.6974),
    "clip.camera_energy": (0.00166, 0.003981, 0.008688, 0.010217, 0.012168, 0.014445, 0.017616, 0.022819, 0.032742,
                           0.043959, 0.07909),
    "clip.contrast": (0.1051, 0.18785, 0.23858, 0.30951, 0.32966, 0.3709, 0.4428, 0.55171, 0.66922, 0.74818, 0.8277),
    "clip.frame_change": (0.00155, 0.003195, 0.00371, 0.004537, 0.00494, 0.005555, 0.005946, 0.00667, 0.00819,
                          0.013828, 0.02176),
    "clip.motion_energy": (0.01242, 0.019048, 0.022918, 0.032524, 0.046446, 0.058225, 0.066588, 0.078988, 0.092182,
                           0.11272, 0.1712),
    "clip.saturation": (0.013, 0.07282, 0.09838, 0.1619, 0.19854, 0.29015, 0.33404, 0.36631, 0.38228, 0.53585, 0.7808),
    "clip.straight_edges": (0.2856, 0.32769, 0.3501, 0.35959, 0.37434, 0.3885, 0.40968, 0.44284, 0.48202, 0.49992,
                            0.6064),
    "clip.warmth": (-0.8194, -0.55986, -0.22584, 0.01941, 0.10772, 0.17475, 0.31822, 0.43396, 0.64204, 0.80089, 0.9491),
    "image.brightness": (0.2816, 0.4545, 0.47992, 0.52266, 0.5548, 0.57795, 0.59878, 0.62729, 0.64494, 0.65103, 0.716),
    "image.contrast": (0.1109, 0.19139, 0.24154, 0.30749, 0.34316, 0.37445, 0.4327, 0.6076, 0.69862, 0.74869, 0.8364),
    "image.saturation": (0.0174, 0.07143, 0.09738, 0.15979, 0.20028, 0.28165, 0.32746, 0.34791, 0.39266, 0.52486,
                         0.7729),
    "image.straight_edges": (0.2928, 0.34627, 0.36834, 0.38635, 0.39616, 0.40435, 0.42808, 0.47855, 0.50292, 0.52913,
                             0.5932),
    "image.warmth": (-0.8124, -0.53362, -0.22014, 0.02603, 0.12152, 0.1764, 0.31002, 0.43989, 0.61576, 0.79735, 0.9591),
    "kit.emissive_share": (0, 0, 0, 0.00098, 0.0014, 0.0034, 0.0109, 0.0109, 0.01104, 0.0357, 0.0357),
    "kit.metalness": (0, 0, 0, 0, 0.00026, 0.013, 0.05516, 0.05653, 0.3538, 0.3585, 0.8861),
    "kit.roughness": (0.2572, 0.41034, 0.49812, 0.60103, 0.64174, 0.6994, 0.76004, 0.80019, 0.83504, 0.85753, 0.9489),
    "kit.straightness": (0.2927, 0.2934, 0.3205, 0.57399, 0.7089, 0.7778, 0.8467, 0.8794, 0.8801, 0.8962, 0.8962),
    "music.mode_score": (-1, -0.68851, 0.40752, 0.54356, 0.64258, 0.7313, 0.79608, 0.83461, 0.89742, 1, 1),
    "music.note_density": (2.104, 3.6503, 3.984, 4.392, 5.6114, 6.473, 7.52, 9.1473, 9.726, 10.655, 17.167),
    "music.spectral_centroid_hz": (996.4, 1195.7, 1344.7, 1393.9, 1461.3, 1946.5, 2654.2, 2845.8, 2937.2, 3347.7,
                                   3743.3),
    "music.synth_share": (0, 0, 0, 0, 0, 0.169, 0.3545, 0.6484, 0.8525, 0.9082, 1),
    "music.tempo_bpm": (65, 73, 77.8, 84, 86, 89.5, 93.4, 97.3, 100.4, 105.3, 122),
    "music.velocity": (54.44, 59.59, 62.91, 63.712, 64.884, 67.15, 68.66, 71.281, 72.9, 75.814, 79.7),
}


def percentile(value: float, quantiles: Sequence[float]) -> float:
    """Where `value` falls among calibration quantiles, 0..1 (ties take the middle of their run)."""
    q = np.asarray(quantiles, dtype=np.float64)
    p = np.linspace(0.0, 1.0, len(q))
    lo, hi = int(np.searchsorted(q, value, "left")), int(np.searchsorted(q, value, "right"))
    if hi > lo:
        return float(p[lo:hi].mean())
    if lo == 0:
        return 0.0
    if lo == len(q):
        return 1.0
    return float(p[lo - 1] + (p[lo] - p[lo - 1]) * (value - q[lo - 1]) / (q[lo] - q[lo - 1]))


def cues(analysis: Mapping[str, Any]) -> dict[str, float]:
    """The scalar cues the index compares, named "modality.cue", from a pack analysis."""
    out: dict[str, float] = {}
    for m in ("image", "clip"):
        if m in analysis:
            for k in ("brightness", "warmth", "contrast", "saturation", "straight_edges"):
                out[f"{m}.{k}"] = float(analysis[m][k])
    if "clip" in analysis:
        for k in ("motion_energy", "camera_energy", "frame_change"):
            out[f"clip.{k}"] = float(analysis["clip"][k])
    if "kit" in analysis:
        k = analysis["kit"]
        for name in ("metalness", "emissive_share", "straightness", "roughness"):
            out[f"kit.{name}"] = float(k[name])
    if "music" in analysis:
        mu = analysis["music"]
        out["music.tempo_bpm"] = float(mu["tempo_bpm"])
        out["music.mode_score"] = float(mu["mode_score"])
        out["music.note_density"] = float(mu["note_density"])
        if "midi" in mu:
            out["music.velocity"] = float(mu["midi"]["mean_velocity"])
        if "synth_share" in mu:
            out["music.synth_share"] = float(mu["synth_share"])
        if "spectral_centroid_hz" in mu:
            out["music.spectral_centroid_hz"] = float(mu["spectral_centroid_hz"])
    return out


# ------------------------------------------------------------------------------------------------
# The index

PALETTE_HALF_DE = 10.0  # ΔE00 at which palette agreement is 0.5 (the project's "≤ 10" coherence bar)
GRADE_CUES = ("brightness", "warmth", "contrast", "saturation")
# Axes between modalities: each side is the mean percentile of its cues (a "-" prefix reverses a cue).
# Visual valence is brightness and visual arousal saturation plus motion (Valdez & Mehrabian 1994);
# musical valence is mode, musical energy tempo, note density and loudness of playing (velocity).
AXES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "geometry": (("kit.straightness",), ("image.straight_edges", "clip.straight_edges")),
    "valence": (("music.mode_score",), ("image.brightness", "clip.brightness")),
    "energy": (("music.tempo_bpm", "music.note_density", "music.velocity"),
               ("clip.camera_energy", "clip.frame_change", "image.saturation", "clip.saturation")),
    "material": (("music.synth_share",), ("kit.emissive_share", "kit.metalness", "-kit.roughness")),
}
WEIGHTS: dict[str, float] = {"palette": 0.3, "grade": 0.15, "geometry": 0.1, "soundtrack": 0.15, "valence": 0.1,
                             "energy": 0.1, "material": 0.1}


def palette_agreement(delta_e: float) -> float:
    """ΔE00 -> 0..1: 1 / (1 + (ΔE / 10)^2); 1 at 0, 0.8 at 5, 0.5 at 10, 0.2 at 20."""
    return 1.0 / (1.0 + (delta_e / PALETTE_HALF_DE) ** 2)


def _side(names: Sequence[str], scaled: Mapping[str, float]) -> tuple[float, list[str]] | None:
    used = [n for n in names if n.lstrip("-") in scaled]
    if not used:
        return None
    vals = [1.0 - scaled[n[1:]] if n.startswith("-") else scaled[n] for n in used]
    return float(np.mean(vals)), used


def mci(analysis: Mapping[str, Any], groups: Collection[str] | None = None) -> tuple[float, dict[str, Any]]:
    """The Motif Coherence Index of a pack analysis (from `analyse_pack`), 0..1, and its breakdown.

    Only terms whose modalities are present are scored; the weights of the others are dropped and the
    rest renormalised. The score is NaN when fewer than two modalities are present. `groups` limits the
    index to some of its groups (for the benchmark's per-group figures); the default is all of them.
    """
    from engine_server.analysis.music import fingerprint_similarity

    present = [m for m in MODALITIES if m in analysis]
    raw = cues(analysis)
    scaled = {k: percentile(v, SCALES[k]) for k, v in raw.items() if k in SCALES}
    terms: list[dict[str, Any]] = []

    # palette: every pair of image, clip and kit
    pal = [m for m in ("image", "clip", "kit") if m in analysis]
    for i, a in enumerate(pal):
        for b in pal[i + 1:]:
            de = palette_distance(analysis[a]["palette"], analysis[b]["palette"])
            terms.append({"group": "palette", "between": f"{a}~{b}", "score": palette_agreement(de),
                          "detail": {"delta_e00": round(de, 2)}})
    # grade: image against clip, cue by cue on the common (percentile) scale
    if "image" in analysis and "clip" in analysis:
        for cue in GRADE_CUES:
            pi, pc = scaled.get(f"image.{cue}"), scaled.get(f"clip.{cue}")
            if pi is None or pc is None:
                continue
            terms.append({"group": "grade", "between": f"image~clip {cue}", "score": 1.0 - abs(pi - pc),
                          "detail": {"image": raw[f"image.{cue}"], "clip": raw[f"clip.{cue}"],
                                     "image_pct": round(pi, 3), "clip_pct": round(pc, 3)}})
    # soundtrack: the clip carries the pack's music from its first sample
    if "clip" in analysis and "music" in analysis:
        r = fingerprint_similarity(analysis["clip"].get("soundtrack", []), analysis["music"].get("fingerprint", []))
        silent = not analysis["clip"].get("soundtrack")
        if r is not None or silent:
            terms.append({"group": "soundtrack", "between": "clip~music",
                          "score": 0.0 if r is None else min(max(r, 0.0), 1.0),
                          "detail": {"r": None if r is None else round(r, 3), "clip_silent": silent}})
    # axes: the kit against the pictures (geometry), the music against the pictures and the kit (mood)
    for axis, (left, right) in AXES.items():
        lhs, rhs = _side(left, scaled), _side(right, scaled)
        if lhs is None or rhs is None:
            continue
        sides = [sorted({n.lstrip("-").split(".")[0] for n in side[1]}) for side in (lhs, rhs)]
        terms.append({"group": axis, "between": "~".join("+".join(x) for x in sides),
                      "score": 1.0 - abs(lhs[0] - rhs[0]),
                      "detail": {"left": round(lhs[0], 3), "right": round(rhs[0], 3),
                                 "left_cues": lhs[1], "right_cues": rhs[1]}})

    scored: dict[str, float] = {}
    for t in terms:
        t["score"] = round(float(t["score"]), 4)
    for g in WEIGHTS:
        if groups is not None and g not in groups:
            continue
        scores = [t["score"] for t in terms if t["group"] == g]
        if scores:
            scored[g] = round(float(np.mean(scores)), 4)
    total_w = sum(WEIGHTS[g] for g in scored)
    score = math.nan
    if total_w and len(present) >= 2:
        score = float(sum(WEIGHTS[g] * s for g, s in scored.items()) / total_w)
    breakdown = {
        "version": VERSION,
        "score": round(score, 4) if math.isfinite(score) else None,
        "present": present,
        "missing": [m for m in MODALITIES if m not in analysis],
        "groups": scored,
        "weights": {g: round(WEIGHTS[g] / total_w, 4) for g in scored} if total_w else {},
        "terms": [t for t in terms if t["group"] in scored],
    }
    return score, breakdown


# ------------------------------------------------------------------------------------------------
# Printing


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    return str(v)


def readable(data: Any) -> Any:
    """An analysis without its audio fingerprints (thousands of numbers nobody reads), for JSON output."""
    if isinstance(data, dict):
        return {k: ("(fingerprint)" if k in ("fingerprint", "soundtrack") else readable(v)) for k, v in data.items()}
    return data


def report(analysis: Mapping[str, Any], breakdown: Mapping[str, Any], name: str) -> list[str]:
    """`motif coherence`'s lines: the score, then each group with its weight and each term with its evidence."""
    if breakdown["score"] is None:
        return [f"{name}: MCI needs at least two modalities; this pack has only {', '.join(breakdown['present'])}."]
    lines = [f"{name}: MCI {breakdown['score']:.3f}  ({breakdown['version']}; 0 = unrelated, 1 = in full agreement)",
             f"  present: {', '.join(breakdown['present'])}"
             + (f"; missing: {', '.join(breakdown['missing'])} (not scored)" if breakdown["missing"] else "")]
    for group, value in breakdown["groups"].items():
        lines.append(f"  {group:<10} {value:.3f}  (weight {breakdown['weights'][group]:.2f})")
        for t in (t for t in breakdown["terms"] if t["group"] == group):
            detail = "  ".join(f"{k}={_value(v)}" for k, v in t["detail"].items())
            lines.append(f"      {t['between']:<26} {t['score']:.3f}  {detail}")
    secs = analysis["seconds"]
    lines.append(f"  analysis took {secs['total']:.1f} s ("
                 + ", ".join(f"{k} {v:.1f} s" for k, v in secs.items() if k != "total") + ")")
    return lines
