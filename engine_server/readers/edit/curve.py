"""From shots to a curve of the shared latent: valence, arousal, tension, brightness and warmth per shot.

What the picture says, per shot (each value 0..1 unless noted; the formulas are what pack.json cites):

- motion = mean lightness difference between frames / 0.06 (a frame difference of 6 % of full lightness
  every frame is very fast action), clipped;
- pace = 1.5 s / shot length, clipped: quick cutting drives a cue as much as motion in the frame;
- brightness = (OKLab L − 0.2) / 0.65; warmth (−1..1) from the mean OKLab a, b (warm = +a +b);
  colourfulness = OKLab chroma / 0.2;
- arousal = 0.6 motion + 0.4 pace (pace alone when motion was not measured), minus up to 30 % under
  dialogue (the scene's words carry it);
- valence (−1..1) = 0.9 (brightness − 0.5) + 0.5 warmth × colourfulness: bright, warm, saturated
  pictures read as positive, dark and cold ones as negative;
- tension = 0.45 (1 − brightness) + 0.35 arousal + 0.2 coldness.

With a prompt, each value is 65 % picture and 35 % the prompt's latent ("seeded by the prompt"); without
one, the picture alone (colour fields fall back to the prompt's, or the neutral film latent's, value
when colour was not measured, as for an EDL). `fold` sets the latent's global fields from the curve's
duration-weighted means, the palette from the shots' colours, and the tempo from the arousal.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine_server.latent import Latent
from engine_server.readers.edit.timeline import Edit, Shot

CURVE_FIELDS = ("valence", "arousal", "tension", "brightness", "warmth")
PICTURE_SHARE = 0.65  # of each value, when a prompt seeds the curve
MOTION_FULL = 0.06
PACE_SHOT_S = 1.5
SOURCES = {
    "motion": "mean |ΔL| between consecutive frames (OKLab lightness) / 0.06, clipped 0..1",
    "pace": "1.5 s / shot length, clipped 0..1",
    "arousal": "0.6 motion + 0.4 pace (pace alone without motion), × (1 − 0.3 dialogue share)",
    "valence": "0.9 (brightness − 0.5) + 0.5 warmth × chroma/0.2, clipped −1..1",
    "tension": "0.45 (1 − brightness) + 0.35 arousal + 0.2 max(−warmth, 0)",
    "brightness": "(mean OKLab L − 0.2) / 0.65, clipped 0..1",
    "warmth": "(0.35 a + 0.65 b) / 0.08 of the mean OKLab colour, clipped −1..1",
    "blend": f"{PICTURE_SHARE:.0%} picture + {1 - PICTURE_SHARE:.0%} prompt latent when a prompt is given, "
             "else the picture alone; unmeasured colour fields keep the latent's value",
}


def _clip(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return float(min(max(x, lo), hi))


def picture_values(shot: Shot, seconds: float) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """(curve values from the picture alone, the measures behind them) for one shot."""
    pace = _clip(PACE_SHOT_S / max(seconds, 1e-6))
    motion = None if shot.motion is None else _clip(shot.motion / MOTION_FULL)
    arousal = (0.6 * motion + 0.4 * pace) if motion is not None else pace
    arousal *= 1.0 - 0.3 * shot.speech
    values: dict[str, float | None] = {"arousal": arousal, "valence": None, "tension": None, "brightness": None,
                                       "warmth": None}
    if shot.lightness is not None and shot.warmth is not None and shot.chroma is not None:
        bright = _clip((shot.lightness - 0.2) / 0.65)
        colourful = _clip(shot.chroma / 0.2)
        values["brightness"] = bright
        values["warmth"] = _clip(shot.warmth, -1.0, 1.0)
        values["valence"] = _clip(0.9 * (bright - 0.5) + 0.5 * shot.warmth * colourful, -1.0, 1.0)
        values["tension"] = _clip(0.45 * (1 - bright) + 0.35 * arousal + 0.2 * max(-shot.warmth, 0.0))
    measures = {"seconds": round(seconds, 4), "motion": None if motion is None else round(motion, 4),
                "pace": round(pace, 4), "speech": shot.speech}
    return values, measures


def latent_curve(edit: Edit, seed: Latent, prompted: bool) -> list[dict[str, Any]]:
    """One entry per shot: frames, seconds, name, the five values and where each came from."""
    out = []
    for i, shot in enumerate(edit.shots):
        seconds = float(shot.frames / edit.rate)
        pic, measures = picture_values(shot, seconds)
        values: dict[str, float] = {}
        source: dict[str, str] = {}
        for f in CURVE_FIELDS:
            base = float(getattr(seed, f))
            p = pic[f]
            if f == "tension" and p is None:  # no colour: tension follows the pace over the latent's level
                p = _clip(0.6 * base + 0.4 * float(pic["arousal"] or 0.0))
            if p is None:
                values[f], source[f] = base, "prompt" if prompted else "default"
            elif prompted:
                values[f] = PICTURE_SHARE * p + (1 - PICTURE_SHARE) * base
                source[f] = "picture+prompt"
            else:
                values[f], source[f] = p, "picture"
            values[f] = round(values[f], 4)
        out.append({"shot": i, "start_frame": shot.start, "end_frame": shot.end,
                    "start_s": round(float(shot.start / edit.rate), 6), "seconds": round(seconds, 6),
                    "name": shot.name, **values, "from": source, "measures": measures})
    return out


def weighted_mean(curve: list[dict[str, Any]], field: str) -> float:
    w = np.array([c["seconds"] for c in curve])
    v = np.array([c[field] for c in curve])
    return float((w * v).sum() / w.sum())


def picture_palette(edit: Edit, fallback: Latent) -> list[dict[str, Any]] | None:
    """5-7 colours of the whole edit (shot palettes weighted by shot length), or None without colour."""
    from engine_server.analysis.palette import kmeans_oklab
    from engine_server.oklab import hex_to_oklab, oklab_to_hex

    pts, wts = [], []
    for shot in edit.shots:
        for colour, part in shot.palette:
            pts.append(hex_to_oklab(colour))
            wts.append(part * shot.frames)
    if not pts:
        return None
    centres, shares = kmeans_oklab(np.array(pts), 6, np.array(wts))
    swatches = [{"color": oklab_to_hex(c), "weight": round(float(w), 6)} for c, w in zip(centres, shares, strict=True)]
    seen = {sw["color"] for sw in swatches}
    for s in fallback.palette:  # a two-colour edit still needs five swatches: the latent's fill in, lightly
        if len(swatches) >= 5:
            break
        if s.color not in seen:
            swatches.append({"color": s.color, "weight": 0.02})
            seen.add(s.color)
    return swatches[:7]


def fold_curve(latent: Latent, edit: Edit, curve: list[dict[str, Any]], prompted: bool,
               pinned: frozenset[str]) -> tuple[Latent, dict[str, Any]]:
    """The latent's global fields from the curve (means), palette and tempo; and what was set, for pack.json."""
    changes: dict[str, Any] = {}
    for f in CURVE_FIELDS:
        changes[f] = round(weighted_mean(curve, f), 4)
    arousal = changes["arousal"]
    picture_tempo = 62.0 + 88.0 * arousal  # calm 0.2 -> 80 BPM, action 0.85 -> 137 BPM
    changes["tempo_bpm"] = round(0.5 * picture_tempo + 0.5 * latent.tempo_bpm if prompted else picture_tempo, 2)
    if edit.picture_measured:
        palette = picture_palette(edit, latent)
        if palette:
            changes["palette"] = palette
        chroma = np.mean([s.chroma or 0.0 for s in edit.shots])
        changes["saturation"] = round(_clip(float(chroma) / 0.2), 4)
    if not prompted:
        valence = changes["valence"]
        changes["mode"] = "minor" if valence < 0.05 else "major"
        changes["ensemble"] = "cinematic_hybrid" if arousal >= 0.6 else "orchestral"
        changes["instruments"] = {"strings": 0.9, "brass": round(0.3 + 0.5 * arousal, 3), "woodwinds": 0.4,
                                  "percussion": round(arousal, 3), "piano": 0.3}
    changes = {k: v for k, v in changes.items() if k not in pinned}
    return latent.with_fields(changes), {k: v for k, v in changes.items() if k != "palette"}
